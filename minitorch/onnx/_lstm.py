"""nn.LSTM as ONNX LSTM nodes, one per layer (both directions in one node when bidirectional).

PyTorch stacks the gates as i, f, g, o in weight_ih/weight_hh/bias_*; ONNX wants i, o, f, c (c is torch's
g) in W [D, 4H, I], R [D, 4H, H] and B [D, 8H] = (Wb, Rb). The re-ordered weights are initializers computed
here from the parameters, so the exported graph needs the parameters' values (export_params=True).
"""
import numpy as np

from ._trace import UnsupportedOperatorError

_ONNX_GATE_ORDER = (0, 3, 1, 2)  # torch's (i, f, g, o) chunks picked in ONNX's (i, o, f, c) order


def _gates(w, hidden):
    return np.concatenate([w[k * hidden:(k + 1) * hidden] for k in _ONNX_GATE_ORDER], axis=0)


def lstm(g, out, m, input, hx):
    if not g.export_params:
        raise UnsupportedOperatorError("LSTM", " with export_params=False (its weights are re-ordered for ONNX)")
    if input.dim() != 3:
        raise UnsupportedOperatorError("LSTM", " with an unbatched or packed input")
    if m.proj_size:
        raise UnsupportedOperatorError("LSTM", " with proj_size")
    H, L, D = m.hidden_size, m.num_layers, (2 if m.bidirectional else 1)
    x = g.v(input)
    if m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    h0 = c0 = None
    if hx is not None:
        h0, c0 = g.v(hx[0]), g.v(hx[1])
    hn, cn = [], []
    for layer in range(L):
        W, R, B = [], [], []
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh = (None if p is None else p.detach().numpy() for p in m._layer_params(layer, d))
            W.append(_gates(w_ih, H))
            R.append(_gates(w_hh, H))
            if b_ih is not None:
                B.append(np.concatenate([_gates(b_ih, H), _gates(b_hh, H)]))
        prefix = f"onnx::LSTM_l{layer}"
        inputs = [x, g.const(np.stack(W), prefix + "_W"), g.const(np.stack(R), prefix + "_R"),
                  g.const(np.stack(B), prefix + "_B") if B else "", ""]
        if h0 is not None:
            rows = [g.ints([layer * D]), g.ints([(layer + 1) * D]), g.ints([0])]
            inputs += [g.op("Slice", h0, *rows) if L > 1 else h0, g.op("Slice", c0, *rows) if L > 1 else c0]
        y, y_h, y_c = g.op("LSTM", *inputs, outputs=3, hidden_size=H,
                           direction="bidirectional" if D == 2 else "forward")
        hn.append(y_h)
        cn.append(y_c)
        # Y is [T, D, B, H]; the next layer (and the output) wants [T, B, D*H]
        if D == 1:
            x = g.op("Squeeze", y, g.ints([1]))
        else:
            x = g.op("Reshape", g.op("Transpose", y, perm=[0, 2, 1, 3]), g.ints([0, 0, -1]))
    if m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    h = hn[0] if L == 1 else g.op("Concat", *hn, axis=0)
    c = cn[0] if L == 1 else g.op("Concat", *cn, axis=0)
    return [x, [h, c]]
