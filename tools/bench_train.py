#!/usr/bin/env python3
"""Training speed: tinyrnn against NumPy and PyTorch on the same computation.

One iteration is min-char-rnn's training step on a 25-step chunk of a
character corpus (vocabulary 65, batch 1, token input, softmax head):

    forward (25 steps) + BPTT + clip every gradient to [-5, 5]
    + Adagrad (lr 0.1: mem += g*g; w -= lr*g/sqrt(mem + 1e-8))

and the final hidden state is carried into the next chunk (reset to zeros
when the corpus wraps around). Implementations, timed in the same run:

- ``tinyrnn``: ``RNN.forward`` / ``backward``, ``clip_elementwise``,
  ``Adagrad.step`` (pure Python, float64).
- ``numpy``: min-char-rnn's loop written here in NumPy (float64, 1-D
  vectors), the one-hot input handled as a column gather ``Wxh[:, ix]`` /
  scatter-add ``dWxh[:, ix] += dhraw`` -- exactly what tinyrnn does, so
  this is the fair reference and the one the ratio uses.
- ``numpy-matmul``: the fastest honest NumPy -- the recurrence per step,
  the output layer (logits, softmax, dWhy, Why^T dy) and dWhh as matrix
  products over the whole chunk; its ratio is shown beside the per-step one.
- ``numpy-onehot``: the same with min-char-rnn's literal one-hot vector
  and ``Wxh @ x`` / ``outer(dhraw, x)`` (slower; shown for scale).
- ``torch-f32``: PyTorch CPU ``nn.RNN(tanh)`` + ``nn.Linear``, batch 1,
  one-hot input tensors prepared before timing, ``cross_entropy(sum)``,
  ``clip_grad_value_(5)``, ``torch.optim.Adagrad(lr=0.1)``; float32 (the
  default users run) with ``torch.set_num_threads(1)`` (``-1t``) and with
  the default thread count. ``--torch-float64`` adds float64.
- ``floor`` (``--floor``): not a trainer but the iteration's primitives
  alone, from ``tools/profile_core.py`` -- every dot product as the kernels
  compute it, the ``exp`` and ``tanh`` calls, the clip check and the Adagrad
  arithmetic, over prebuilt lists with no glue between them: what pure
  Python cannot go below on this interpreter. ``floor / NumPy`` is the best
  ratio any pure-Python trainer of this algorithm could show in the run.

Each measurement runs one implementation for ``--seconds``; the
implementations take turns, ``--rounds`` times, in a rotating order. The
table shows the best round of each (noise from other processes only ever
slows a run down); the median, and the median of the per-round ratios, are
printed too. Ratios are tinyrnn's iterations/s over the reference's:
tinyrnn/NumPy against ``numpy``, and tinyrnn/PyTorch against the faster of
the float32 thread settings timed. ``--clock cpu`` counts process CPU time
instead of wall time: on a busy machine it is far steadier, and it is fair
to every single-threaded row (so the multi-threaded PyTorch row is dropped).

Before timing, every H is checked: tinyrnn and the NumPy reference give the
same loss, gradients, updated weights and carried state on two chunks (to
1e-9), and PyTorch in float64 (``bias_hh`` = 0) gives the same loss and
gradients on one chunk -- so all three time the same computation.
(PyTorch's Adagrad divides by ``sqrt(mem) + 1e-10`` rather than
``sqrt(mem + 1e-8)``; the weights after its step differ by that much.)

PyTorch is optional: without it the PyTorch rows are left out and the
header says why. When this interpreter cannot import it (the wheel here
exists for CPython 3.11 only), ``--torch-python PYTHON`` runs the PyTorch
rows in a worker process under that interpreter, interleaved with the rounds
of this one (the header names it); PyTorch's own speed barely depends on the
Python version, tinyrnn's does.

The corpus is generated deterministically (tinyrnn's PRNG) over the 65
characters of Karpathy's tiny-shakespeare (newline, space, ``!$&',-.3:;?``,
A-Z, a-z), or read from ``--corpus FILE`` (any vocabulary size).

    python3.12 tools/bench_train.py --torch-python python3.11 --markdown -
    python3 tools/bench_train.py --quick --hidden 8,16
"""

import argparse
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import IO, Any, Dict, List, Optional, Sequence, Set, Tuple, Union

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tinyrnn import RNN, Adagrad, Rng, clip_elementwise, init_params  # noqa: E402

np: Any
try:
    import numpy as np
except ImportError:  # the benchmark still runs tinyrnn (and torch) alone
    np = None

Chunks = List[Tuple[List[int], List[int]]]

T = 25  # steps per chunk (min-char-rnn's seq_length)
LR = 0.1
CLIP = 5.0
EPS = 1e-8
TOL = 1e-9
SEED = 42
ALPHABET = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CORPUS_CHARS = 20000

# ---------------------------------------------------------------- corpus


def make_corpus(size: int = CORPUS_CHARS, seed: int = 1) -> str:
    """A deterministic text over ALPHABET (65 symbols), all of them present.

    Words of 1-9 letters drawn with a skewed letter distribution, capitals,
    punctuation and line breaks: text-like statistics, no copyrighted text.
    """
    rng = Rng(seed)
    lower = ALPHABET[39:]
    upper = ALPHABET[13:39]
    punct = "!$&',-.3:;?"
    out = [ALPHABET]  # every symbol occurs at least once
    n = len(ALPHABET)
    while n < size:
        k = 1 + rng.below(9)
        word = "".join(lower[min(rng.below(26), rng.below(26))] for _ in range(k))
        if rng.below(6) == 0:
            word = upper[rng.below(26)] + word[1:]
        r = rng.below(20)
        sep = " " if r > 3 else ("\n" if r == 0 else punct[rng.below(len(punct))] + " ")
        out.append(word + sep)
        n += len(word) + len(sep)
    return "".join(out)[:size]


def load_corpus(path: Optional[str]) -> str:
    if path is None:
        return make_corpus()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SystemExit("bench_train: cannot read corpus %s: %s" % (path, e))
    if len(text) < T + 2 or len(set(text)) < 2:
        raise SystemExit("bench_train: corpus %s is too small (need %d characters, 2 distinct)" % (path, T + 2))
    return text


def make_chunks(text: str) -> Tuple[int, Chunks]:
    """(vocabulary size, [(inputs, targets)]) over consecutive 25-step chunks."""
    chars = sorted(set(text))
    ix = {c: i for i, c in enumerate(chars)}
    data = [ix[c] for c in text]
    chunks = []
    for p in range(0, len(data) - T - 1 + 1, T):
        chunks.append((data[p : p + T], data[p + 1 : p + T + 1]))
    return len(chars), chunks


def initial_params(V: int, H: int) -> List[float]:
    """min-char-rnn's initialisation (weights N(0, 0.01^2), biases 0) from tinyrnn's PRNG.

    The biases are then set small and nonzero so the check exercises them.
    """
    m = RNN(V, H, V, T, "softmax")
    rng = init_params(m, SEED + H, "normal", 0.01)
    L = m.layout
    for off, size in ((L.bh, H), (L.by, V)):
        m.params[off : off + size] = [0.01 * rng.normal() for _ in range(size)]
    return m.params[:]


# ------------------------------------------------------------ implementations


class TinyTrainer:
    name = "tinyrnn"

    def __init__(self, V: int, H: int, chunks: Chunks, params: List[float]) -> None:
        self.m = RNN(V, H, V, T, "softmax")
        self.m.params[:] = params
        self.opt = Adagrad(len(params), LR, EPS)
        self.chunks = chunks
        self.i = 0
        self.h: Optional[List[float]] = None
        self.loss = 0.0

    def step(self) -> None:
        if self.i == len(self.chunks):
            self.i, self.h = 0, None
        xs, ys = self.chunks[self.i]
        self.i += 1
        m = self.m
        self.loss = m.forward(xs, ys, h0=self.h)
        m.backward()
        used = m.grad_ranges()  # only the Wxh columns of this chunk's tokens have gradients
        clip_elementwise(m.grads, CLIP, used)
        self.opt.step(m.params, m.grads, used)
        self.h = m.final_state()

    def run(self, iters: int) -> None:
        step = self.step
        for _ in range(iters):
            step()

    # for the check
    def state(self) -> Dict[str, Any]:
        m = self.m
        L = m.layout
        g, p = m.grads, m.params
        return {
            "loss": self.loss,
            "grads": g[:],
            "params": p[:],
            "h": list(self.h or []),
            "sizes": (L.Wxh, L.Whh, L.bh, L.Why, L.by, L.size),
        }


class FloorTrainer:
    """The iteration's primitives alone, no glue (``tools/profile_core.py``): what pure Python cannot go below.

    Per iteration, once each over prebuilt lists: every dot product as the
    kernels compute it, the ``exp`` and ``tanh`` calls, the clip check and
    the Adagrad arithmetic of the parameters one chunk touches (the Wxh
    columns of ``used`` tokens). No slicing, no handles, no max or
    normalisation of the softmax.
    """

    name = "floor"

    def __init__(self, V: int, H: int, used: int) -> None:
        tools = os.path.dirname(os.path.abspath(__file__))
        if tools not in sys.path:
            sys.path.insert(0, tools)
        from profile_core import primitives

        self.fns = [f for _, f in primitives(H, V, V, T, used)]

    def run(self, iters: int) -> None:
        fns = self.fns
        for _ in range(iters):
            for f in fns:
                f()


class NumpyTrainer:
    """min-char-rnn's lossFun + Adagrad loop in NumPy, float64, 1-D vectors."""

    def __init__(self, V: int, H: int, chunks: Chunks, params: List[float], onehot: bool = False) -> None:
        self.name = "numpy-onehot" if onehot else "numpy"
        self.V, self.H, self.onehot = V, H, onehot
        p = np.array(params, dtype=np.float64)
        o = 0
        self.Wxh = p[o : o + H * V].reshape(H, V).copy()
        o += H * V
        self.Whh = p[o : o + H * H].reshape(H, H).copy()
        o += H * H
        self.bh = p[o : o + H].copy()
        o += H
        self.Why = p[o : o + V * H].reshape(V, H).copy()
        o += V * H
        self.by = p[o : o + V].copy()
        self.params = [self.Wxh, self.Whh, self.bh, self.Why, self.by]
        self.mems = [np.zeros_like(a) for a in self.params]
        self.eye = np.eye(V)  # rows are the one-hot vectors (onehot variant)
        self.chunks = chunks
        self.i = 0
        self.hprev = np.zeros(H)
        self.loss = 0.0
        self.grads: Tuple[Any, ...] = ()

    def lossFun(self, inputs: List[int], targets: List[int], hprev: Any) -> Tuple[float, Tuple[Any, ...], Any]:
        Wxh, Whh, bh, Why, by = self.params
        xs, hs, ps = {}, {}, {}
        hs[-1] = hprev
        loss = 0.0
        onehot = self.onehot
        for t in range(len(inputs)):
            if onehot:
                xs[t] = self.eye[inputs[t]]
                hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            else:
                hs[t] = np.tanh(Wxh[:, inputs[t]] + np.dot(Whh, hs[t - 1]) + bh)
            y = np.dot(Why, hs[t]) + by
            e = np.exp(y)
            ps[t] = e / np.sum(e)
            loss += -math.log(ps[t][targets[t]])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.outer(dy, hs[t])
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            if onehot:
                dWxh += np.outer(dhraw, xs[t])
            else:
                dWxh[:, inputs[t]] += dhraw
            dWhh += np.outer(dhraw, hs[t - 1])
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in (dWxh, dWhh, dbh, dWhy, dby):
            np.clip(dparam, -CLIP, CLIP, out=dparam)
        return loss, (dWxh, dWhh, dbh, dWhy, dby), hs[len(inputs) - 1]

    def step(self) -> None:
        if self.i == len(self.chunks):
            self.i = 0
            self.hprev = np.zeros(self.H)
        inputs, targets = self.chunks[self.i]
        self.i += 1
        self.loss, self.grads, self.hprev = self.lossFun(inputs, targets, self.hprev)
        for param, dparam, mem in zip(self.params, self.grads, self.mems):
            mem += dparam * dparam
            param += -LR * dparam / np.sqrt(mem + EPS)

    def run(self, iters: int) -> None:
        step = self.step
        for _ in range(iters):
            step()

    def state(self) -> Dict[str, Any]:
        return {
            "loss": float(self.loss),
            "grads": np.concatenate([g.ravel() for g in self.grads]).tolist(),
            "params": np.concatenate([p.ravel() for p in self.params]).tolist(),
            "h": self.hprev.tolist(),
        }


class NumpyMatmulTrainer(NumpyTrainer):
    """The fastest honest NumPy: the recurrence per step, every other layer one matrix product over the chunk.

    Forward: h[t] per step (column gather + Whh h + bh, tanh), then the
    logits of all steps as ``Hs @ Why.T + by`` and a row-wise softmax
    (shifted by each row's max). Backward: ``dWhy = dY.T @ Hs``,
    ``dHout = dY @ Why``, the recurrence per step, then ``dWhh`` as one
    product of the chunk's dh_raw and states and ``dWxh`` by ``np.add.at``.
    """

    def __init__(self, V: int, H: int, chunks: Chunks, params: List[float]) -> None:
        NumpyTrainer.__init__(self, V, H, chunks, params)
        self.name = "numpy-matmul"

    def lossFun(self, inputs: List[int], targets: List[int], hprev: Any) -> Tuple[float, Tuple[Any, ...], Any]:
        Wxh, Whh, bh, Why, by = self.params
        n, H = len(inputs), self.H
        hs = np.empty((n + 1, H))  # hs[0] = hprev, hs[t+1] = h after step t
        hs[0] = hprev
        for t in range(n):
            hs[t + 1] = np.tanh(Wxh[:, inputs[t]] + Whh @ hs[t] + bh)
        Z = hs[1:] @ Why.T + by  # (n, V) logits of the whole chunk
        Z -= Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        S = E.sum(axis=1)
        rows = np.arange(n)
        loss = float(np.sum(np.log(S) - Z[rows, targets]))
        dY = E / S[:, None]
        dY[rows, targets] -= 1.0
        dWhy = dY.T @ hs[1:]
        dby = dY.sum(axis=0)
        dHout = dY @ Why  # (n, H): Why^T dy for every step
        dhraw = np.empty((n, H))
        dhnext = np.zeros(H)
        for t in range(n - 1, -1, -1):
            dr = (1.0 - hs[t + 1] * hs[t + 1]) * (dHout[t] + dhnext)
            dhraw[t] = dr
            dhnext = Whh.T @ dr
        dWhh = dhraw.T @ hs[:n]
        dbh = dhraw.sum(axis=0)
        dWxh = np.zeros_like(Wxh)
        np.add.at(dWxh.T, inputs, dhraw)
        for dparam in (dWxh, dWhh, dbh, dWhy, dby):
            np.clip(dparam, -CLIP, CLIP, out=dparam)
        return loss, (dWxh, dWhh, dbh, dWhy, dby), hs[n]


_prepared: Dict[Tuple[int, int, str], Tuple[List[Any], List[Any], Chunks]] = {}  # -> (one-hot inputs, targets, chunks)


def prepare_torch(torch: Any, V: int, chunks: Chunks, dtype: str) -> Tuple[List[Any], List[Any]]:
    """One-hot input tensors (n, 1, V) and target tensors for every chunk, cached."""
    key = (id(chunks), len(chunks), dtype)
    if key not in _prepared:
        F, dt = torch.nn.functional, getattr(torch, dtype)
        xs = [F.one_hot(torch.tensor(x), V).to(dt).reshape(len(x), 1, V) for x, _ in chunks]
        ys = [torch.tensor(y) for _, y in chunks]
        _prepared[key] = (xs, ys, chunks)  # holding chunks keeps id() unique
    xs, ys, _ = _prepared[key]
    return xs, ys


class TorchTrainer:
    """nn.RNN(tanh) + nn.Linear, batch 1, autograd, clip_grad_value_, optim.Adagrad."""

    def __init__(
        self, torch: Any, V: int, H: int, chunks: Chunks, params: List[float], dtype: str = "float32", threads: Optional[int] = None
    ) -> None:
        self.torch = torch
        nn, F = torch.nn, torch.nn.functional
        dt = getattr(torch, dtype)
        self.threads = threads  # None: the default thread count
        self.name = "torch-%s%s" % ("f32" if dtype == "float32" else "f64", "-1t" if threads == 1 else "")
        self.H = H
        self.rnn = nn.RNN(V, H, nonlinearity="tanh", dtype=dt)
        self.lin = nn.Linear(H, V, dtype=dt)
        P = params
        o = 0
        with torch.no_grad():
            for tgt, rows, cols in ((self.rnn.weight_ih_l0, H, V), (self.rnn.weight_hh_l0, H, H), (self.rnn.bias_ih_l0, H, 0)):
                size = rows * cols if cols else rows
                tgt.copy_(torch.tensor(P[o : o + size], dtype=dt).reshape(tgt.shape))
                o += size
            self.rnn.bias_hh_l0.zero_()
            for tgt, size in ((self.lin.weight, V * H), (self.lin.bias, V)):
                tgt.copy_(torch.tensor(P[o : o + size], dtype=dt).reshape(tgt.shape))
                o += size
        self.parameters = list(self.rnn.parameters()) + list(self.lin.parameters())
        self.opt = torch.optim.Adagrad(self.parameters, lr=LR)
        # inputs prepared before timing, as the other implementations' are
        self.xs, self.ys = prepare_torch(torch, V, chunks, dtype)
        self.h0 = torch.zeros(1, 1, H, dtype=dt)
        self.h = self.h0
        self.i = 0
        self.loss: Any = None
        self.cross_entropy = F.cross_entropy
        self.clip = nn.utils.clip_grad_value_

    def forward_backward(self) -> None:
        if self.i == len(self.xs):
            self.i, self.h = 0, self.h0
        x, y = self.xs[self.i], self.ys[self.i]
        self.i += 1
        out, h_n = self.rnn(x, self.h)
        z = self.lin(out.reshape(x.shape[0], self.H))
        loss = self.cross_entropy(z, y, reduction="sum")
        self.opt.zero_grad()
        loss.backward()
        self.h = h_n.detach()
        self.loss = loss

    def step(self) -> None:
        self.forward_backward()
        self.clip(self.parameters, CLIP)
        self.opt.step()

    def run(self, iters: int) -> None:
        step = self.step
        for _ in range(iters):
            step()

    def select_threads(self, default: int) -> None:
        self.torch.set_num_threads(1 if self.threads == 1 else default)


# ------------------------------------------------------------------ checks


def max_err(a: Sequence[float], b: Sequence[float]) -> float:
    """max |a - b| / max(1, |b|): absolute for values up to 1, relative above."""
    if len(a) != len(b):
        return math.inf
    return max((abs(x - y) / max(1.0, abs(y)) for x, y in zip(a, b)), default=0.0)


def check_numpy(V: int, H: int, chunks: Chunks, params: List[float]) -> float:
    """Two training iterations of tinyrnn and the NumPy reference agree to TOL."""
    worst = 0.0
    for variant in ("numpy", "numpy-onehot", "numpy-matmul"):
        if variant == "numpy-matmul":
            b: NumpyTrainer = NumpyMatmulTrainer(V, H, chunks, params)
        else:
            b = NumpyTrainer(V, H, chunks, params, onehot=variant == "numpy-onehot")
        a = TinyTrainer(V, H, chunks, params)
        for it in range(2):
            a.step()
            b.step()
            sa, sb = a.state(), b.state()
            for key in ("loss", "grads", "params", "h"):
                va = [sa[key]] if key == "loss" else sa[key]
                vb = [sb[key]] if key == "loss" else sb[key]
                e = max_err(va, vb)
                if not e <= TOL:
                    raise AssertionError("H=%d %s iteration %d: %s differs by %.3g" % (H, b.name, it + 1, key, e))
                worst = max(worst, e)
        # the check has teeth: the gradients are not all zero
        if max(map(abs, sa["grads"])) < 1e-3:
            raise AssertionError("H=%d: degenerate check, gradients ~ 0" % H)
    return worst


def check_torch(torch: Any, V: int, H: int, chunks: Chunks, params: List[float]) -> float:
    """PyTorch float64 loss and gradients on one chunk (h0 != 0) agree with tinyrnn to TOL."""
    a = TinyTrainer(V, H, chunks, params)
    a.step()  # carries a nonzero state into chunk 1
    h0 = a.h
    xs, ys = chunks[1]
    m = a.m
    m.params[:] = params
    loss = m.forward(xs, ys, h0=h0)
    m.backward()
    b = TorchTrainer(torch, V, H, chunks[:2], params, "float64")
    b.i = 1
    b.h = torch.tensor(h0, dtype=torch.float64).reshape(1, 1, H)
    b.forward_backward()
    grads = []
    for p in (b.rnn.weight_ih_l0, b.rnn.weight_hh_l0, b.rnn.bias_ih_l0, b.lin.weight, b.lin.bias):
        grads += p.grad.flatten().tolist()
    e = max(
        max_err([loss], [b.loss.item()]),
        max_err(m.grads, grads),
        max_err(m.final_state(), b.h.flatten().tolist()),
        max_err(m.grads[m.layout.bh : m.layout.bh + H], b.rnn.bias_hh_l0.grad.tolist()),
    )
    if not e <= TOL:
        raise AssertionError("H=%d torch-f64: loss/gradients differ from tinyrnn by %.3g" % (H, e))
    return e


# ----------------------------------------------------------------- timing


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def measure(trainer: Any, seconds: float, batch: int, clock: str = "wall") -> float:
    """Iterations per second of trainer.run over at least ``seconds`` of ``clock``.

    ``wall``: elapsed time. ``cpu``: this process's CPU time, which other
    processes on a busy machine disturb much less; meaningful for
    single-threaded runs only (every row but PyTorch's default threads).
    """
    run = trainer.run
    tick = CLOCKS[clock]
    n = 0
    t0 = tick()
    while True:
        run(batch)
        n += batch
        dt = tick() - t0
        if dt >= seconds:
            return n / dt


def batch_for(H: int) -> int:
    return 5 if H <= 16 else 2


class LocalTorch:
    """PyTorch trainers in this process."""

    def __init__(self, torch: Any, float64: bool, multi_thread: bool = True) -> None:
        self.torch = torch
        self.default_threads = torch.get_num_threads()
        self.float64 = float64
        self.multi_thread = multi_thread
        self.trainers: Dict[Tuple[int, str], TorchTrainer] = {}
        self.info = "PyTorch %s in this process, default threads %d" % (torch.__version__, self.default_threads)

    def setup(self, V: int, H: int, chunks: Chunks, params: List[float]) -> Tuple[float, List[str]]:
        err = check_torch(self.torch, V, H, chunks, params)
        kinds = [("float32", 1)] + ([("float32", None)] if self.multi_thread else []) + ([("float64", 1)] if self.float64 else [])
        names = []
        for dtype, threads in kinds:
            t = TorchTrainer(self.torch, V, H, chunks, params, dtype, threads)
            self.trainers[(H, t.name)] = t
            names.append(t.name)
        return err, names

    def measure(self, H: int, name: str, seconds: float, clock: str) -> float:
        t = self.trainers[(H, name)]
        t.select_threads(self.default_threads)
        try:
            return measure(t, seconds, batch_for(H), clock)
        finally:
            self.torch.set_num_threads(self.default_threads)


class RemoteTorch:
    """PyTorch trainers in a worker process under another interpreter (--torch-python)."""

    def __init__(self, python: str, float64: bool, corpus: Optional[str], multi_thread: bool = True) -> None:
        try:
            self.proc = subprocess.Popen(
                [python, os.path.abspath(__file__), "--worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        except OSError as e:
            raise SystemExit("bench_train: cannot start --torch-python %s: %s" % (python, e))
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[str] = self.proc.stdin
        self.stdout: IO[str] = self.proc.stdout
        info = self.call({"op": "info", "float64": float64, "corpus": corpus, "multi_thread": multi_thread})
        self.info = "PyTorch %s under Python %s (worker process: %s), default threads %d" % (
            info["torch"],
            info["python"],
            python,
            info["threads"],
        )

    def call(self, msg: Dict[str, Any]) -> Dict[str, Any]:
        self.stdin.write(json.dumps(msg) + "\n")
        self.stdin.flush()
        line = self.stdout.readline()
        if not line:
            raise SystemExit("bench_train: the --torch-python worker exited (see its error above)")
        reply: Dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise SystemExit("bench_train: --torch-python worker: %s" % reply["error"])
        return reply

    def setup(self, V: int, H: int, chunks: Chunks, params: List[float]) -> Tuple[float, List[str]]:
        reply = self.call({"op": "setup", "H": H})
        return reply["err"], reply["names"]

    def measure(self, H: int, name: str, seconds: float, clock: str) -> float:
        return float(self.call({"op": "measure", "H": H, "name": name, "seconds": seconds, "clock": clock})["ips"])

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait()


def worker() -> int:
    """--worker: serve PyTorch setup/measure requests as JSON lines on stdin/stdout."""
    import torch

    local: Optional[LocalTorch] = None
    V, chunks = 0, []  # type: Tuple[int, Chunks]
    for line in sys.stdin:
        msg = json.loads(line)
        reply: Dict[str, Any]
        try:
            if msg["op"] == "info":
                local = LocalTorch(torch, msg["float64"], msg["multi_thread"])
                V, chunks = make_chunks(load_corpus(msg["corpus"]))
                reply = {"torch": torch.__version__, "python": platform.python_version(), "threads": local.default_threads}
            elif local is None:
                raise RuntimeError("the first request must be 'info'")
            elif msg["op"] == "setup":
                H = msg["H"]
                err, names = local.setup(V, H, chunks, initial_params(V, H))
                reply = {"err": err, "names": names}
            else:
                reply = {"ips": local.measure(msg["H"], msg["name"], msg["seconds"], msg["clock"])}
        except Exception as e:  # reported by the parent as one line
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


# ------------------------------------------------------------------- main


def parse_hidden(s: str) -> List[int]:
    try:
        hs = [int(v) for v in s.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("--hidden must be a comma-separated list of positive integers, got %r" % s)
    if not hs or min(hs) < 1:
        raise argparse.ArgumentTypeError("--hidden must be a comma-separated list of positive integers, got %r" % s)
    return hs


def positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        v = -1.0
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % s)
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Training iterations/s: tinyrnn vs NumPy vs PyTorch (see the module docstring).")
    p.add_argument("--hidden", type=parse_hidden, default=[8, 16, 32, 64], help="hidden sizes, e.g. 8,16 (default 8,16,32,64)")
    p.add_argument("--seconds", type=positive_float, default=1.0, help="seconds per measurement (default 1.0)")
    p.add_argument("--rounds", type=int, default=5, help="measurements of each implementation (default 5)")
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (default); cpu: process CPU time, steadier on a busy machine (drops PyTorch's multi-thread row)",
    )
    p.add_argument("--quick", action="store_true", help="short run: 0.3 s per measurement, 2 rounds")
    p.add_argument("--corpus", metavar="FILE", help="train on this text file instead of the generated 65-symbol corpus")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--torch-python", metavar="PYTHON", help="run the PyTorch rows under this interpreter (a worker process)")
    p.add_argument("--torch-float64", action="store_true", help="also time PyTorch in float64 (1 thread)")
    p.add_argument("--no-onehot", action="store_true", help="leave out the literal one-hot NumPy variant")
    p.add_argument("--floor", action="store_true", help="also time the iteration's primitives alone (the pure-Python floor)")
    p.add_argument("--markdown", metavar="FILE", help="write the table as markdown to FILE ('-' for stdout)")
    p.add_argument("--check-only", action="store_true", help="run the correctness checks and exit")
    p.add_argument("--profile", action="store_true", help="cProfile tinyrnn's iteration at each H instead of timing")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def fmt_ips(v: Optional[float]) -> str:
    return "-" if v is None else ("%.0f" % v if v >= 100 else "%.1f" % v)


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    return "-" if a is None or b is None else "%.2fx" % (a / b)


def profile(V: int, chunks: Chunks, hidden: List[int], seconds: float) -> None:
    import cProfile
    import pstats

    for H in hidden:
        t = TinyTrainer(V, H, chunks, initial_params(V, H))
        t.run(5)
        iters = max(20, int(measure(t, min(seconds, 0.5), 5) * seconds))
        print("\n== cProfile: tinyrnn, H=%d, %d iterations ==" % (H, iters))
        pr = cProfile.Profile()
        pr.enable()
        t.run(iters)
        pr.disable()
        pstats.Stats(pr, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        return worker()
    if args.quick:
        args.seconds, args.rounds = 0.3, 2
    if args.rounds < 1:
        raise SystemExit("bench_train: --rounds must be at least 1")
    text = load_corpus(args.corpus)
    V, chunks = make_chunks(text)
    corpus_desc = args.corpus or "generated, %d chars" % len(text)
    if args.profile:
        print("Python %s; corpus %s; vocabulary %d" % (platform.python_version(), corpus_desc, V))
        profile(V, chunks, args.hidden, args.seconds)
        return 0

    torch_side: Optional[Union[LocalTorch, RemoteTorch]] = None
    torch_note = ""
    if not args.no_torch:
        torch: Any = None
        multi_thread = args.clock == "wall"
        if not args.torch_python:
            try:
                torch = importlib.import_module("torch")
            except ImportError:
                pass
        if args.torch_python:
            torch_side = RemoteTorch(args.torch_python, args.torch_float64, args.corpus, multi_thread)
        elif torch is not None:
            torch_side = LocalTorch(torch, args.torch_float64, multi_thread)
        else:
            torch_note = "PyTorch: not importable on Python %s -- PyTorch rows left out (use --torch-python python3.11)" % (
                platform.python_version()
            )
    else:
        torch_note = "PyTorch: left out (--no-torch)"

    print("tinyrnn training benchmark: forward + BPTT + clip [-5, 5] + Adagrad(lr %g), %d-step chunks, batch 1" % (LR, T))
    print("Python %s (%s), %s" % (platform.python_version(), sys.executable, platform.machine()))
    print("NumPy %s" % (np.__version__ if np is not None else "not installed -- NumPy rows left out"))
    print(torch_side.info if torch_side else torch_note)
    print("corpus: %s, vocabulary %d, %d chunks" % (corpus_desc, V, len(chunks)))
    print("cpus %d, load average at start %.2f %.2f %.2f" % ((os.cpu_count() or 0,) + os.getloadavg()))
    print(
        "timing: %d rounds x %.2f s (%s clock) per implementation, rotating order; table = best round"
        % (args.rounds, args.seconds, "wall" if args.clock == "wall" else "process CPU")
    )

    results = {}  # H -> {name: [ips per round]}
    for H in args.hidden:
        params = initial_params(V, H)
        local: Dict[str, Any] = {"tinyrnn": TinyTrainer(V, H, chunks, params)}
        if args.floor:  # the Wxh columns of the mean chunk's distinct tokens
            local["floor"] = FloorTrainer(V, H, round(statistics.mean(len(set(xs)) for xs, _ in chunks)))
        checks = []
        if np is not None:
            checks.append("numpy %.1e" % check_numpy(V, H, chunks, params))
            local["numpy"] = NumpyTrainer(V, H, chunks, params)
            local["numpy-matmul"] = NumpyMatmulTrainer(V, H, chunks, params)
            if not args.no_onehot:
                local["numpy-onehot"] = NumpyTrainer(V, H, chunks, params, onehot=True)
        torch_names: List[str] = []
        if torch_side is not None:
            err, torch_names = torch_side.setup(V, H, chunks, params)
            checks.append("torch-f64 %.1e" % err)
        print("H=%d: %d parameters; check vs tinyrnn (max error): %s" % (H, len(params), ", ".join(checks) or "nothing to check against"))
        if args.check_only:
            continue
        names = list(local) + torch_names
        for name in local:  # warm up (allocations, caches)
            local[name].run(2)
        for name in torch_names:
            assert torch_side is not None
            torch_side.measure(H, name, 0.05, args.clock)
        rounds: Dict[str, List[float]] = {name: [] for name in names}
        for r in range(args.rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                if name in local:
                    ips = measure(local[name], args.seconds, batch_for(H), args.clock)
                else:
                    assert torch_side is not None
                    ips = torch_side.measure(H, name, args.seconds, args.clock)
                rounds[name].append(ips)
        results[H] = rounds
        line = "  ".join("%s %s (median %s)" % (n, fmt_ips(max(v)), fmt_ips(statistics.median(v))) for n, v in rounds.items())
        print("  it/s: " + line)
        paired = []  # per-round ratios: neighbours in time share the machine's load
        for a, b in [("tinyrnn", r) for r in ("numpy", "numpy-matmul", "torch-f32-1t", "floor")] + [("floor", "numpy")]:
            if a in rounds and b in rounds:
                rs = [x / y for x, y in zip(rounds[a], rounds[b])]
                paired.append("%s/%s %.2fx" % (a, b, statistics.median(rs)))
        if paired:
            print("  median of per-round ratios: " + ", ".join(paired))
    if isinstance(torch_side, RemoteTorch):
        torch_side.close()
    if args.check_only:
        print("checks passed")
        return 0
    print("load average at end %.2f %.2f %.2f" % os.getloadavg())

    table = make_table(results, args.torch_float64)
    print()
    print("\n".join(table))
    if args.markdown:
        md = "\n".join(table) + "\n"
        if args.markdown == "-":
            pass  # already printed
        else:
            with open(args.markdown, "w", encoding="utf-8") as f:
                f.write(
                    "Python %s, NumPy %s, %s; %d rounds x %.2f s, %s clock; load average at end %.2f\n\n"
                    % (
                        platform.python_version(),
                        np.__version__ if np else "-",
                        torch_side.info if torch_side else torch_note,
                        args.rounds,
                        args.seconds,
                        args.clock,
                        os.getloadavg()[0],
                    )
                )
                f.write("it/s: best round; ratios: of the best rounds (median of per-round ratios in parentheses)\n\n")
                f.write(md)
    return 0


def make_table(results: Dict[int, Dict[str, List[float]]], float64: bool) -> List[str]:
    """Markdown rows: best it/s of each implementation that ran, and the two ratios.

    A ratio cell is best/best, then in parentheses the median over rounds of
    the ratio within the round (neighbours in time share the machine's load);
    tinyrnn/PyTorch uses the faster float32 thread setting.
    """
    columns = [
        ("tinyrnn", "tinyrnn it/s"),
        ("numpy", "NumPy it/s"),
        ("numpy-matmul", "NumPy matmul it/s"),
        ("numpy-onehot", "NumPy one-hot it/s"),
        ("torch-f32-1t", "PyTorch f32 1 thread"),
        ("torch-f32", "PyTorch f32 default threads"),
        ("torch-f64-1t", "PyTorch f64 1 thread"),
        ("floor", "pure-Python floor it/s"),
    ]
    ran: Set[str] = set()
    for rounds in results.values():
        ran.update(rounds)
    columns = [(n, title) for n, title in columns if n in ran]
    matmul = "numpy-matmul" in ran
    head = ["H"] + [title for _, title in columns] + ["tinyrnn / NumPy (paired)"]
    head += ["tinyrnn / NumPy matmul (paired)"] if matmul else []
    head += ["tinyrnn / PyTorch (paired)"]
    head += ["floor / NumPy (paired)"] if "floor" in ran else []
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for H, rounds in results.items():
        best = {n: max(v) for n, v in rounds.items()}
        torch_names = [n for n in ("torch-f32-1t", "torch-f32") if n in rounds]
        torch_best = max([best[n] for n in torch_names], default=None)
        cells = [str(H)] + [fmt_ips(best.get(n)) for n, _ in columns]
        refs = [(best.get("numpy"), rounds.get("numpy"))]
        if matmul:
            refs.append((best.get("numpy-matmul"), rounds.get("numpy-matmul")))
        refs.append((torch_best, [max(r) for r in zip(*[rounds[n] for n in torch_names])] if torch_names else None))
        pairs = [("tinyrnn", ref_best, ref_rounds) for ref_best, ref_rounds in refs]
        if "floor" in ran:
            pairs.append(("floor", best.get("numpy"), rounds.get("numpy")))
        for name, ref_best, ref_rounds in pairs:
            cell = fmt_ratio(best.get(name), ref_best)
            if ref_rounds and name in rounds:
                paired = statistics.median(a / b for a, b in zip(rounds[name], ref_rounds))
                cell += " (%.2fx)" % paired
            cells.append(cell)
        rows.append("| " + " | ".join(cells) + " |")
    return rows


if __name__ == "__main__":
    sys.exit(main())
