"""nn.LSTM / nn.GRU / nn.RNN as ONNX LSTM / GRU / RNN nodes, one per layer (both directions in one node).

PyTorch stacks the LSTM gates as i, f, g, o in weight_ih/weight_hh/bias_*; ONNX wants i, o, f, c (c is
torch's g). GRU: torch r, z, n; ONNX z, r, h, with linear_before_reset=1 for torch's
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). ONNX takes W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] =
(Wb, Rb). The re-ordered weights are initializers computed here from the parameters, so the exported
graph needs the parameters' values (export_params=True).
"""
import numpy as np

from ._trace import UnsupportedOperatorError, _to_numpy

# torch's gate chunks picked in ONNX's order
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}


def _gates(w, hidden, mode):
    return np.concatenate([w[k * hidden:(k + 1) * hidden] for k in _GATE_ORDER[mode]], axis=0)


def recurrent(g, out, m, input, hx):
    """The whole (multi-layer, maybe bidirectional) module; returns the names of (output, h_n[, c_n])."""
    name = type(m).__name__
    lstm = m.mode == "LSTM"
    if not g.export_params:
        raise UnsupportedOperatorError(name, " with export_params=False (its weights are re-ordered for ONNX)")
    if input.dim() != 3:
        raise UnsupportedOperatorError(name, " with an unbatched or packed input")
    if m.training and m.dropout and m.num_layers > 1:
        raise UnsupportedOperatorError(name, " with dropout in training mode (call model.eval())")
    H, L, D = m.hidden_size, m.num_layers, (2 if m.bidirectional else 1)
    x = g.v(input)
    if m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    states = [] if hx is None else [g.v(hx[0]), g.v(hx[1])] if lstm else [g.v(hx)]
    finals = [[] for _ in range(2 if lstm else 1)]
    for layer in range(L):
        W, R, B = [], [], []
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh = (None if p is None else _to_numpy(p) for p in m._layer_params(layer, d))
            W.append(_gates(w_ih, H, m.mode))
            R.append(_gates(w_hh, H, m.mode))
            if b_ih is not None:
                B.append(np.concatenate([_gates(b_ih, H, m.mode), _gates(b_hh, H, m.mode)]))
        prefix = f"onnx::{name}_l{layer}"
        inputs = [x, g.const(np.stack(W), prefix + "_W"), g.const(np.stack(R), prefix + "_R"),
                  g.const(np.stack(B), prefix + "_B") if B else "", ""]
        rows = [g.ints([layer * D]), g.ints([(layer + 1) * D]), g.ints([0])]
        inputs += [g.op("Slice", s, *rows) if L > 1 else s for s in states]
        attrs = {"hidden_size": H, "direction": "bidirectional" if D == 2 else "forward"}
        if m.mode == "GRU":
            attrs["linear_before_reset"] = 1
        elif not lstm:
            attrs["activations"] = ["Relu" if m.mode == "RNN_RELU" else "Tanh"] * D
        op = "LSTM" if lstm else "GRU" if m.mode == "GRU" else "RNN"
        y, *last = g.op(op, *inputs, outputs=3 if lstm else 2, **attrs)
        for f, n in zip(finals, last):
            f.append(n)
        # Y is [T, D, B, H]; the next layer (and the output) wants [T, B, D*H]
        if D == 1:
            x = g.op("Squeeze", y, g.ints([1]))
        else:
            x = g.op("Reshape", g.op("Transpose", y, perm=[0, 2, 1, 3]), g.ints([0, 0, -1]))
    if m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    finals = [f[0] if L == 1 else g.op("Concat", *f, axis=0) for f in finals]
    return [x, finals] if lstm else [x, finals[0]]
