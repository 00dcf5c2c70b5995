"""``report.svg``: training curves drawn as plain SVG, no plotting library.

Three panels against the step: train and eval loss (nats per target),
gradient norm before clipping (log scale) and the tanh saturation ratio.
Input is the list of metric records the trainer logs (``metrics.jsonl``).
"""

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple

W, PANEL_H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 170, 70, 20, 28, 30
COLORS = {"train_loss": "#1f77b4", "eval_loss": "#d62728", "grad_norm": "#2ca02c", "sat_ratio": "#9467bd"}


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _fmt(v: float) -> str:
    if v == 0.0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-2:
        return "%.1e" % v
    return "%.3g" % v


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
    y0: int, title: str, lines: "List[Tuple[str, str, List[Tuple[float, float]]]]", xr: "Tuple[float, float]",
    fixed: "Optional[Tuple[float, float]]", log: bool,
) -> "List[str]":
    parts = []
    x_lo, x_hi = xr
    top, bottom = y0 + PAD_T, y0 + PANEL_H - PAD_B
    left, right = PAD_L, W - PAD_R
    parts.append('<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>' % (left, y0 + 18, _esc(title)))
    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' % (left, top, right - left, bottom - top))
    ys = [p[1] for _, _, pts in lines for p in pts]
    if fixed is not None:
        lo, hi = fixed
    elif ys:
        lo, hi = min(ys), max(ys)
    else:
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    span_x = (x_hi - x_lo) or 1.0

    def px(x: float) -> float:
        return left + (x - x_lo) / span_x * (right - left)

    def py(y: float) -> float:
        return bottom - (y - lo) / (hi - lo) * (bottom - top)

    for v in (lo, (lo + hi) / 2, hi):
        label = _fmt(10**v if log else v)
        parts.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (left - 6, py(v) + 4, _esc(label)))
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, py(v), right, py(v)))
    for v in (x_lo, x_hi):
        parts.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>' % (px(v), bottom + 16, _esc("%d" % v)))
    legend_x = right - 10
    for name, color, pts in reversed(lines):
        parts.append('<text x="%d" y="%d" font-size="11" text-anchor="end" fill="%s">%s</text>' % (legend_x, y0 + 18, color, _esc(name)))
        legend_x -= 8 * len(name) + 16
        if not pts:
            continue
        coords = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts)
        if len(pts) == 1:
            parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(pts[0][0]), py(pts[0][1]), color))
        else:
            parts.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (color, coords))
    return parts


def render(records: "Sequence[Dict[str, Any]]", title: str = "tinyrnn training") -> str:
    """The SVG document (a string) for these metric records."""
    steps = [float(r["step"]) for r in records if isinstance(r.get("step"), (int, float))]
    xr = (min(steps), max(steps)) if steps else (0.0, 1.0)
    height = 30 + 3 * PANEL_H
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">' % (W, height, W, height),
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="%d" y="20" font-size="15">%s</text>' % (PAD_L, _esc(title)),
    ]
    loss = [(k, COLORS[k], _series(records, k, False)) for k in ("train_loss", "eval_loss")]
    parts += _panel(30, "loss (nats per target) vs step", loss, xr, None, False)
    parts += _panel(30 + PANEL_H, "gradient norm before clipping (log scale)", [("grad_norm", COLORS["grad_norm"], _series(records, "grad_norm", True))], xr, None, True)
    parts += _panel(30 + 2 * PANEL_H, "saturation ratio (|h| > 0.95)", [("sat_ratio", COLORS["sat_ratio"], _series(records, "sat_ratio", False))], xr, (0.0, 1.0), False)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
