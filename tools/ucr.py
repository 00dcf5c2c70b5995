#!/usr/bin/env python3
"""UCR/UEA time-series sets, read straight from the ``.ts`` files inside the aeon wheel.

The wheel (``pip download --no-deps aeon==1.6.0``) carries a few archive sets
as plain ``.ts`` files; we read them with ``zipfile`` and never import aeon.
The wheel is cached in ``$TINYRNN_UCR_CACHE`` (default ``.cache/ucr/`` in the
checkout, git-ignored); ``python3 tools/ucr.py fetch`` downloads it once
(tools/test-all.sh does, so a fresh machine has it).

    python3 tools/ucr.py fetch              download the wheel if it is not cached
    python3 tools/ucr.py extract DIR SET    write SET_TRAIN.ts and SET_TEST.ts into DIR
"""

import glob
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AEON = "aeon==1.6.0"
WHEEL = "aeon-1.6.0-py3-none-any.whl"
SETS = ("ItalyPowerDemand", "GunPoint", "BasicMotions", "JapaneseVowels")


def cache_dir() -> str:
    return os.environ.get("TINYRNN_UCR_CACHE") or os.path.join(ROOT, ".cache", "ucr")


def wheel_path() -> str:
    """Path of the cached wheel ('' when it is not there)."""
    p = os.path.join(cache_dir(), WHEEL)
    return p if os.path.isfile(p) else ""


def fetch() -> str:
    """The cached wheel, downloaded with pip first if needed."""
    p = wheel_path()
    if p:
        return p
    os.makedirs(cache_dir(), exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", AEON, "-d", cache_dir()], check=True)
    p = wheel_path()
    if not p:
        found = glob.glob(os.path.join(cache_dir(), "aeon-*.whl"))
        raise RuntimeError("pip download %s left no %s in %s (found %s)" % (AEON, WHEEL, cache_dir(), found))
    return p


def read(name: str, split: str, wheel: str = "") -> bytes:
    """The bytes of ``NAME_SPLIT.ts`` (split TRAIN or TEST) from the wheel."""
    with zipfile.ZipFile(wheel or fetch()) as z:
        return z.read("aeon/datasets/data/%s/%s_%s.ts" % (name, name, split))


def extract(dest: str, name: str, wheel: str = "") -> "tuple[str, str]":
    """Write NAME_TRAIN.ts and NAME_TEST.ts into ``dest``; return their paths."""
    os.makedirs(dest, exist_ok=True)
    out = []
    for split in ("TRAIN", "TEST"):
        p = os.path.join(dest, "%s_%s.ts" % (name, split))
        with open(p, "wb") as f:
            f.write(read(name, split, wheel))
        out.append(p)
    return out[0], out[1]


if __name__ == "__main__":
    if sys.argv[1:2] == ["fetch"]:
        print(fetch())
    elif sys.argv[1:2] == ["extract"] and len(sys.argv) == 4:
        print("\n".join(extract(sys.argv[2], sys.argv[3])))
    else:
        sys.exit(__doc__)
