"""tinyrnn: a small vanilla RNN in plain Python, checked gradients, C export.

The core (everything imported here) is standard-library only and runs on
CPython 3.9+ and MicroPython 1.27.
"""

from .diagnostics import diagnostics, update_ratio
from .gradcheck import gradcheck
from .heads import HEADS
from .init import init_params
from .model import GROUPS, RNN, Layout, argmax
from .optim import SGD, Adagrad, Adam, clip_elementwise, clip_global_norm, grad_norm, make_optimizer
from .rng import Rng

__version__ = "0.1.0"

__all__ = [
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
