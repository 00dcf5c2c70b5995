"""Small hand-made time-series files for the loader, training and export tests."""

import math

from tinyrnn import Rng


def ts_text(rows, dims=1, length=None, labels=("a", "b"), extra="", univariate=None):  # type: ignore[no-untyped-def]
    """A .ts file: rows are (channels, label) with channels a list of lists of numbers (or '?')."""
    head = [
        "# made by tests/series_support.py",
        "@problemName Toy",
        "@timeStamps false",
        "@missing %s" % ("true" if any("?" in map(str, ch) for chs, _ in rows for ch in chs) else "false"),
        "@univariate %s" % ("true" if (dims == 1 if univariate is None else univariate) else "false"),
        "@dimensions %d" % dims,
        "@equalLength %s" % ("true" if length else "false"),
    ]
    if length:
        head.append("@seriesLength %d" % length)
    head.append("@classLabel true " + " ".join(labels))
    if extra:
        head.append(extra)
    head.append("@data")
    body = [":".join(",".join(str(v) for v in ch) for ch in chs) + ":" + lab for chs, lab in rows]
    return "\n".join(head + body) + "\n"


def wave_rows(n_per_class, length, dims, classes, seed=3, offset=(0.0,), scale=(1.0,), sort=True):  # type: ignore[no-untyped-def]
    """Class k: a sine of frequency k + 1 per channel plus noise; raw values offset[j] + scale[j] * signal."""
    rng = Rng(seed)
    rows = []
    for k, name in enumerate(classes):
        for _ in range(n_per_class):
            phase = rng.uniform(0.0, 6.28)
            chs = []
            for j in range(dims):
                o, s = offset[j % len(offset)], scale[j % len(scale)]
                chs.append([round(o + s * (math.sin((k + 1) * 6.28 * t / length + phase + j) + rng.uniform(-0.2, 0.2)), 5) for t in range(length)])
            rows.append((chs, name))
    if not sort:
        order = list(range(len(rows)))
        for i in range(len(order) - 1, 0, -1):
            j = rng.below(i + 1)
            order[i], order[j] = order[j], order[i]
        rows = [rows[i] for i in order]
    return rows
