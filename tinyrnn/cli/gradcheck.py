"""``tinyrnn gradcheck``: finite differences against BPTT, one line per group."""

import argparse

from ..core.gradcheck import gradcheck
from ..core.heads import HEADS
from ..core.init import init_params
from ..core.model import CELLS, RNN
from ..core.rng import Rng

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "gradcheck",
        help="check BPTT gradients against finite differences",
        description="Check every parameter group's gradient against fourth-order centred finite "
        "differences on random small models: each head, many-to-many / many-to-one / masked, "
        "token and dense input (or one configuration with --x/--h/--y/--t/--head), for one cell "
        "(--cell rnn|gru|lstm) and depth (--layers).",
    )
    p.add_argument("--x", type=int, default=4, help="input size X (default 4)")
    p.add_argument("--h", type=int, default=5, help="hidden size H (default 5)")
    p.add_argument("--y", type=int, default=3, help="output size Y (default 3)")
    p.add_argument("--t", type=int, default=6, help="sequence length T (default 6)")
    p.add_argument("--cell", choices=CELLS, default="rnn", help="recurrent cell (default rnn)")
    p.add_argument("--layers", type=int, default=1, help="stacked layers (default 1)")
    p.add_argument("--head", choices=HEADS, help="only this head (default: all)")
    p.add_argument("--mode", choices=("many", "one", "masked"), help="only this loss mode (default: all)")
    p.add_argument("--input", choices=("token", "dense"), help="only this input kind (default: both)")
    p.add_argument("--seed", type=int, default=1, help="PRNG seed (default 1)")
    p.add_argument("--tol", type=float, default=1e-7, help="largest accepted relative error (default 1e-7)")
    p.set_defaults(func=run)


def random_case(model: RNN, rng: Rng, dense: bool, mode: str) -> "dict[str, Any]":
    """Inputs, targets and weights for one gradient check of ``model``."""
    X, Y, n = model.X, model.Y, model.T
    xs = [[rng.normal() for _ in range(X)] for _ in range(n)] if dense else [rng.below(X) for _ in range(n)]

    def target() -> object:
        if model.head == "softmax":
            return rng.below(Y)
        if model.head == "sigmoid":
            return [float(rng.below(2)) for _ in range(Y)]
        return [rng.normal() for _ in range(Y)]

    case = {"xs": xs}  # type: dict[str, Any]
    if mode == "one":
        case.update(targets=[target()], last_only=True)
    else:
        case["targets"] = [target() for _ in range(n)]
        if mode == "masked":  # a ragged sequence: the tail is padding
            keep = max(1, n - n // 3)
            case["weights"] = [1.0] * keep + [0.0] * (n - keep)
            case["h0"] = [rng.uniform(-0.5, 0.5) for _ in range(model.S)]  # h (and c) of every layer
    return case


def random_biases(model: RNN, rng: Rng) -> None:
    """Uniform weights, and nonzero biases (init leaves them 0), so every path is exercised."""
    init_params(model, rng.next_u64(), "uniform", 0.8)
    for name in model.layout.names:
        off, rows, cols = model.layout.groups[name]
        if not cols:
            for k in range(off, off + rows):
                model.params[k] = rng.uniform(-0.5, 0.5)


MODES = {"many": "many-to-many", "one": "many-to-one", "masked": "masked tail"}


def run(args: argparse.Namespace) -> int:
    for name in ("x", "h", "y", "t", "layers"):
        if getattr(args, name) < 1:
            raise ValueError("--%s must be at least 1" % name)
    heads = [args.head] if args.head else list(HEADS)
    modes = [args.mode] if args.mode else ["many", "one", "masked"]
    inputs = [args.input] if args.input else ["token", "dense"]
    worst = 0.0
    rng = Rng(args.seed)
    for head in heads:
        for mode in modes:
            for kind in inputs:
                model = RNN(args.x, args.h, args.y, args.t, head, args.cell, args.layers)
                random_biases(model, rng)
                errs = gradcheck(model, **random_case(model, rng, kind == "dense", mode))
                print(
                    "%s head, %s, %s input (%s, %d layer%s, X=%d H=%d Y=%d T=%d)"
                    % (head, MODES[mode], kind, args.cell, args.layers, "s" if args.layers > 1 else "", args.x, args.h, args.y, args.t)
                )
                for group, err in errs.items():
                    print("  %-5s relative error %.2e  %s" % (group, err, "ok" if err < args.tol else "FAIL"))
                    worst = max(worst, err)
    print("max relative error %.2e (tolerance %.0e): %s" % (worst, args.tol, "ok" if worst < args.tol else "FAIL"))
    return 0 if worst < args.tol else 1
