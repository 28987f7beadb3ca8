"""The `resonance-rope` console script: runs the tool bundled in the package
(resonance_rope/_bin/resonance-rope) with the same arguments, exit status and output."""
import os
import sys

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "resonance-rope")


def main() -> None:
    if not os.path.isfile(TOOL):
        sys.stderr.write("resonance-rope: the tool is not bundled in this installation (%s is missing); "
                         "install a wheel from `make python-wheel` or build the repository with `make stage`\n"
                         % TOOL)
        sys.exit(127)
    os.execv(TOOL, [TOOL] + sys.argv[1:])


if __name__ == "__main__":
    main()
