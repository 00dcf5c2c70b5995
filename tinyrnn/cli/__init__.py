"""The ``tinyrnn`` command line: ``tinyrnn COMMAND --help`` for each command.

Every command lives in its own module of this package and exposes
``add_parser(subparsers)``, which registers it and sets ``func`` (taking the
parsed arguments, returning the exit status). Bad input ends with a one-line
message on stderr and exit status 2, never a traceback.
"""

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

from .. import __version__
from . import calibrate as _calibrate
from . import check as _check
from . import eval as _eval
from . import export as _export
from . import gradcheck as _gradcheck
from . import info as _info
from . import sample as _sample
from . import train as _train
from ..workflow import limits

COMMANDS = [_gradcheck, _train, _sample, _eval, _info, _export, _check, _calibrate]


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyrnn", description="Train a small RNN in plain Python, check its gradients, export it to C.")
    parser.add_argument("--version", action="version", version="tinyrnn " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    for p in sub.choices.values():
        p.add_argument(
            "--limit", action="append", metavar="NAME=VALUE",
            help="raise a resource limit: X, Y, H, T, params or memory (e.g. --limit H=8192 --limit memory=16G); see docs/training.md",
        )
    return parser


def one_line(e: BaseException) -> str:
    """The message of ``e`` on one line (a path or value with a newline in it is shown escaped)."""
    text = str(e)
    if "\n" in text or "\r" in text:
        text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text


def main(argv: "Optional[List[str]]" = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        limits.configure(getattr(args, "limit", None))
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `tinyrnn info m.json | head`: the reader left, nothing to report
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except (UsageError, ValueError, OSError, OverflowError) as e:
        print("tinyrnn %s: error: %s" % (args.command, one_line(e)), file=sys.stderr)
        return 2
    except MemoryError:
        print("tinyrnn %s: error: out of memory; use smaller sizes or files (limits: see --limit)" % args.command, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinyrnn %s: interrupted" % args.command, file=sys.stderr)
        return 130
