#!/usr/bin/env python3
"""Export a checkpoint to a C99 header: the same as ``tinyrnn export``.

    python3 tools/export.py CKPT -o model.h [--name NAME] [--progmem]
    python3 tools/export.py CKPT --arduino DIR [--name NAME]
    python3 tools/export.py CKPT --format micropython -o model.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinyrnn.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["export"] + sys.argv[1:]))
