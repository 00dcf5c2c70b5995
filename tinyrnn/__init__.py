"""tinyrnn: small recurrent networks (tanh, GRU, LSTM, stacked) in plain Python, checked gradients, C export."""

# The core (everything named here) is standard-library only and runs on
# CPython 3.9+ and MicroPython 1.27.
#
# ``import tinyrnn`` loads the model only; every other name is imported from
# its module on first use (``from tinyrnn import Adam`` loads the optimisers),
# so a board's heap holds only the code it runs: inference never compiles the
# optimisers, training never compiles gradcheck or the diagnostics. (Module
# __getattr__, PEP 562: MicroPython has it from the core-features ROM level
# up, MICROPY_MODULE_GETATTR; on a port without it import from
# tinyrnn.core.optim and friends directly.)

from .core.model import CELLS, GROUPS, RNN, Layout, argmax

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .core.diagnostics import diagnostics, update_ratio
    from .core.gradcheck import gradcheck
    from .core.heads import HEADS
    from .core.init import init_params
    from .core.optim import SGD, Adagrad, Adam, clip_elementwise, clip_global_norm, grad_norm, make_optimizer
    from .core.rng import Rng

__version__ = "0.1.0"

# name -> the core module that defines it, imported on first use
_LAZY = {
    "diagnostics": "diagnostics",
    "update_ratio": "diagnostics",
    "gradcheck": "gradcheck",
    "HEADS": "heads",
    "init_params": "init",
    "SGD": "optim",
    "Adagrad": "optim",
    "Adam": "optim",
    "clip_elementwise": "optim",
    "clip_global_norm": "optim",
    "grad_norm": "optim",
    "make_optimizer": "optim",
    "Rng": "rng",
}

if not TYPE_CHECKING:  # mypy reads the imports above instead

    def __getattr__(name):
        if name not in _LAZY:
            raise AttributeError(name)
        mod = __import__("tinyrnn.core." + _LAZY[name], None, None, [name])
        value = getattr(mod, name)
        globals()[name] = value
        return value


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
