"""``python -m privsynth``: the same as the ``privsynth`` command."""

import sys

from privsynth.cli import main

if __name__ == "__main__":
    sys.exit(main())
