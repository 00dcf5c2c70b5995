"""``report.svg``: training curves drawn as plain SVG, no plotting library.

Panels against the step: train and eval loss (nats per target) with the
unigram baseline of a character model as a dashed line, the gradient norm
before clipping (log scale), the tanh saturation ratio, and -- when the
records have ``eval_acc`` (classifiers) -- the eval accuracy. Every logged
record is one vertex of its curve (and eval points are also marked), so
nothing is averaged away. Both axes carry round-number ticks (1, 2 or 5
times a power of ten apart; powers of ten on the log axis) and a label.

Elements carry classes for machines: ``<g class="panel" id="panel-NAME">``,
``text.tick-x`` / ``text.tick-y`` (the tick labels), ``polyline.series``
with ``data-key``, ``line.baseline``, ``text.axis-label``.

Input is the list of metric records the trainer logs (``metrics.jsonl``).
"""

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple

W, PANEL_H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 190, 80, 20, 28, 44
COLORS = {"train_loss": "#1f77b4", "eval_loss": "#d62728", "grad_norm": "#2ca02c", "sat_ratio": "#9467bd", "eval_acc": "#ff7f0e"}
BASELINE_COLOR = "#555"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def nice_step(span: float, target: int = 5) -> float:
    """A tick spacing of 1, 2 or 5 times a power of ten giving about ``target`` intervals over ``span``."""
    raw = span / max(1, target)
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if raw <= m * mag * (1 + 1e-9):
            return m * mag
    return 10.0 * mag


def nice_ticks(lo: float, hi: float, target: int = 5, integer: bool = False) -> "List[float]":
    """Round-number ticks covering [lo, hi]: multiples of nice_step, from at or below lo to at or above hi."""
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo < 1e-12 * max(1.0, abs(lo)):
        lo, hi = lo - 0.5, hi + 0.5
    step = nice_step(hi - lo, target)
    if integer:
        step = max(1.0, round(step))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [k * step for k in range(int(first), int(last) + 1)]


def log_ticks(lo: float, hi: float) -> "List[float]":
    """Ticks (as log10 values) for a log axis over [lo, hi] (log10 values): whole decades when the
    range spans two or more, else round values (nice_ticks in value space) over the range."""
    a, b = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
    if b - a >= 2:
        step = max(1, int(math.ceil((b - a) / 6.0)))
        a = a - (a % step)
        return [float(e) for e in range(a, b + step, step)]
    vals = [v for v in nice_ticks(10.0**lo, 10.0**hi, 4) if v > 0]
    if not vals or math.log10(vals[0]) > lo + 1e-12:
        vals.insert(0, 10.0**a)  # the decade below: round, and below the smallest value
    return [math.log10(v) for v in vals]


def tick_label(v: float, step: float) -> str:
    """``v`` with as many decimals as the tick spacing needs (no float noise)."""
    if v == 0.0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-4:
        return "%g" % float("%.3g" % v)
    decimals = max(0, -int(math.floor(math.log10(step) + 1e-9)))
    return "%.*f" % (decimals, v)


def _log_label(e: float) -> str:
    v = 10.0**e
    return "%g" % float("%.3g" % v)


def _series(records: "Sequence[Dict[str, Any]]", key: str, log: bool) -> "List[Tuple[float, float]]":
    out = []
    for r in records:
        v, s = r.get(key), r.get("step")
        if isinstance(v, (int, float)) and isinstance(s, (int, float)) and math.isfinite(v) and not isinstance(v, bool):
            if log:
                if v <= 0:
                    continue
                v = math.log10(v)
            out.append((float(s), float(v)))
    return out


def _panel(
    y0: int, pid: str, title: str, ylabel: str, lines: "List[Tuple[str, str, List[Tuple[float, float]]]]",
    xticks: "List[float]", fixed: "Optional[Tuple[float, float]]", log: bool, baseline: "Optional[float]" = None,
) -> "List[str]":
    parts = ['<g class="panel" id="panel-%s">' % pid]
    top, bottom = y0 + PAD_T, y0 + PANEL_H - PAD_B
    left, right = PAD_L, W - PAD_R
    parts.append('<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>' % (left, y0 + 18, _esc(title)))
    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' % (left, top, right - left, bottom - top))
    ys = [p[1] for _, _, pts in lines for p in pts]
    if baseline is not None:
        ys.append(baseline)
    if fixed is not None:
        lo, hi = fixed
    elif ys:
        lo, hi = min(ys), max(ys)
    else:
        lo, hi = 0.0, 1.0
    if log:
        yticks = log_ticks(lo, hi)
        vals = [10.0**e for e in yticks]
        if all(abs(e - round(e)) < 1e-9 for e in yticks):
            ylabels = [_log_label(e) for e in yticks]
        else:
            ylabels = [tick_label(v, vals[-1] - vals[-2]) for v in vals]
    else:
        yticks = nice_ticks(lo, hi, 4)
        step = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
        ylabels = [tick_label(v, step) for v in yticks]
    lo, hi = yticks[0], yticks[-1]
    x_lo, x_hi = xticks[0], xticks[-1]
    xstep = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0

    def px(x: float) -> float:
        return left + (x - x_lo) / ((x_hi - x_lo) or 1.0) * (right - left)

    def py(y: float) -> float:
        return bottom - (y - lo) / ((hi - lo) or 1.0) * (bottom - top)

    for v, label in zip(yticks, ylabels):
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, py(v), right, py(v)))
        parts.append('<text class="tick-y" x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (left - 6, py(v) + 4, _esc(label)))
    for v in xticks:
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/>' % (px(v), bottom, px(v), bottom + 4))
        parts.append('<text class="tick-x" x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>' % (px(v), bottom + 16, _esc(tick_label(v, xstep))))
    parts.append('<text class="axis-label" x="%d" y="%d" font-size="11" text-anchor="middle">step</text>' % ((left + right) // 2, bottom + 32))
    parts.append('<text class="axis-label" x="%d" y="%d" font-size="11" text-anchor="middle" transform="rotate(-90 %d %d)">%s</text>'
                 % (16, (top + bottom) // 2, 16, (top + bottom) // 2, _esc(ylabel)))
    legend_x = right - 10
    if baseline is not None:
        name = "unigram baseline %.3f" % baseline
        parts.append('<line class="baseline" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="6,4" data-value="%r"/>'
                     % (left, py(baseline), right, py(baseline), BASELINE_COLOR, baseline))
        parts.append('<text x="%d" y="%d" font-size="11" text-anchor="end" fill="%s">%s</text>' % (legend_x, y0 + 18, BASELINE_COLOR, _esc(name)))
        legend_x -= 7 * len(name) + 16
    for name, color, pts in reversed(lines):
        parts.append('<text x="%d" y="%d" font-size="11" text-anchor="end" fill="%s">%s</text>' % (legend_x, y0 + 18, color, _esc(name)))
        legend_x -= 7 * len(name) + 16
        if not pts:
            continue
        coords = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts)
        if len(pts) > 1:
            parts.append('<polyline class="series" data-key="%s" fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (name, color, coords))
        if len(pts) == 1 or name in ("eval_loss", "eval_acc"):
            for x, y in pts:
                parts.append('<circle class="point" data-key="%s" cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>' % (name, px(x), py(y), color))
    parts.append("</g>")
    return parts


def render(records: "Sequence[Dict[str, Any]]", title: str = "tinyrnn training", baseline: "Optional[float]" = None) -> str:
    """The SVG document (a string) for these metric records; ``baseline``: the unigram loss of a text model."""
    steps = [float(r["step"]) for r in records if isinstance(r.get("step"), (int, float)) and math.isfinite(r["step"])]
    xticks = nice_ticks(min(steps), max(steps), 6, integer=True) if steps else [0.0, 1.0]
    if baseline is not None and not (isinstance(baseline, (int, float)) and math.isfinite(baseline)):
        baseline = None
    acc = _series(records, "eval_acc", False)
    panels = 4 if acc else 3
    height = 30 + panels * PANEL_H
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">' % (W, height, W, height),
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="%d" y="20" font-size="15">%s</text>' % (PAD_L, _esc(title)),
    ]
    loss = [(k, COLORS[k], _series(records, k, False)) for k in ("train_loss", "eval_loss")]
    y = 30
    parts += _panel(y, "loss", "loss vs step", "nats per target", loss, xticks, None, False, baseline)
    y += PANEL_H
    if acc:
        parts += _panel(y, "accuracy", "eval accuracy", "accuracy", [("eval_acc", COLORS["eval_acc"], acc)], xticks, (0.0, 1.0), False)
        y += PANEL_H
    parts += _panel(y, "grad", "gradient norm before clipping (log scale)", "gradient norm",
                    [("grad_norm", COLORS["grad_norm"], _series(records, "grad_norm", True))], xticks, None, True)
    y += PANEL_H
    parts += _panel(y, "saturation", "saturation ratio (|h| > 0.95)", "share of units",
                    [("sat_ratio", COLORS["sat_ratio"], _series(records, "sat_ratio", False))], xticks, (0.0, 1.0), False)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
