"""Write tests/data/gated_trained.json: a GRU and a 2-layer LSTM char model trained by PyTorch.

The C export tests run these (as "trained models") for 10,000 free-running
steps on every target. Trained in float64 with Adam on export_cases.TEXT
(next-character prediction, H = 8); the weights are mapped to tinyrnn's flat
layout by gated_ref.from_torch. Rerun with the py3.11 test venv (it has torch):
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
    return {"cell": cell, "layers": layers, "X": V, "H": H, "Y": V, "loss": float(loss.detach()), "vocab": vocab, "params": m.params}


def main() -> None:
    vocab = sorted(set(ec.TEXT))
    ids = [vocab.index(c) for c in ec.TEXT]
    out = [train(cell, layers, vocab, ids) for cell, layers in SHAPES]
    for d in out:
        print("%s L=%d: final training loss %.3f" % (d["cell"], d["layers"], d["loss"]))
    with open(os.path.join(HERE, "data", "gated_trained.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
