#!/usr/bin/env bash
# Checks what `make demo` and `make test` need; installs what is missing when it can
# (as root with apt-get and pip), else stops with the exact command to run.
# gguf and ml_dtypes serve only the Python tests and Examples/python/gguf_add_resonance.py:
# the resonance_rope package itself needs numpy alone.
set -u
missing_apt=()
command -v swift >/dev/null 2>&1 || { echo "ensure-deps: swift is not on PATH (Swift 6.3 toolchain, /opt/swift/usr/bin)"; exit 1; }
# The fuzz run of `make test` and `make fuzz`/`check-asan`/`check-tsan` use the Swift toolchain's own
# clang, lld and compiler-rt (libFuzzer, ASan, UBSan, TSan runtimes): nothing to install, but a
# stripped toolchain without them cannot run those checks.
swift_bin=$(dirname "$(command -v swift)")
if [ ! -x "$swift_bin/clang" ] || ! ls "$swift_bin"/../lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "ensure-deps: $swift_bin/clang or its libclang_rt.fuzzer is missing (the Swift toolchain for Linux ships both)"; exit 1
fi
command -v cc >/dev/null 2>&1 || missing_apt+=(gcc)
command -v g++ >/dev/null 2>&1 || missing_apt+=(g++)
command -v make >/dev/null 2>&1 || missing_apt+=(make)
command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)
command -v nm >/dev/null 2>&1 || missing_apt+=(binutils)
[ -f /usr/include/ffi.h ] || [ -f /usr/include/x86_64-linux-gnu/ffi.h ] || missing_apt+=(libffi-dev)
command -v python3 >/dev/null 2>&1 || missing_apt+=(python3 python3-pip)
if [ ${#missing_apt[@]} -gt 0 ]; then
  cmd="apt-get update && apt-get install -y ${missing_apt[*]}"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: installing ${missing_apt[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_apt[@]}") >/dev/null \
      || { echo "ensure-deps: failed; run: $cmd"; exit 1; }
  else
    echo "ensure-deps: missing ${missing_apt[*]}; run: sudo sh -c '$cmd'"; exit 1
  fi
fi
missing_pip=()
for mod in numpy:numpy pytest:pytest mpmath:mpmath gguf:gguf ml_dtypes:ml_dtypes; do
  python3 -c "import ${mod%%:*}" 2>/dev/null || missing_pip+=("${mod##*:}")
done
if [ ${#missing_pip[@]} -gt 0 ]; then
  echo "ensure-deps: pip installing ${missing_pip[*]}"
  python3 -m pip install -q "${missing_pip[@]}" \
    || { echo "ensure-deps: failed; run: python3 -m pip install ${missing_pip[*]}"; exit 1; }
fi
exit 0
