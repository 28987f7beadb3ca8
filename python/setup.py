"""Bundles the native parts into every build of the package (wheel or `pip install ./python`):
libresonance_rope.so.0 next to the modules and the `resonance-rope` tool as
resonance_rope/_bin/resonance-rope (run by the console script of the same name). So an installed
package never depends on a checkout, an environment variable or the system loader.

Where the two files come from, in order:
1. $RESONANCE_ROPE_BUNDLE: an install prefix holding lib/libresonance_rope.so.0 and
   bin/resonance-rope (what `make install PREFIX=...` writes);
2. the checkout this folder belongs to: its stage/ (`make stage`), else its release build
   (.build-release/release, `make build`);
3. neither: `make -C <checkout> stage` is run when `swift` is on PATH (a release build, about
   1-2 minutes), else the build stops saying what to run.
The wheel holds machine code, so it is tagged for the platform (py3-none-linux_x86_64; `make
python-wheel` then gives it its manylinux tag with auditwheel). Everything else is in pyproject.toml.
"""
import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIB, CLI = "libresonance_rope.so.0", "resonance-rope"


def _is_checkout(root):
    return os.path.isfile(os.path.join(root, "Package.swift")) and os.path.isfile(
        os.path.join(root, "Include", "resonance_rope.h"))


def _candidates():
    env = os.environ.get("RESONANCE_ROPE_BUNDLE")
    if env:
        yield "$RESONANCE_ROPE_BUNDLE", os.path.join(env, "lib", LIB), os.path.join(env, "bin", CLI)
        return
    if _is_checkout(ROOT):
        yield "stage", os.path.join(ROOT, "stage", "lib", LIB), os.path.join(ROOT, "stage", "bin", CLI)
        rel = os.path.join(ROOT, ".build-release", "release")
        yield "release build", os.path.join(rel, "libresonance_rope.so"), os.path.join(rel, CLI)


def native_files():
    """(library, tool) paths to bundle; builds them when the checkout has none yet."""
    tried = []
    for where, lib, cli in _candidates():
        if os.path.isfile(lib) and os.path.isfile(cli):
            return lib, cli
        tried.append("%s (%s, %s)" % (where, lib, cli))
    if not os.environ.get("RESONANCE_ROPE_BUNDLE") and _is_checkout(ROOT) and shutil.which("swift"):
        print("resonance-rope: no built library in %s; running `make -C %s stage`" % (ROOT, ROOT))
        subprocess.check_call(["make", "-C", ROOT, "--no-print-directory", "stage"])
        return os.path.join(ROOT, "stage", "lib", LIB), os.path.join(ROOT, "stage", "bin", CLI)
    raise SystemExit(
        "resonance-rope: the package bundles libresonance_rope and the resonance-rope tool, and neither "
        "was found (looked in: %s). Build them first with `make stage` in the repository (Swift 6.3 on "
        "PATH), or set RESONANCE_ROPE_BUNDLE to an install prefix (`make install PREFIX=...`)."
        % ("; ".join(tried) or "no checkout around %s and no $RESONANCE_ROPE_BUNDLE" % HERE))


class BundleNative(build_py):
    def run(self):
        super().run()
        lib, cli = native_files()
        pkg = os.path.join(self.build_lib, "resonance_rope")
        os.makedirs(os.path.join(pkg, "_bin"), exist_ok=True)
        shutil.copyfile(lib, os.path.join(pkg, LIB))
        shutil.copyfile(cli, os.path.join(pkg, "_bin", CLI))
        os.chmod(os.path.join(pkg, LIB), 0o755)
        os.chmod(os.path.join(pkg, "_bin", CLI), 0o755)


class NativeDistribution(Distribution):
    def has_ext_modules(self):          # machine code inside: platlib, platform-tagged wheel
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):                  # any Python 3, no Python ABI: the library has a plain C ABI
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=NativeDistribution, cmdclass={"build_py": BundleNative, "bdist_wheel": PlatformWheel})
