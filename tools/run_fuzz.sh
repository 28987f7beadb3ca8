#!/usr/bin/env bash
# Runs the libFuzzer harness for a fixed time and prints a short summary.
#   tools/run_fuzz.sh FUZZER SECONDS WORK_CORPUS SEED_CORPUS
#   tools/run_fuzz.sh FUZZER runs=N WORK_CORPUS SEED_CORPUS      (N inputs, log fuzz-long.log)
# New inputs go to WORK_CORPUS (not committed); SEED_CORPUS (Tests/fuzz/corpus) is only read.
# The full libFuzzer log is WORK_CORPUS/../fuzz.log; a crashing input is saved next to it as
# crash-<sha1> and its report is printed.
set -u
fuzzer=$1 seconds=$2 work=$3 seeds=$4
out=$(dirname "$work")
mkdir -p "$work"
log="$out/fuzz.log"
limit=(-max_total_time="$seconds")
if [[ $seconds == runs=* ]]; then
  limit=(-runs="${seconds#runs=}")
  log="$out/fuzz-long.log"
fi
start=$(date +%s)
# Swift's crash backtracer would intercept the sanitizers' signals; leaks are checked per input.
SWIFT_BACKTRACE=enable=no "$fuzzer" "${limit[@]}" -max_len=1024 -timeout=20 -rss_limit_mb=3072 \
  -print_final_stats=1 -artifact_prefix="$out/" "$work" "$seeds" >"$log" 2>&1
rc=$?
seconds=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
if [ "$rc" -eq 0 ] && ! grep -q 'ERROR: libFuzzer\|SUMMARY: .*Sanitizer' "$log"; then
  echo "fuzz_abi: ${execs:-0} inputs in ${seconds} s (${secs:-0}/s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds), no crash"
  echo "fuzz_abi: ${execs:-0} passed, 0 failed"
  exit 0
fi
grep -E 'fuzz_abi:|ERROR|SUMMARY|runtime error|^    #[0-9] ' "$log" | head -30
ls -t "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | head -1 | sed 's/^/fuzz_abi: reproduce with: FUZZER /'
echo "fuzz_abi: ${execs:-0} passed, 1 failed"
exit 1
