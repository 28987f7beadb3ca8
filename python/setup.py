"""Only for `make python-wheel`: a wheel that bundles libresonance_rope.so.0 is tagged for the
platform (it holds machine code) instead of py3-none-any. Without the bundled library the
package is pure Python. Everything else is in pyproject.toml."""
import os

from setuptools import Distribution, setup

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel

BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resonance_rope", "libresonance_rope.so.0")


class BundledLibrary(Distribution):
    def has_ext_modules(self):          # makes the wheel platlib and platform-tagged
        return os.path.exists(BUNDLED)


class PlatformWheel(bdist_wheel):
    def get_tag(self):                  # any Python 3, no ABI: the library has a plain C ABI
        python, abi, plat = super().get_tag()
        if os.path.exists(BUNDLED):
            return "py3", "none", plat
        return python, abi, plat


setup(distclass=BundledLibrary, cmdclass={"bdist_wheel": PlatformWheel})
