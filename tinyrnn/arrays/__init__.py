"""tinyrnn.arrays: tinyrnn models and training on any Array API library.

CPython only, and optional: it needs array-api-compat (``pip install
'tinyrnn[arrays]'``) plus the array library you use (numpy, PyTorch, JAX,
CuPy, array-api-strict). ``import tinyrnn`` never imports this package.

- ``to_arrays`` / ``from_arrays`` / ``params_to_array`` / ``params_from_array``:
  model <-> arrays of any namespace, on any device.
- ``from_torch`` / ``to_torch`` / ``to_torch_state_dicts``: ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` + ``nn.Linear``.
- ``from_keras`` / ``to_keras``: ``SimpleRNN`` / ``GRU`` / ``LSTM`` (stacks too) + ``Dense`` weight lists.
- ``BatchedRNN``: minibatch forward + BPTT written with Array API functions only,
  for every cell (rnn, gru, lstm) and depth.
- ``Trainer``: shuffled minibatch training with the core's optimisers and
  clipping, checkpoints in the core's format.
"""

try:
    import array_api_compat as _array_api_compat  # noqa: F401
except ImportError as _e:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "tinyrnn.arrays needs the array-api-compat package (%s): pip install 'tinyrnn[arrays]'" % _e
    ) from _e

from ._xp import as_namespace, cpu_device, namespace, to_cpu, to_floats
from .batched import BatchedRNN
from .cells import init_uniform
from .convert import clone, from_arrays, model_from_arrays, params_from_array, params_to_array, to_arrays
from .formats import from_keras, from_torch, to_keras, to_torch, to_torch_state_dicts
from .optim import ArrayOptimizer, clip_elementwise, clip_global_norm, grad_norm, make_array_optimizer
from .train import Trainer, permutation

__all__ = [
    "ArrayOptimizer",
    "init_uniform",
    "BatchedRNN",
    "Trainer",
    "as_namespace",
    "clip_elementwise",
    "clip_global_norm",
    "clone",
    "cpu_device",
    "from_arrays",
    "from_keras",
    "from_torch",
    "grad_norm",
    "make_array_optimizer",
    "model_from_arrays",
    "namespace",
    "params_from_array",
    "params_to_array",
    "permutation",
    "to_arrays",
    "to_cpu",
    "to_floats",
    "to_keras",
    "to_torch",
    "to_torch_state_dicts",
]
