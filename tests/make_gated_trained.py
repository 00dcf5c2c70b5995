"""Write tests/data/gated_trained.json: char models trained on export_cases.TEXT (next character, H = 8).

A GRU and a 2-layer LSTM trained by PyTorch (float64, Adam; the weights mapped
to tinyrnn's flat layout by gated_ref.from_torch) and an LSTM trained by
tinyrnn itself (Adam, clipped). The C export tests run them for 10,000
free-running steps on every target. Rerun with the py3.11 test venv (torch):
    .venv-test/py3.11/bin/python tests/make_gated_trained.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import export_cases as ec  # noqa: E402
import gated_ref as gr  # noqa: E402

SHAPES = (("gru", 1), ("lstm", 2))
H, T, ITERS = 8, 25, 400


def train(cell: str, layers: int, vocab: "list[str]", ids: "list[int]") -> "dict":
    torch.manual_seed(5)
    V = len(vocab)
    rnn = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](V, H, num_layers=layers, batch_first=True).double()
    lin = torch.nn.Linear(H, V).double()
    opt = torch.optim.Adam(list(rnn.parameters()) + list(lin.parameters()), lr=0.02)
    eye = torch.eye(V, dtype=torch.float64)
    p = 0
    for it in range(ITERS):
        if p + T + 1 > len(ids):
            p = 0
        x = eye[ids[p : p + T]].unsqueeze(0)
        y = torch.tensor(ids[p + 1 : p + T + 1])
        out, _ = rnn(x)
        loss = torch.nn.functional.cross_entropy(lin(out[0]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        p += T
    m = gr.make(V, H, V, "softmax", cell, layers)
    gr.from_torch(m, rnn, lin)
    return {"cell": cell, "layers": layers, "X": V, "H": H, "Y": V, "loss": float(loss.detach()), "vocab": vocab, "params": m.params,
            "trained_by": "torch"}


def train_core(cell: str, layers: int, vocab: "list[str]", ids: "list[int]") -> "dict":
    from tinyrnn import Adam, RNN, clip_elementwise, init_params

    V = len(vocab)
    m = RNN(V, H, V, T, "softmax", cell=cell, layers=layers)
    init_params(m, 11, "xavier")
    opt = Adam(m.num_params, 0.01)
    p = 0
    for it in range(ITERS):
        if p + T + 1 > len(ids):
            p = 0
        loss = m.forward(ids[p : p + T], ids[p + 1 : p + T + 1])
        m.backward()
        clip_elementwise(m.grads, 5.0)
        opt.step(m.params, m.grads)
        p += T
    return {"cell": cell, "layers": layers, "X": V, "H": H, "Y": V, "loss": float(loss) / T, "vocab": vocab, "params": list(m.params),
            "trained_by": "tinyrnn"}


def main() -> None:
    vocab = sorted(set(ec.TEXT))
    ids = [vocab.index(c) for c in ec.TEXT]
    out = [train(cell, layers, vocab, ids) for cell, layers in SHAPES] + [train_core("lstm", 1, vocab, ids)]
    for d in out:
        print("%s L=%d (%s): final training loss %.3f" % (d["cell"], d["layers"], d["trained_by"], d["loss"]))
    with open(os.path.join(HERE, "data", "gated_trained.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
