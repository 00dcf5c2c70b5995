"""Resource limits, checked before anything is allocated.

A model's buffers grow with its dimensions (``params`` ~ H*(X+H+Y),
activations ~ T*(X+H+Y)); a crafted checkpoint or option could otherwise ask
for gigabytes. Every command checks the dimensions it is about to build
against these caps and against a memory estimate, and refuses with a
message saying what would be needed and how to raise the cap
(``--limit NAME=VALUE`` on every command, e.g. ``--limit H=8192 --limit
memory=16G``).

========  ============  ==========================================
name      default       what
========  ============  ==========================================
X         65536         inputs (the vocabulary of a character model)
Y         65536         outputs (classes)
H         4096          hidden units
T         100000        steps per chunk (``--seq-length``)
params    10000000      parameters
memory    4G            estimated bytes for the model, its gradients, activations and optimiser
========  ============  ==========================================
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Tuple

DEFAULTS = {"X": 65536, "Y": 65536, "H": 4096, "T": 100000, "params": 10000000, "memory": 4 << 30}  # type: Dict[str, int]
LIMITS = dict(DEFAULTS)  # the caps in force (set by the CLI's --limit)

# bytes per number held in a Python list: the 8-byte slot plus a 24-byte float
BYTES_PER_FLOAT = 32
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class LimitError(ValueError):
    """A request above a resource limit; the message names the option or field and the limit."""


def human(n: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d bytes" % n


def parse_size(text: str) -> int:
    s = text.strip().upper().rstrip("B").rstrip("I")
    unit = s[-1:] if s[-1:] in _UNITS and s[-1:] != "" else ""
    num = s[: len(s) - len(unit)] if unit else s
    if not num.isdigit() or len(num) > 15:
        raise LimitError("--limit: %r is not a size (like 512M or 16G)" % text)
    return int(num) * _UNITS[unit]


def configure(items: "Optional[Iterable[str]]") -> None:
    """Reset the caps to the defaults, then apply ``NAME=VALUE`` overrides (the --limit option)."""
    LIMITS.clear()
    LIMITS.update(DEFAULTS)
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULTS:
            raise LimitError("--limit %s: expected NAME=VALUE with NAME one of %s" % (item, ", ".join(DEFAULTS)))
        if name == "memory":
            LIMITS[name] = parse_size(value)
        else:
            v = value.strip().replace("_", "")
            if not v.isdigit() or len(v) > 15 or int(v) < 1:
                raise LimitError("--limit %s: %r is not a positive integer" % (item, value))
            LIMITS[name] = int(v)


def num_params(X: int, H: int, Y: int, gates: int = 1, layers: int = 1) -> int:
    """Wxh | Whh | bh (gated: bxh | bhh) of each layer, then Why | by (core/model.py's Layout)."""
    GH = gates * H
    bias = H if gates == 1 else 2 * GH
    return GH * X + (layers - 1) * GH * H + layers * (GH * H + bias) + Y * H + Y


def estimate_bytes(X: int, H: int, Y: int, T: int, optimizer_buffers: int = 2, gates: int = 1, layers: int = 1) -> int:
    """Memory (bytes) to build and train this model: parameters, gradients, activations, optimiser.

    Parameters count 5 + ``optimizer_buffers`` times (params, grads, a zero
    buffer, the pre-update copy, the row copies of a forward pass); the
    activations of T steps are x, h, dh, dh_raw, z, p, dz and the targets;
    each number is a Python float in a list (``BYTES_PER_FLOAT``), each row
    view an object of about 100 bytes.
    """
    P = num_params(X, H, Y, gates, layers)
    per_layer = 3 * H if gates == 1 else (3 + 3 * gates) * H  # h, dh, dh_raw (+ gates, their hidden side, c)
    floats = P * (5 + optimizer_buffers) + T * (X + layers * per_layer + 4 * Y + 4) + layers * H
    return BYTES_PER_FLOAT * floats + 100 * (4 * gates * H * layers + 2 * X + 2 * Y)


def check_model(
    dims: "List[Tuple[str, int, str]]", where: str, optimizer_buffers: int = 2, gates: int = 1, layers: int = 1
) -> None:
    """``dims``: (name X|H|Y|T, value, label for the message); LimitError if any cap or the memory estimate is exceeded."""
    d = {}  # type: Dict[str, int]
    for name, value, label in dims:
        d[name] = value
        cap = LIMITS[name]
        if value > cap:
            raise LimitError(
                "%s: %s = %d is above the limit of %d (raise it with --limit %s=%d)" % (where, label, value, cap, name, value)
            )
    X, H, Y, T = d["X"], d["H"], d["Y"], d["T"]
    P = num_params(X, H, Y, gates, layers)
    if P > LIMITS["params"]:
        raise LimitError(
            "%s: X=%d H=%d Y=%d has %d parameters, above the limit of %d (raise it with --limit params=%d)"
            % (where, X, H, Y, P, LIMITS["params"], P)
        )
    need = estimate_bytes(X, H, Y, T, optimizer_buffers, gates, layers)
    if need > LIMITS["memory"]:
        raise LimitError(
            "%s: X=%d H=%d Y=%d T=%d would need about %s of memory, above the %s limit (raise it with --limit memory=%dM)"
            % (where, X, H, Y, T, human(need), human(LIMITS["memory"]), -(-need // (1 << 20)))
        )
