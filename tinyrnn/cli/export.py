"""``tinyrnn export CKPT -o model.h``: a checkpoint as a self-contained C99 header."""

import argparse
import os
import sys

from ..workflow import checkpoint
from ..export.c import check_name, header_from_checkpoint
from ..workflow.fileio import check_not_input, write_file
from ..export import c_int, micropython, micropython_int
from ..workflow import quant
from .eval import add_quant_options, sequence_reader
from ..export.arduino import check_directory, write_library
from ..workflow.datasets import is_sequence_file, read_sequences

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Optional

STDOUT_PATHS = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
from . import export_train


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "export",
        help="write a checkpoint as a C99 header (or a MicroPython module) with a step function",
        description="Write the model of checkpoint CKPT as one self-contained C99 header: float32 "
        "weights that read back exactly, the vocabulary as code points, metadata #defines and an "
        "allocation-free runtime (NAME_reset, NAME_step, NAME_step_token, NAME_output, NAME_argmax; "
        "NAME_vocab_at, NAME_token_of for char models; NAME_rng_next, NAME_sample for softmax heads). "
        "With --arduino DIR: an Arduino/PlatformIO library around that header with a demo sketch (docs/arduino.md). "
        "--format micropython writes one standalone MicroPython module instead (docs/export.md).",
    )
    p.add_argument("checkpoint", metavar="CKPT", nargs="?", help="checkpoint file (tinyrnn train)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "-o", "--output", metavar="FILE",
        help="header to write, e.g. model.h (micropython: NAME.py; - for standard output; a symlink is written through; never one of the inputs)",
    )
    add_arduino_option(where)
    p.add_argument(
        "--format",
        choices=("c", "micropython"),
        default="c",
        help="c: a C99 header (default); micropython: one standalone module NAME.py (compile it with mpy-cross for a .mpy)",
    )
    p.add_argument("--name", default="model", help="C identifier prefixing every name in the header (default: model)")
    p.add_argument(
        "--progmem",
        action="store_true",
        help="on AVR, keep the weights in flash (PROGMEM) by default; without it, define NAME_USE_PROGMEM when compiling",
    )
    export_train.add_arguments(p)
    add_quant_options(p, "export")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.quant is not None and args.train:
        raise ValueError("--quant exports the inference step; --train writes the float trainer")
    if args.train:
        if args.output is None or args.format != "c":
            raise ValueError("--train writes one C header: give -o FILE, without --arduino or --format micropython")
        return export_train.run(args)
    if args.checkpoint is None:
        raise ValueError("CKPT is required (--spec only goes with --train)")
    if args.calibration is not None and args.quant is None:
        raise ValueError("--calibration goes with --quant")
    if args.quant is not None and getattr(args, "arduino", None) is not None:
        raise ValueError("--quant writes a header or a MicroPython module (-o), not an Arduino library")
    if args.format == "micropython":
        return run_micropython(args)
    name = check_name(args.name)  # before the (possibly slow) load
    if getattr(args, "arduino", None) is not None:
        return run_arduino(args, name)
    if args.quant is not None:
        return run_quant(args, name)
    to_stdout = args.output in STDOUT_PATHS
    check_not_input(args.output, [args.checkpoint])
    ckpt = checkpoint.load(args.checkpoint)
    filename = name + ".h" if to_stdout else os.path.basename(args.output)
    text = header_from_checkpoint(ckpt, name=name, progmem=args.progmem, source=os.path.basename(args.checkpoint), filename=filename)
    write_file(args.output, text, [args.checkpoint], encoding="ascii")
    m = ckpt.model
    print(
        "%s: %s  X=%d H=%d Y=%d  %d parameters, %d bytes of weights"
        % (args.output, name, m.X, m.H, m.Y, m.num_params, 4 * m.num_params),
        file=sys.stderr if to_stdout else sys.stdout,
    )
    return 0


def run_micropython(args: argparse.Namespace) -> int:
    if args.name != "model" or args.progmem or args.output is None:
        raise ValueError("--name, --progmem and --arduino are for --format c; a MicroPython module is named by its file (-o NAME.py)")
    micropython.check_module_path(args.output)  # before the (possibly slow) load
    check_not_input(args.output, [args.checkpoint])
    ckpt = checkpoint.load(args.checkpoint)
    if args.quant is not None:
        qm, _, where = quant.quantize_checkpoint(ckpt, args.quant, args.calibration, sequence_reader(ckpt))
        text = micropython_int.module(qm, ckpt.model, vocab=ckpt.vocab, step=ckpt.step, source=os.path.basename(args.checkpoint))
        write_file(args.output, text, [args.checkpoint], encoding="ascii")
        print("%s: MicroPython %s module (%s)" % (args.output, args.quant, where))
        return 0
    text = micropython.module_from_checkpoint(ckpt, source=os.path.basename(args.checkpoint))
    write_file(args.output, text, [args.checkpoint], encoding="ascii")
    m = ckpt.model
    print(
        "%s: MicroPython module  X=%d H=%d Y=%d  %d parameters, %d bytes of weights"
        % (args.output, m.X, m.H, m.Y, m.num_params, 4 * m.num_params)
    )
    return 0


def run_quant(args: argparse.Namespace, name: str) -> int:
    to_stdout = args.output in STDOUT_PATHS
    check_not_input(args.output, [args.checkpoint])
    ckpt = checkpoint.load(args.checkpoint)
    qm, cal, where = quant.quantize_checkpoint(ckpt, args.quant, args.calibration, sequence_reader(ckpt))
    filename = name + ".h" if to_stdout else os.path.basename(args.output)
    text = c_int.header(
        qm, ckpt.model, name, vocab=ckpt.vocab, step=ckpt.step, metrics=ckpt.metrics, progmem=args.progmem,
        source=os.path.basename(args.checkpoint), filename=filename, calibration=cal,
    )
    write_file(args.output, text, [args.checkpoint], encoding="ascii")
    m = ckpt.model
    print(
        "%s: %s %s  X=%d H=%d Y=%d  %d bytes of weights (%s)"
        % (args.output, name, args.quant, m.X, m.H, m.Y, c_int.weight_bytes(qm), where),
        file=sys.stderr if to_stdout else sys.stdout,
    )
    return 0


# ------------------------------------------------------------ --arduino DIR
def add_arduino_option(group: "argparse._MutuallyExclusiveGroup") -> None:
    group.add_argument(
        "--arduino",
        metavar="DIR",
        help="write an Arduino/PlatformIO library into DIR (new or empty): library.properties, library.json, "
        "keywords.txt, src/NAME.h (weights in flash on AVR) and examples/NAME_demo/NAME_demo.ino",
    )


def training_samples(ckpt: "checkpoint.Checkpoint") -> "Optional[List[Any]]":
    """The input series of the checkpoint's training file, if it is a readable sequence file (else None)."""
    path = ckpt.config.get("data") if isinstance(ckpt.config, dict) else None
    if not isinstance(path, str) or ckpt.vocab is not None or not is_sequence_file(path):
        return None
    try:
        ds = read_sequences(path, ckpt.model.X if ckpt.input_kind == "token" else None)
    except (OSError, ValueError):
        return None
    if ds.input_kind != ckpt.input_kind or (ds.input_kind == "dense" and ds.X != ckpt.model.X):
        return None
    return [e.xs for e in ds.examples]


def run_arduino(args: argparse.Namespace, name: str) -> int:
    check_directory(args.arduino)  # before the load
    ckpt = checkpoint.load(args.checkpoint)
    samples = training_samples(ckpt)
    files = write_library(ckpt, args.arduino, name, samples=samples, source=os.path.basename(args.checkpoint))
    m = ckpt.model
    print("%s: Arduino library %s  X=%d H=%d Y=%d  %d parameters; %s" % (args.arduino, name, m.X, m.H, m.Y, m.num_params, ", ".join(files)))
    return 0
