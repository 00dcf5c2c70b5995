"""``tinyrnn export --train``: the C trainer header (tinyrnn/export/c_train.py).

From a checkpoint (its weights are the initial weights, its T the BPTT
length unless ``--t``) or from ``--spec X,H,Y,T,HEAD[,INPUT]`` (weights from
``--init`` with ``--seed``, as ``tinyrnn train`` would start)::

    tinyrnn export model.json --train -o model_train.h
    tinyrnn export --train --spec 1,8,1,25,sigmoid,dense --seed 1 -o echo_train.h --name echo
"""

import argparse
import os

from ..core.init import SCHEMES, init_params
from ..core.model import RNN
from ..export.c import check_name
from ..export.c_train import parse_spec, ram_bytes, trainer_header
from ..workflow import checkpoint
from ..workflow.fileio import check_not_input, write_file


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("C trainer (--train)")
    g.add_argument("--train", action="store_true", help="write the C trainer header (forward, BPTT, clipping, SGD/Adam) instead of the inference header")
    g.add_argument("--spec", metavar="X,H,Y,T,HEAD[,INPUT]", help="with --train and no CKPT: dimensions, head and input kind (default dense), e.g. 1,8,1,25,sigmoid,dense")
    g.add_argument("--t", type=int, metavar="T", help="with --train: steps per forward/backward (default: the checkpoint's T)")
    g.add_argument("--seed", type=int, default=1, help="with --spec: initialisation seed (default 1)")
    g.add_argument("--init", choices=SCHEMES, default="xavier", help="with --spec: initialisation scheme (default xavier)")
    g.add_argument("--init-scale", type=float, default=1.0, help="with --spec: initialisation scale (default 1)")


def run(args: argparse.Namespace) -> int:
    name = check_name(args.name)
    if (args.checkpoint is None) == (args.spec is None):
        raise ValueError("--train needs exactly one of CKPT or --spec X,H,Y,T,HEAD[,INPUT]")
    if args.t is not None and args.t < 1:
        raise ValueError("--t must be at least 1, got %d" % args.t)
    if args.spec is not None:
        X, H, Y, T, head, kind = parse_spec(args.spec)
        model = RNN(X, H, Y, T, head)
        init_params(model, args.seed, args.init, args.init_scale)
        source = "spec %s, %s init, seed %d, scale %g" % (args.spec, args.init, args.seed, args.init_scale)
    else:
        ckpt = checkpoint.load(args.checkpoint)
        model, kind, source = ckpt.model, ckpt.input_kind, os.path.basename(args.checkpoint)
    check_not_input(args.output, [args.checkpoint])
    T = args.t if args.t is not None else model.T
    text = trainer_header(model, name, kind, T=T, progmem=args.progmem, source=source)
    write_file(args.output, text, [args.checkpoint], encoding="ascii")
    print(
        "%s: %s trainer  X=%d H=%d Y=%d T=%d  %s head, %s input  %d parameters, RAM <= %d bytes (SGD), %d (Adam)"
        % (args.output, name, model.X, model.H, model.Y, T, model.head, kind, model.num_params,
           ram_bytes(model.X, model.H, model.Y, T), ram_bytes(model.X, model.H, model.Y, T, True))
    )
    return 0
