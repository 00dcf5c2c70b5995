"""Minibatch training on arrays: shuffle, forward, BPTT, clip, optimiser step, checkpoint.

Random numbers (shuffling; initialisation is ``tinyrnn.init_params``) come
from tinyrnn's portable ``Rng``, so the same seed gives the same batches on
every backend. Checkpoints are ``tinyrnn.checkpoint`` files: a model trained
here resumes in the core, and exports to C, unchanged.
"""

import math
from typing import Any, Callable, Dict, List, Optional

from ..workflow.checkpoint import Checkpoint, save
from ..core.model import RNN
from ..core.rng import Rng
from ._xp import Array, shape_of
from .batched import BatchedRNN
from .optim import ArrayOptimizer, clip_elementwise, clip_global_norm, make_array_optimizer


def permutation(rng: Rng, n: int) -> List[int]:
    """Fisher-Yates shuffle of range(n) drawn from ``rng`` (portable: C can repeat it)."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


class Trainer:
    """Train ``model`` on batches of arrays of namespace ``xp``.

    ``clip``: global-norm clip (None: off); ``clip_value``: elementwise clip.
    ``seed`` drives shuffling; ``rng_state`` resumes a stream.
    """

    def __init__(
        self,
        model: RNN,
        xp: Any,
        device: Any = None,
        dtype: Any = None,
        optimizer: str = "adagrad",
        lr: float = 0.1,
        clip: Optional[float] = None,
        clip_value: Optional[float] = None,
        batch_size: int = 32,
        seed: int = 0,
        input_kind: str = "token",
        vocab: Optional[List[str]] = None,
        step: int = 0,
        optimizer_state: Optional[Dict[str, Any]] = None,
        rng_state: Optional[int] = None,
        config: Optional[Dict[str, Any]] = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be a positive integer, got %r" % (batch_size,))
        if input_kind not in ("token", "dense"):
            raise ValueError("input_kind must be 'token' or 'dense', got %r" % (input_kind,))
        if clip is not None and not clip > 0:
            raise ValueError("clip (max global norm) must be positive, got %r" % (clip,))
        if clip_value is not None and not clip_value > 0:
            raise ValueError("clip_value must be positive, got %r" % (clip_value,))
        self.net = BatchedRNN(model, xp, device, dtype)
        self.xp = self.net.xp
        self.opt: ArrayOptimizer = make_array_optimizer(optimizer, model.num_params, lr, self.xp, self.net.dtype, self.net.device, optimizer_state)
        self.clip, self.clip_value = clip, clip_value
        self.batch_size = batch_size
        self.rng = Rng(seed)
        if rng_state is not None:
            self.rng.state = rng_state
        self.input_kind, self.vocab = input_kind, vocab
        self.step_count = step
        self.config = dict(config or {})
        self.config.update(optimizer=optimizer, lr=lr, clip=clip, clip_value=clip_value, batch_size=batch_size, seed=seed, trainer="tinyrnn.arrays")
        self.last_norm = 0.0
        self.last_loss = math.nan

    @property
    def model(self) -> RNN:
        return self.net.model

    def train_step(
        self,
        inputs: Array,
        targets: Array,
        weights: Optional[Array] = None,
        h0: Optional[Array] = None,
        lengths: Optional[Array] = None,
        last_only: bool = False,
        check: bool = True,
    ) -> float:
        """One update on one batch; returns the batch's summed loss.

        A non-finite loss or gradient raises ValueError before the update,
        leaving the parameters as they were.
        """
        net, xp = self.net, self.xp
        loss = net.forward(inputs, targets, weights, h0, lengths, last_only, check)
        if not math.isfinite(loss):
            raise ValueError("loss is %r at step %d: stopping before the update (lower the learning rate or clip)" % (loss, self.step_count))
        g = net.backward()
        if self.clip_value is not None:
            g = clip_elementwise(xp, g, self.clip_value)
        if self.clip is not None:
            g, norm = clip_global_norm(xp, g, self.clip)
            self.last_norm = norm
            if not math.isfinite(norm):
                raise ValueError("gradient norm is %r at step %d: stopping before the update" % (norm, self.step_count))
        net.params = self.opt.step(net.params, g)
        self.step_count += 1
        self.last_loss = loss
        return loss

    def fit(
        self,
        inputs: Array,
        targets: Array,
        weights: Optional[Array] = None,
        lengths: Optional[Array] = None,
        last_only: bool = False,
        epochs: int = 1,
        h0: Optional[Array] = None,
        progress: Optional[Callable[[int, int, float], None]] = None,
    ) -> List[float]:
        """Shuffled minibatch epochs over N sequences; returns the mean loss per sequence of each epoch.

        Arrays hold N sequences along axis 0 (shapes as in ``BatchedRNN``;
        ``h0`` (N, H) initial states, optional);
        the whole set is validated once, then batches skip the checks.
        ``progress(epoch, batch, loss)`` is called after each batch.
        """
        xp = self.xp
        N = shape_of(inputs)[0]
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError("epochs must be a non-negative integer, got %r" % (epochs,))
        # validate everything once (shapes, ranges, finiteness)
        self.net.prepare(inputs, targets, weights, lengths, last_only, check=True)
        if h0 is not None:
            self.net._check_device("h0", h0)
            if shape_of(h0) != (N, self.net.H):
                raise ValueError("h0 has shape %s, expected (N, H) = %s" % (shape_of(h0), (N, self.net.H)))
        lens = lengths
        if lens is not None and not hasattr(lens, "shape"):
            lens = xp.asarray(lens, device=self.net.device)
        history = []
        for epoch in range(epochs):
            order = permutation(self.rng, N)
            total = 0.0
            for k, lo in enumerate(range(0, N, self.batch_size)):
                idx = xp.asarray(order[lo : lo + self.batch_size], device=self.net.device)

                def take(a: Optional[Array]) -> Optional[Array]:
                    return None if a is None else xp.take(a, idx, axis=0)

                loss = self.train_step(take(inputs), take(targets), take(weights), take(h0), take(lens), last_only, check=False)
                total += loss
                if progress is not None:
                    progress(epoch, k, loss)
            history.append(total / N)
        return history

    def checkpoint(self, metrics: Optional[Dict[str, Any]] = None) -> Checkpoint:
        """The model (synced from the arrays) and training state in the core's checkpoint format."""
        model = self.net.sync()
        m = {"loss": self.last_loss} if math.isfinite(self.last_loss) else {}
        m.update(metrics or {})
        return Checkpoint(model, self.input_kind, self.vocab, self.step_count, self.opt.state_dict(), self.rng.state, dict(self.config), m)

    def save(self, path: str, metrics: Optional[Dict[str, Any]] = None) -> None:
        save(path, self.checkpoint(metrics))

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, xp: Any, device: Any = None, dtype: Any = None, **overrides: Any) -> "Trainer":
        """Resume: the checkpoint's model, optimiser state, step and PRNG state."""
        cfg = dict(ckpt.config)
        opt = ckpt.optimizer or {}
        kwargs: Dict[str, Any] = {
            "optimizer": opt.get("name", cfg.get("optimizer", "adagrad")),
            "lr": opt.get("lr", cfg.get("lr", 0.1)),
            "clip": cfg.get("clip"),
            "clip_value": cfg.get("clip_value"),
            "batch_size": cfg.get("batch_size", 32),
            "seed": cfg.get("seed", 0),
        }
        kwargs.update(overrides)
        return cls(
            ckpt.model,
            xp,
            device,
            dtype,
            input_kind=ckpt.input_kind,
            vocab=ckpt.vocab,
            step=ckpt.step,
            optimizer_state=ckpt.optimizer,
            rng_state=ckpt.rng_state,
            config=cfg,
            **kwargs,
        )


__all__ = ["Trainer", "permutation"]
