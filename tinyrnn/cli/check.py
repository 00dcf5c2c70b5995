"""``tinyrnn check DUMP``: is your hand-written BPTT right? If not, which known mistake is it?"""

import argparse
import json

from ..check.verdict import DEFAULT_TOL, MISTAKES, check, report
from ..check.dump import helper_header, load
from ..workflow.fileio import write_file


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "check",
        help="check the gradients your own C RNN computed (a dump) and name the mistake",
        description="Read a gradient dump written by your program (format: docs/checking.md; the C "
        "helper tinyrnn_dump.h prints it), recompute loss and gradients with tinyrnn's conventions, print "
        "the relative error per parameter group and, if they differ, which known BPTT mistake reproduces "
        "your numbers. Exit status 0: correct, 1: wrong, 2: unreadable dump.",
    )
    p.add_argument("dump", metavar="DUMP", nargs="?", help="the dump file")
    p.add_argument("--tol", type=float, default=DEFAULT_TOL, help="largest accepted relative error per group (default %.0e)" % DEFAULT_TOL)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--helper", action="store_true", help="write the C helper header tinyrnn_dump.h (to -o, or stdout) and exit")
    p.add_argument("-o", "--output", metavar="FILE", help="with --helper: where to write it")
    p.add_argument("--list", action="store_true", help="list the known mistakes tested and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.helper:
        if args.output:
            write_file(args.output, helper_header(), encoding="ascii")
            print("%s: tinyrnn_dump.h written" % args.output)
        else:
            print(helper_header(), end="")
        return 0
    if args.list:
        for h in MISTAKES:
            print("%-26s %s (%s)" % (h.key, h.title.replace("%s", "N"), ", ".join(h.heads)))
        return 0
    if args.dump is None:
        raise ValueError("DUMP is required (or --helper / --list)")
    if not args.tol > 0:
        raise ValueError("--tol must be positive, got %r" % args.tol)
    d = load(args.dump)
    res = check(d, args.tol)
    if args.json:
        out = {
            "dump": d.path, "correct": res["correct"], "tol": res["tol"], "errors": res["errors"],
            "wrong": res["wrong"], "loss": res["loss"], "loss_error": res["loss_error"],
            "pattern": res.get("pattern", ""),
            "matches": [{"mistake": k, "explanation": t.replace("%s", str(d.passes)), "fix": a, "detail": de, "error": w}
                        for k, t, a, de, w, _ in res["matches"]],
        }
        print(json.dumps(out, indent=1))
    else:
        print(report(d, res), end="")
    return 0 if res["correct"] else 1
