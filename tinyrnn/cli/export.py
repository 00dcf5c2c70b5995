"""``tinyrnn export CKPT -o model.h``: a checkpoint as a self-contained C99 header."""

import argparse
import os
import sys

from ..workflow import checkpoint
from ..export.c import check_name, header_from_checkpoint
from ..workflow.fileio import check_not_input, write_file


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "export",
        help="write a checkpoint as a C99 header with a step function",
        description="Write the model of checkpoint CKPT as one self-contained C99 header: float32 "
        "weights that read back exactly, the vocabulary as code points, metadata #defines and an "
        "allocation-free runtime (NAME_reset, NAME_step, NAME_step_token, NAME_output, NAME_argmax).",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="checkpoint file (tinyrnn train)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="header to write, e.g. model.h (- for standard output; a symlink is written through; never one of the inputs)")
    p.add_argument("--name", default="model", help="C identifier prefixing every name in the header (default: model)")
    p.add_argument(
        "--progmem",
        action="store_true",
        help="on AVR, keep the weights in flash (PROGMEM) by default; without it, define NAME_USE_PROGMEM when compiling",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    name = check_name(args.name)  # before the (possibly slow) load
    check_not_input(args.output, [args.checkpoint])
    ckpt = checkpoint.load(args.checkpoint)
    text = header_from_checkpoint(ckpt, name=name, progmem=args.progmem, source=os.path.basename(args.checkpoint))
    write_file(args.output, text, [args.checkpoint], encoding="ascii")
    m = ckpt.model
    print(
        "%s: %s  X=%d H=%d Y=%d  %d parameters, %d bytes of weights"
        % (args.output, name, m.X, m.H, m.Y, m.num_params, 4 * m.num_params),
        file=sys.stderr if args.output in ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1") else sys.stdout,
    )
    return 0
