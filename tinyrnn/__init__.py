"""tinyrnn: small recurrent networks (tanh, GRU, LSTM, stacked) in plain Python, checked gradients, C export.

The core (everything imported here) is standard-library only and runs on
CPython 3.9+ and MicroPython 1.27.
"""

from .core.diagnostics import diagnostics, update_ratio
from .core.gradcheck import gradcheck
from .core.heads import HEADS
from .core.init import init_params
from .core.model import CELLS, GROUPS, RNN, Layout, argmax
from .core.optim import SGD, Adagrad, Adam, clip_elementwise, clip_global_norm, grad_norm, make_optimizer
from .core.rng import Rng

__version__ = "0.1.0"

__all__ = [
    "CELLS",
    "GROUPS",
    "HEADS",
    "RNN",
    "SGD",
    "Adagrad",
    "Adam",
    "Layout",
    "Rng",
    "argmax",
    "clip_elementwise",
    "clip_global_norm",
    "diagnostics",
    "gradcheck",
    "grad_norm",
    "init_params",
    "make_optimizer",
    "update_ratio",
    "__version__",
]
