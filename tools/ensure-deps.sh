#!/usr/bin/env bash
# The project's own environment. Usage: tools/ensure-deps.sh GROUP...   (make deps / deps-demo / ...)
#
# GROUP is the name of a requirement file tools/requirements/GROUP.txt; "demo" and "test" also
# name the system tools their make targets use. Nothing outside the checkout is modified, except
# by apt-get for a missing system tool when run as root (otherwise the exact command is printed):
#   - Python packages go into the virtual environment .venv/ at the repo root (git-ignored), made
#     with the first python3 on PATH that can make one (Debian's /usr/bin/python3 needs the apt
#     package python3-venv for that). The global site-packages are never touched.
#   - A group is installed once: .venv/.installed-GROUP holds the hash of its requirement file and
#     of the interpreter, and a later call with both unchanged does nothing (no network).
#   - PYTHON=/some/python (make PYTHON=...) means "use that interpreter as it is": nothing is
#     installed; the script only says which of the group's modules that interpreter lacks.
#   - No GROUP: only make sure .venv exists (the stdlib-only tools, e.g. `make header`).
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
reqdir="$root/tools/requirements"
say() { echo "ensure-deps: $*"; }
die() { echo "ensure-deps: $*" >&2; exit 1; }

# ---- system tools ------------------------------------------------------------------------------
# install_apt PKG...: apt-get as root, else the exact command to run.
install_apt() {
  local cmd="apt-get update && apt-get install -y $*"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $* (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >/dev/null \
      || die "apt-get failed; run: $cmd"
  else
    die "missing $*; run: sudo sh -c '$cmd'"
  fi
}
need_demo=0; need_test=0
for g in "$@"; do case "$g" in demo) need_demo=1 ;; test) need_demo=1; need_test=1 ;; esac; done
missing_apt=()
if [ $need_demo = 1 ]; then
  command -v swift >/dev/null 2>&1 || die "swift is not on PATH (Swift 6.3 toolchain, e.g. export PATH=/opt/swift/usr/bin:\$PATH)"
  command -v cc >/dev/null 2>&1 || missing_apt+=(gcc)
  command -v make >/dev/null 2>&1 || missing_apt+=(make)
  command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)
fi
if [ $need_test = 1 ]; then
  # The fuzz run of `make test` and `make fuzz`/`check-asan`/`check-tsan` use the Swift toolchain's
  # own clang, lld and compiler-rt (libFuzzer, ASan, UBSan, TSan runtimes): nothing to install, but
  # a stripped toolchain without them cannot run those checks.
  swift_bin=$(dirname "$(command -v swift)")
  if [ ! -x "$swift_bin/clang" ] || ! ls "$swift_bin"/../lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    die "$swift_bin/clang or its libclang_rt.fuzzer is missing (the Swift toolchain for Linux ships both)"
  fi
  command -v g++ >/dev/null 2>&1 || missing_apt+=(g++)
  command -v nm >/dev/null 2>&1 || missing_apt+=(binutils)
  [ -f /usr/include/ffi.h ] || [ -f /usr/include/x86_64-linux-gnu/ffi.h ] || missing_apt+=(libffi-dev)
fi
[ ${#missing_apt[@]} -eq 0 ] || install_apt "${missing_apt[@]}"

# ---- the requirement files of the groups --------------------------------------------------------
groups=()
for name in "$@"; do
  [ -f "$reqdir/$name.txt" ] || die "no requirement file tools/requirements/$name.txt (groups: $(cd "$reqdir" && ls *.txt | sed 's/\.txt$//' | paste -sd' '))"
  groups+=("$name")
done

# ---- PYTHON given: check, never install ---------------------------------------------------------
if [ -n "${PYTHON:-}" ] && [ "$(realpath -sm "$PYTHON")" != "$venv/bin/python" ]; then
  missing=()
  for name in "${groups[@]}"; do
    # Requirement lines "name[extra]>=1.2  # comment": the module is the name with - as _
    # (options such as --extra-index-url are skipped).
    for mod in $(sed -e 's/#.*//' -e '/^[[:space:]]*-/d' -e 's/[][<>=!~;, ].*//' "$reqdir/$name.txt" | tr '-' '_'); do
      "$PYTHON" -c "import $mod" 2>/dev/null || missing+=("$mod")
    done
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  die "PYTHON=$PYTHON lacks ${missing[*]} (without PYTHON=..., make uses .venv/, which it fills itself)"
fi

# ---- the virtual environment --------------------------------------------------------------------
# A venv survives only while its base interpreter does (pyenv versions come and go): recreate it
# when .venv/bin/python no longer runs.
if [ -e "$venv" ] && ! "$venv/bin/python" -c "import sys" >/dev/null 2>&1; then
  say "$venv is broken (its interpreter no longer runs): recreating it"
  rm -rf "$venv"
fi
if [ ! -e "$venv" ]; then
  # The first python3 on PATH that is >= 3.9 (numpy's floor) and has the venv module with ensurepip.
  if ! type -ap python3 >/dev/null && command -v dpkg >/dev/null 2>&1; then install_apt python3 python3-venv; fi
  base=""
  for py in $(type -ap python3); do
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null || continue
    if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      # Debian/Ubuntu ship venv's ensurepip in separate packages.
      ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
      if [ "$(readlink -f "$py")" = "$(readlink -f /usr/bin/python3)" ] && command -v dpkg >/dev/null 2>&1; then
        install_apt python3-venv "python$ver-venv"
        "$py" -c 'import venv, ensurepip' 2>/dev/null || continue
      else
        say "skipping $py: it has no venv/ensurepip module"; continue
      fi
    fi
    base=$py; break
  done
  [ -n "$base" ] || die "no python3 >= 3.9 with the venv module on PATH (Debian/Ubuntu: apt-get install python3-venv)"
  say "creating .venv with $base ($("$base" --version 2>&1))"
  "$base" -m venv "$venv" || { rm -rf "$venv"; die "could not create .venv: $base -m venv $venv failed"; }
fi

# ---- install each group once --------------------------------------------------------------------
pyid=$("$venv/bin/python" -c 'import sys; print(sys.version)' | tr -d '\n')
for name in "${groups[@]}"; do
  stamp="$venv/.installed-$name"
  want=$( { cat "$reqdir/$name.txt"; echo "$pyid"; } | sha256sum | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && continue
  say "installing tools/requirements/$name.txt into .venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install -q -r "$reqdir/$name.txt" \
    || die "pip failed; run: $venv/bin/python -m pip install -r tools/requirements/$name.txt"
  echo "$want" > "$stamp"
done
exit 0
