"""The recurrent cells: a forward/backward pair each, one time step of one layer.

PyTorch's conventions (weights move over from ``nn.RNN``/``nn.GRU``/``nn.LSTM``
unchanged), gate blocks of H rows in PyTorch's order::

    rnn:   h' = tanh(Wxh x + Whh h + bh)
    gru:   r = sig(W_ir x + b_ir + W_hr h + b_hr)          blocks r | z | n
           z = sig(W_iz x + b_iz + W_hz h + b_hz)
           n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
           h' = n + z * (h - n)                            (= (1 - z) n + z h)
    lstm:  i, f, o = sig(W_i. x + b_i. + W_h. h + b_h.)    blocks i | f | g | o
           g = tanh(W_ig x + b_ig + W_hg h + b_hg)
           c' = f * c + i * g,  h' = o * tanh(c')

Every function works on flat buffers at offsets, through the kernels only
(H units, G gates: 1 rnn, 3 gru, 4 lstm)::

    Wh      handle of [Whh | bhh] (rnn: [Whh | bh]); WhT: handle of Whh^T
    ax      (G*H at 0) the input's share: Wxh x + bxh (rnn: Wxh x), computed by the caller
    h       h[hp:hp+H] the state before the step; forward writes h' at hq (hq == hp: in place)
    a       (G*H at ap) the gates after their activations (gru r|z|n, lstm i|f|g|o; rnn: unused)
    e       (H at ep) gru: W_hn h + b_hn; lstm: tanh(c')
    c       lstm: c[cp:cp+H] the cell before the step, c' written at cq

``backward`` reads the forward's buffers (h' at hp + H, c' at cp + H) and
dh (dL/dh': from the layer above or the head, plus the next step's share)
and writes da (dL/d pre-activations, the input side: what Wxh and bxh see;
rnn: dh_raw), dah (the hidden side, what Whh and bhh see: da itself except
in gru's n block, r * da_n), dn (dL/dh) and, for lstm, dc (dL/dc' in,
dL/dc out).
"""

from . import kernels as k
from .kernels import sigmoid, tanh

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .kernels import Buf, Mat

# fmt: off
def rnn_forward(Wh: "Mat", ax: "Buf", h: "Buf", hp: int, hq: int, a: "Buf", ap: int,
                e: "Buf", ep: int, c: "Buf", cp: int, cq: int, H: int) -> None:
    k.mv(Wh, h, hp, h, hq, tanh, ax, 0, 1)               # h' = tanh(Whh h + bh + Wxh x)


def rnn_backward(WhT: "Mat", h: "Buf", hp: int, dh: "Buf", dp: int, a: "Buf", ap: int, e: "Buf", ep: int,
                 c: "Buf", cp: int, da: "Buf", dap: int, dah: "Buf", dahp: int,
                 dn: "Buf", dnp: int, dc: "Buf", dcp: int, H: int) -> None:
    k.dtanh(h, hp + H, dh, dp, da, dap, H)               # dh_raw = (1 - h'^2) dh
    k.mtv(WhT, da, dap, dn, dnp)                         # dL/dh = Whh^T dh_raw


def gru_forward(Wh: "Mat", ax: "Buf", h: "Buf", hp: int, hq: int, a: "Buf", ap: int,
                e: "Buf", ep: int, c: "Buf", cp: int, cq: int, H: int) -> None:
    r, z, n = ap, ap + H, ap + 2 * H
    k.mv(Wh, h, hp, a, ap)                               # a = Whh h + bhh (hidden side, r|z|n)
    k.copy(e, ep, a, n, H)                               # e = W_hn h + b_hn
    k.vadd(ax, 0, a, r, a, r, 2 * H)                     # r, z pre-activations
    k.amap(sigmoid, a, r, a, r, 2 * H)
    k.vmul(a, r, e, ep, a, n, H)                         # n = tanh(ax_n + r * (W_hn h + b_hn))
    k.vadd(ax, 2 * H, a, n, a, n, H)
    k.amap(tanh, a, n, a, n, H)
    k.sub(h, hp, a, n, h, hq, H)                         # h' = n + z * (h - n)
    k.vmul(a, z, h, hq, h, hq, H)
    k.vadd(a, n, h, hq, h, hq, H)


def gru_backward(WhT: "Mat", h: "Buf", hp: int, dh: "Buf", dp: int, a: "Buf", ap: int, e: "Buf", ep: int,
                 c: "Buf", cp: int, da: "Buf", dap: int, dah: "Buf", dahp: int,
                 dn: "Buf", dnp: int, dc: "Buf", dcp: int, H: int) -> None:
    r, z, n = ap, ap + H, ap + 2 * H
    dr, dz, dnn = dap, dap + H, dap + 2 * H
    k.sub(h, hp, a, n, da, dz, H)                        # dz = dh * (h - n), through the sigmoid
    k.vmul(dh, dp, da, dz, da, dz, H)
    k.dsigmoid(a, z, da, dz, da, dz, H)
    k.vmul(dh, dp, a, z, dn, dnp, H)                     # dL/dh, direct path: dh * z
    k.sub(dh, dp, dn, dnp, da, dnn, H)                   # dn = dh * (1 - z), through the tanh
    k.dtanh(a, n, da, dnn, da, dnn, H)
    k.vmul(da, dnn, e, ep, da, dr, H)                    # dr = da_n * (W_hn h + b_hn), through the sigmoid
    k.dsigmoid(a, r, da, dr, da, dr, H)
    k.copy(dah, dahp, da, dr, 2 * H)                     # hidden side: r, z as the input side,
    k.vmul(da, dnn, a, r, dah, dahp + 2 * H, H)          # n scaled by r
    k.mtv(WhT, dah, dahp, dn, dnp, dn, dnp)              # dL/dh = Whh^T dah + dh * z


def lstm_forward(Wh: "Mat", ax: "Buf", h: "Buf", hp: int, hq: int, a: "Buf", ap: int,
                 e: "Buf", ep: int, c: "Buf", cp: int, cq: int, H: int) -> None:
    i, f, g, o = ap, ap + H, ap + 2 * H, ap + 3 * H
    k.mv(Wh, h, hp, a, ap, None, ax, 0, 1)               # a = Whh h + bhh + ax (i|f|g|o)
    k.amap(sigmoid, a, i, a, i, 2 * H)
    k.amap(tanh, a, g, a, g, H)
    k.amap(sigmoid, a, o, a, o, H)
    k.vmul(a, f, c, cp, c, cq, H)                        # c' = f * c + i * g
    k.vmul(a, i, a, g, e, ep, H)
    k.vadd(c, cq, e, ep, c, cq, H)
    k.amap(tanh, c, cq, e, ep, H)                        # e = tanh(c')
    k.vmul(a, o, e, ep, h, hq, H)                        # h' = o * tanh(c')


def lstm_backward(WhT: "Mat", h: "Buf", hp: int, dh: "Buf", dp: int, a: "Buf", ap: int, e: "Buf", ep: int,
                  c: "Buf", cp: int, da: "Buf", dap: int, dah: "Buf", dahp: int,
                  dn: "Buf", dnp: int, dc: "Buf", dcp: int, H: int) -> None:
    i, f, g, o = ap, ap + H, ap + 2 * H, ap + 3 * H
    di, df, dg, do = dap, dap + H, dap + 2 * H, dap + 3 * H
    k.vmul(dh, dp, a, o, da, di, H)                      # dc += dh * o * (1 - tanh(c')^2)
    k.dtanh(e, ep, da, di, da, di, H)
    k.vadd(dc, dcp, da, di, dc, dcp, H)
    k.vmul(dh, dp, e, ep, da, do, H)                     # do = dh * tanh(c')
    k.dsigmoid(a, o, da, do, da, do, H)
    k.vmul(dc, dcp, a, g, da, di, H)                     # di = dc * g
    k.dsigmoid(a, i, da, di, da, di, H)
    k.vmul(dc, dcp, a, i, da, dg, H)                     # dg = dc * i
    k.dtanh(a, g, da, dg, da, dg, H)
    k.vmul(dc, dcp, c, cp, da, df, H)                    # df = dc * c
    k.dsigmoid(a, f, da, df, da, df, H)
    k.vmul(dc, dcp, a, f, dc, dcp, H)                    # dL/dc = dc * f
    k.mtv(WhT, da, dap, dn, dnp)                         # dL/dh = Whh^T da
# fmt: on


FORWARD = {"rnn": rnn_forward, "gru": gru_forward, "lstm": lstm_forward}
BACKWARD = {"rnn": rnn_backward, "gru": gru_backward, "lstm": lstm_backward}
