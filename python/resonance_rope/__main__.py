"""``python -m resonance_rope``: prints the package and library versions and the library's path."""
import sys

from . import __version__
from ._lib import LibraryNotFoundError, library


def main() -> int:
    print("resonance_rope %s (Python package)" % __version__)
    try:
        lib = library()
    except LibraryNotFoundError as e:
        print(e, file=sys.stderr)
        return 1
    print("library %s at %s" % (lib.version, lib.path))
    print("float16/bfloat16 rotation: %s" % ("yes" if not lib.missing else "no (missing %s)" % ", ".join(lib.missing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
