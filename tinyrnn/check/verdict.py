"""``tinyrnn check``: recompute a hand-written RNN's gradients and diagnose the difference.

Given a dump (``tinyrnn.check.dump``) -- the weights, one sequence, and
the gradients the user's program computed -- this module

1. recomputes loss and gradients with tinyrnn's conventions (float64, from
   the dumped float32 weights) and measures, per parameter group, the
   normwise relative error ``||yours - ours|| / max(||yours||, ||ours||)``;
2. recomputes the gradients *with* each known mistake (``MISTAKES``: the
   review of a hand-written C RNN in docs/checking.md) and reports the ones
   that reproduce the user's numbers;
3. explains the pattern of wrong groups with the review's table: ``by`` and
   ``Why`` wrong first means the output layer; ``by``/``Why`` right but
   ``bh``/``Wxh``/``Whh`` wrong means dh_next, dh_raw (the tanh derivative)
   or the h[t] / h[t+1] indexing.

The recomputation with the mistakes lives in ``mistakes.py``; the
reference itself is ``tinyrnn.core``.
"""

import math

from .dump import GRADS, Dump
from .mistakes import MISTAKES, bptt, declared_clip, reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

DEFAULT_TOL = 1e-4
# mistakes that change every group at once: the per-group reading of the review does not apply
WHOLESALE = {
    "sign": "every group is off by the factor -1",
    "not_zeroed": "every group is off by the same factor",
    "mean_over_steps": "every group is off by the same factor 1/n",
    "clipped_elementwise": "every group differs: the gradients were changed after the backward pass",
    "clipped_norm": "every group is off by the same factor < 1: the gradients were scaled after the backward pass",
    "clip_not_applied": "every group differs from the clipped gradients the dump declares",
}
TABLE = (
    ("by", "output gradient / softmax / target indexing bug"),
    ("Why", "output gradient or current hidden (h[t+1]) indexing bug"),
    ("bh", "tanh backward bug"),
    ("Wxh", "input-to-hidden gradient bug"),
    ("Whh", "recurrent gradient or previous hidden (h[t]) indexing bug"),
)


# ------------------------------------------------------------------- report
def group_errors(d: Dump, ours: "List[float]") -> "Dict[str, float]":
    """Per group: ||yours - ours|| / max(||yours||, ||ours||) (0 when both are 0)."""
    out = {}
    off = 0
    for g in GRADS:
        u = d.grads[g]
        o = ours[off : off + len(u)]
        off += len(u)
        diff = math.sqrt(sum((a - b) ** 2 for a, b in zip(u, o)))
        scale = max(math.sqrt(sum(a * a for a in u)), math.sqrt(sum(b * b for b in o)))
        out[g[1:]] = diff / scale if scale > 0 else 0.0
    return out


def _loss_error(user: "Optional[float]", loss: "Optional[float]") -> "Optional[float]":
    if user is None or loss is None:
        return None
    return abs(user - loss) / max(abs(user), abs(loss), 1e-30)


def pattern(wrong: "List[str]") -> str:
    """The review's reading of which groups fail."""
    w = set(wrong)
    if not w:
        return ""
    if "by" in w:
        rest = [g for g in ("Wxh", "Whh", "bh") if g in w]
        return "%s wrong%s: the error starts at the output layer -- %s" % (
            " and ".join(g for g in ("by", "Why") if g in w),
            (", %s follow" % "/".join(rest)) if rest else "",
            "output gradient / softmax / target indexing")
    if "Why" in w:
        return "Why is wrong but by is right: dz is right, so the hidden state multiplied into dWhy is wrong -- current hidden (h[t+1]) indexing"
    if "bh" in w:
        return "by and Why are right but bh is wrong%s: the error enters between dz and dh_raw -- the tanh backward (dh_raw) or dh_next" % (
            ", " + "/".join(g for g in ("Wxh", "Whh") if g in w) + " follow" if w & {"Wxh", "Whh"} else "")
    if w == {"Whh"}:
        return "only Whh is wrong: dh_raw is right, so the state multiplied into dWhh is -- previous hidden (h[t]) indexing"
    if w == {"Wxh"}:
        return "only Wxh is wrong: dh_raw is right, so the input multiplied into dWxh is -- input indexing (x[t])"
    return "%s wrong while by, Why and bh are right: look at the weight-gradient products of those groups" % "/".join(sorted(w))


def check(d: Dump, tol: float = DEFAULT_TOL) -> "Dict[str, Any]":
    """Everything the report says, as data: errors, verdict, matching hypotheses."""
    loss, ours = reference(d)
    ours = declared_clip(d, ours)
    errs = group_errors(d, ours)
    wrong = [g for g, e in errs.items() if e > tol]
    result = {
        "loss": loss, "errors": errs, "wrong": wrong, "tol": tol, "correct": not wrong,
        "loss_error": _loss_error(d.loss, loss), "matches": [], "closest": None,
    }  # type: Dict[str, Any]
    if not wrong:
        return result
    scored = []
    for hyp in MISTAKES:
        if d.head not in hyp.heads:
            continue
        r = hyp.run(d)
        if r is None:
            continue
        g, hloss, detail = r
        e = group_errors(d, g)
        worst = max(e.values())
        scored.append((worst, hyp, detail, e, hloss))
    scored.sort(key=lambda s: s[0])
    result["matches"] = [(h.key, h.title, h.advice, detail, worst, _loss_error(d.loss, hl)) for worst, h, detail, e, hl in scored if worst <= tol]
    if scored:
        worst, h, detail, e, hl = scored[0]
        result["closest"] = (h.key, h.title, worst)
    result["pattern"] = pattern(wrong)
    return result


def report(d: Dump, res: "Dict[str, Any]") -> str:
    """The text ``tinyrnn check`` prints."""
    o = []
    o.append("%s: %s head, %s input, X=%d H=%d Y=%d, n=%d steps, %d backward call%s%s" % (
        d.path, d.head, d.input, d.X, d.H, d.Y, d.n, d.passes, "" if d.passes == 1 else "s",
        "" if d.clip[0] == "none" else ", clip %s %g" % d.clip))
    o.append("relative error per group, ||yours - tinyrnn|| / max(||yours||, ||tinyrnn||)  (tolerance %.0e):" % res["tol"])
    for g, seed in TABLE:
        e = res["errors"][g]
        o.append("  %-4s %.2e  %s" % (g, e, "ok" if e <= res["tol"] else "WRONG   (fails first: %s)" % seed))
    le = res["loss_error"]
    if le is not None:
        o.append("  loss %.2e  (yours %.9g, tinyrnn %.9g)%s" % (le, d.loss if d.loss is not None else math.nan, res["loss"], "" if le <= res["tol"] else "  differs"))
    if res["correct"]:
        o.append("verdict: your gradients are correct.")
        if le is not None and le > res["tol"]:
            ratio = d.loss / res["loss"] if res["loss"] else float("nan")
            hint = " (yours is 1/%d of it: a mean over steps)" % d.n if abs(ratio * d.n - 1.0) < 1e-4 else ""
            o.append("  but your loss is not the sum over steps of the per-step losses%s." % hint)
        if d.passes < 2:
            o.append("  (dump after 2 identical forward/backward calls -- 'passes 2' -- to also test the zeroing of")
            o.append("   the gradients and the reset of dh_next between calls)")
        return "\n".join(o) + "\n"
    first = res["matches"][0][0] if res["matches"] else None
    o.append("verdict: WRONG -- " + WHOLESALE.get(first or "", res["pattern"]) + ".")
    if res["matches"]:
        key, title, advice, detail, worst, hle = res["matches"][0]
        t = title % d.passes if "%s" in title else title
        o.append("diagnosis: %s%s." % (t, (" (" + detail + ")") if detail else ""))
        o.append("  recomputed with that mistake, every group agrees with yours to %.1e." % worst)
        o.append("  fix: %s." % advice)
        for key2, title2, _, detail2, worst2, _ in res["matches"][1:]:
            o.append("  also consistent: %s (%.1e)" % (title2 % d.passes if "%s" in title2 else title2, worst2))
    else:
        o.append("diagnosis: none of the known mistakes reproduces your numbers (%d tried)." % len(MISTAKES))
        if res["closest"] is not None:
            o.append("  closest: %s (largest group error %.1e)" % (res["closest"][1].replace("%s", str(d.passes)), res["closest"][2]))
        if d.passes < 2:
            o.append("  dump after 2 identical forward/backward calls ('passes 2') so that the zeroing of the")
            o.append("  gradients and the reset of dh_next can be tested too")
    return "\n".join(o) + "\n"


__all__ = ["DEFAULT_TOL", "MISTAKES", "bptt", "check", "group_errors", "pattern", "reference", "report"]
