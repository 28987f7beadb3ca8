#!/usr/bin/env bash
# Runs the libFuzzer harness for a fixed time and prints a short summary.
#   tools/run_fuzz.sh FUZZER SECONDS WORK_CORPUS SEED_CORPUS
#   tools/run_fuzz.sh FUZZER runs=N WORK_CORPUS SEED_CORPUS      (N inputs, log fuzz-long.log)
# New inputs go to WORK_CORPUS (not committed); SEED_CORPUS (Tests/fuzz/corpus) is only read.
# FUZZ_JOBS fuzzing processes (default: one per CPU) share WORK_CORPUS (libFuzzer -jobs, each
# reloading the others' finds); SECONDS is each one's time, runs=N is split between them. Their
# logs are WORK_CORPUS/../fuzz-JOB.log, with a summary in WORK_CORPUS/../fuzz.log (fuzz-long.log);
# a crashing input is saved next to them as crash-<sha1> and its report is printed.
set -u
fuzzer=$(realpath "$1") seconds=$2 work=$(realpath -m "$3") seeds=$(realpath "$4")
out=$(dirname "$work")
mkdir -p "$work"
jobs=${FUZZ_JOBS:-$(nproc)}
log="$out/fuzz.log"
limit=(-max_total_time="$seconds")
if [[ $seconds == runs=* ]]; then
  runs=${seconds#runs=}
  limit=(-runs="$(( (runs + jobs - 1) / jobs ))")
  log="$out/fuzz-long.log"
fi
rm -f "$out"/fuzz-[0-9]*.log
start=$(date +%s)
# Swift's crash backtracer would intercept the sanitizers' signals; leaks are checked per input.
# libFuzzer writes each job's log to fuzz-JOB.log in the current directory. -entropic=0: the
# entropic schedule's rare-feature bookkeeping (InputCorpus::AddRareFeature) was 24 % of the CPU
# time with this harness's ~35 000 features (perf, cpu-clock): the classic schedule runs 12-25 %
# more inputs per second; coverage in 20 s runs was the same (cov 6824 vs 6826). -reload=30: the
# jobs pick up each other's finds every 30 s, not every second (the default rescans stat'ed the
# whole work corpus each second: 17,268 newfstatat calls in 4 s with 11,331 files).
(cd "$out" && SWIFT_BACKTRACE=enable=no "$fuzzer" -jobs="$jobs" -workers="$jobs" -entropic=0 -reload=30 "${limit[@]}" -max_len=1024 \
  -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$out/" "$work" "$seeds") >"$log" 2>&1
rc=$?
seconds=$(( $(date +%s) - start ))
execs=0
for f in "$out"/fuzz-[0-9]*.log; do
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$f" | tail -1)
  execs=$(( execs + ${n:-0} ))
done
cov=$(cat "$out"/fuzz-[0-9]*.log | grep -oE 'cov: [0-9]+' | sort -t' ' -k2 -n | tail -1)
rate=$(( execs / (seconds > 0 ? seconds : 1) ))
summary="fuzz_abi: ${execs} inputs in ${seconds} s wall on ${jobs} processes (${rate}/s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds)"
if [ "$rc" -eq 0 ] && ! cat "$out"/fuzz-[0-9]*.log | grep -q 'ERROR: libFuzzer\|SUMMARY: .*Sanitizer\|==ERROR'; then
  echo "$summary, no crash" | tee -a "$log"
  echo "fuzz_abi: ${execs} passed, 0 failed"
  exit 0
fi
cat "$out"/fuzz-[0-9]*.log | grep -E 'fuzz_abi:|ERROR|SUMMARY|runtime error|^    #[0-9] ' | head -30
ls -t "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | head -1 | sed 's/^/fuzz_abi: reproduce with: FUZZER /'
echo "$summary, FAILED (exit $rc)" | tee -a "$log"
echo "fuzz_abi: ${execs} passed, 1 failed"
exit 1
