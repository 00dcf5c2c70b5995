"""``tinyrnn info CKPT``: what a checkpoint holds and what it costs on a device."""

import argparse

from ..workflow.checkpoint import load


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "info",
        help="show a checkpoint's dimensions, size and last metrics",
        description="Dimensions, parameter count, float32 flash bytes (the weights), state RAM bytes "
        "(the hidden state h, plus the logits buffer z for a step call), training step and last metrics.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a model.json written by tinyrnn train")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ckpt = load(args.checkpoint)
    m = ckpt.model
    print("checkpoint   %s" % args.checkpoint)
    print("dims         X=%d H=%d Y=%d T=%d" % (m.X, m.H, m.Y, m.T))
    print("cell         %s, %d layer%s" % (m.cell, m.layers, "s" if m.layers > 1 else ""))
    print("head         %s, %s input%s" % (m.head, ckpt.input_kind, ", vocabulary of %d characters" % len(ckpt.vocab) if ckpt.vocab else ""))
    print("parameters   %d" % m.num_params)
    if ckpt.classes is not None:
        print("classes      %s" % ", ".join(repr(c) for c in ckpt.classes))
    if ckpt.normalize is not None:
        print("normalize    %s" % ("per series (z-score each series)" if ckpt.normalize["mode"] == "series" else
                                   "per channel: mean %s, std %s" % (", ".join("%.6g" % v for v in ckpt.normalize["mean"]),
                                                                    ", ".join("%.6g" % v for v in ckpt.normalize["std"]))))
    print("flash        %d bytes as float32 weights" % (4 * m.num_params))
    what = ("h, H float32", "H+Y") if m.vanilla else ("h%s of %d layer(s), %d float32" % (" and c" if m.cell == "lstm" else "", m.layers, m.S), "+Y")
    print("state RAM    %d bytes (%s); %d bytes with the logits z (%s float32)" % (4 * m.S, what[0], 4 * (m.S + m.Y), what[1]))
    print("step         %d%s" % (ckpt.step, " (optimiser %s)" % ckpt.optimizer.get("name") if isinstance(ckpt.optimizer, dict) else ""))
    if ckpt.metrics:
        keys = ("train_loss", "eval_loss", "eval_bpc", "eval_acc", "mean_abs_h", "sat_ratio", "dh_norm", "dh_raw_norm", "grad_norm", "update_ratio")
        shown = ["%s %.4g" % (k, ckpt.metrics[k]) for k in keys if isinstance(ckpt.metrics.get(k), (int, float))]
        print("last metrics %s" % ", ".join(shown))
    else:
        print("last metrics (none)")
    return 0
