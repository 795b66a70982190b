"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's names, shapes, gate orders and init.

LSTM on CPU and CUDA runs each layer and direction as one fused C call (minitorch._C._lstm_layer: one
GEMM for the input projection of all steps, one GEMM + one fused gate kernel per step, backward through
time in C, one autograd node MkldnnRnnLayerBackward0 per layer and direction, like torch on CPU; on CUDA
the GEMMs run on the GPU backend and the gate kernels are cuda/rnn.cu's).
GRU, RNN, the cells and LSTM on other devices are composed from tensor ops step by step.
"""
import math
import numbers
import warnings

import numpy as np

from ... import _C
from ..._creation import empty, zeros
from ...autograd.function import Function
from .. import _functional_layers as F
from .. import init
from .._narrow import in_float32
from ...amp.autocast_mode import lower_precision
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _index, _lengths_np
from .layers import _factory
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
# devices with the fused LSTM layer kernels (csrc/ops/rnn.h mt_rnn_backends; cuda/rnn.cu)
_FUSED_LSTM_DEVICES = ("cpu", "cuda")


def _cat(ts, dim):
    return _C.cat(list(ts), dim)


def _stack(ts, dim):
    return _C.stack(list(ts), dim)


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        kw = _factory(device, dtype)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1

        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          "expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size != 0:
            raise NotImplementedError("minitorch: LSTM with proj_size > 0 is not supported")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size

        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else hidden_size * num_directions
                w_ih = Parameter(empty((gate_size, layer_input_size), **kw))
                w_hh = Parameter(empty((gate_size, hidden_size), **kw))
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                params = [w_ih, w_hh]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    params += [Parameter(empty((gate_size,), **kw)), Parameter(empty((gate_size,), **kw))]
                for name, p in zip(names, params):
                    setattr(self, name, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        pass

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_params(self, layer, direction):
        sfx = "_reverse" if direction == 1 else ""
        p = self._parameters
        w_ih, w_hh = p[f"weight_ih_l{layer}{sfx}"], p[f"weight_hh_l{layer}{sfx}"]
        if self.bias:
            return w_ih, w_hh, p[f"bias_ih_l{layer}{sfx}"], p[f"bias_hh_l{layer}{sfx}"]
        return w_ih, w_hh, None, None

    # ---- checks (torch's messages) ----
    def check_input(self, input, batch_sizes=None):
        w = self._parameters[self._flat_weights_names[0]]
        if input.dtype.is_floating_point and input.dtype != w.dtype:
            raise ValueError(f"input must have the type {w.dtype}, got type {input.dtype}")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes=None):
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def _dtype_check(self, input):
        w = self._parameters[self._flat_weights_names[0]]
        if input.dtype != w.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert input: "
                f"input.to({w.dtype}), or convert model: model.to({input.dtype})")

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- the stacked, time-major run: x (T, B, I), hs / cs lists of (B, H) per layer*dir or None ----
    def _run(self, x, h0, c0):
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        nd = 2 if self.bidirectional else 1
        hn, cn = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(nd):
                k = layer * nd + d
                h = None if h0 is None else h0[k]
                c = None if c0 is None else c0[k]
                o, h, c = self._layer(x, h, c, self._layer_params(layer, d), d == 1)
                outs.append(o)
                hn.append(h)
                cn.append(c)
            x = outs[0] if nd == 1 else _cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, _stack(hn, 0), (_stack(cn, 0) if self.mode == "LSTM" else None)

    @lower_precision
    @in_float32
    def _layer(self, x, h, c, params, reverse):
        w_ih, w_hh, b_ih, b_hh = params
        T, B = x.shape[0], x.shape[1]
        H = self.hidden_size
        if self.mode == "LSTM" and x.device.type in _FUSED_LSTM_DEVICES:
            return _C._lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse)
        # composed path: one projection for all steps, then one step at a time
        xp = x.matmul(w_ih.t())
        if b_ih is not None:
            xp = xp + b_ih
        if self.mode != "LSTM" and x.device.type == "cpu" and T > 0:
            h0 = h if h is not None else zeros((B, H), dtype=x.dtype, device=x.device)
            if self.mode == "GRU":
                out, hn = _GRULayer.apply(xp, h0, w_hh, b_hh, reverse)
            else:
                out, hn = _RNNLayer.apply(xp if b_hh is None else xp + b_hh, h0, w_hh, self.mode == "RNN_RELU", reverse)
            return out, hn, None
        if h is None:
            h = zeros((B, H), dtype=x.dtype, device=x.device)
        if self.mode == "LSTM" and c is None:
            c = zeros((B, H), dtype=x.dtype, device=x.device)
        outs = [None] * T
        steps = _time_steps(T, reverse)
        xps = xp.unbind(0)  # one node for all steps (xp[t] would each send back a zero-filled (T, B, G) gradient)
        for t in steps:
            h, c = _cell(self.mode, xps[t], h, c, w_hh, b_hh)
            outs[t] = h
        out = _stack(outs, 0) if T > 0 else x.new_zeros((0, B, H))
        return out, h, c

    def _prepare(self, input, hx, name):
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"{'tensor ' if name == 'RNN' else ''}instead")
        self._dtype_check(input)
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        return input, batched, batch_dim

    # ---- PackedSequence input: run the stack once per group of equal-length sequences ----
    def _forward_packed(self, input, hx):
        """Packed input, as torch: returns a PackedSequence with the same batch_sizes / indices and the final
        states taken at each sequence's own last step, in the caller's batch order.

        The batch is sorted by length (as packing leaves it), so the sequences of one length are a
        contiguous block; each block runs through the whole layer stack (_run: the fused / composed
        layers, so forward and backward are the unpacked ones) as a batch without padding. Cost: one
        stack run per distinct length, i.e. sum over distinct lengths L_g of L_g sequential steps
        (at most T * #lengths, and B runs when every length differs) instead of T steps with a shrinking
        batch; the work per step is the same in total. Gathering the blocks and re-packing are one
        index_select each."""
        data, batch_sizes, sorted_indices, unsorted_indices = input
        self.check_input(data, batch_sizes)
        bs = batch_sizes.detach().cpu().numpy().astype("int64")
        B = int(bs[0])
        nd = 2 if self.bidirectional else 1
        is_lstm = self.mode == "LSTM"
        h0 = c0 = None
        if hx is not None:
            if is_lstm:
                h0, c0 = hx
            else:
                h0 = hx
            expected = (self.num_layers * nd, B, self.hidden_size)
            if is_lstm:
                self.check_hidden_size(h0, expected, "Expected hidden[0] size {}, got {}")
                self.check_hidden_size(c0, expected, "Expected hidden[1] size {}, got {}")
            else:
                self.check_hidden_size(h0, expected)
            if sorted_indices is not None:   # hx is in the caller's order
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if c0 is not None else None
        lengths = _lengths_np(bs)                      # sorted decreasing
        offsets = np.concatenate([[0], np.cumsum(bs)])
        # packed row of (t, b): offsets[t] + b; pad rows never read
        outs, hns, cns = [], [], []
        out_rows = np.zeros(int(offsets[-1]), dtype=np.int64)
        base = 0
        b0 = 0
        while b0 < B:
            L = int(lengths[b0])
            b1 = b0
            while b1 < B and lengths[b1] == L:
                b1 += 1
            n = b1 - b0
            t_idx = np.arange(L)
            rows = (offsets[:L][:, None] + np.arange(b0, b1)[None, :]).reshape(-1)   # (L * n,) time-major
            x = data.index_select(0, _index(rows, data.device)).reshape(L, n, data.shape[1])
            hg = None if h0 is None else h0[:, b0:b1]
            cg = None if c0 is None else c0[:, b0:b1]
            o, hn, cn = self._run(x, hg, cg)
            outs.append(o.reshape(L * n, o.shape[2]))
            hns.append(hn)
            if is_lstm:
                cns.append(cn)
            out_rows[rows] = base + (t_idx[:, None] * n + np.arange(n)[None, :]).reshape(-1)
            base += L * n
            b0 = b1
        out_all = outs[0] if len(outs) == 1 else _cat(outs, 0)
        out_data = out_all.index_select(0, _index(out_rows, data.device))
        hn = hns[0] if len(hns) == 1 else _cat(hns, 1)
        cn = (cns[0] if len(cns) == 1 else _cat(cns, 1)) if is_lstm else None
        if unsorted_indices is not None:
            hn = hn.index_select(1, unsorted_indices)
            cn = cn.index_select(1, unsorted_indices) if cn is not None else None
        out = PackedSequence(out_data, batch_sizes, sorted_indices, unsorted_indices)
        return (out, (hn, cn)) if is_lstm else (out, hn)

    def _finish(self, out, batched, batch_dim):
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(batch_dim)
        return out


def _time_steps(T, reverse):
    """a layer's steps in the order its forward runs them (its backward runs them reversed)"""
    return range(T - 1, -1, -1) if reverse else range(T)


def _prev_states(out, h0, reverse):
    """h_{t-1} of every step t, (T, B, H): h0 at the layer's first step"""
    return _cat([out[1:], h0[None]], 0) if reverse else _cat([h0[None], out[:-1]], 0)


def _recurrent_weight_grad(d, prev):
    """w_hh's gradient as one GEMM over all steps: d (T, B, G) the gradients of the recurrent
    pre-activations, prev (T, B, H) the states they were computed from"""
    return d.reshape(-1, d.shape[2]).t().matmul(prev.reshape(-1, prev.shape[2]))


class _GRULayer(Function):
    """A GRU layer's time loop on CPU after its input projection xp = x @ w_ih^T + b_ih (T, B, 3H): per
    step one GEMM and the fused cell (_C._gru_cell_forward), no autograd inside; backward through
    time with the cell's gradient kernel and one GEMM per step, then w_hh's gradient as one GEMM over
    all steps instead of a hundred accumulated ones."""

    @staticmethod
    def forward(ctx, xp, h0, w_hh, b_hh, reverse):
        T = xp.shape[0]
        w_t = w_hh.t()
        outs, acts = [None] * T, [None] * T
        h = h0
        for t in _time_steps(T, reverse):
            hh = h.matmul(w_t) if b_hh is None else b_hh.addmm(h, w_t)
            h, acts[t] = _C._gru_cell_forward(xp[t], hh, h)
            outs[t] = h
        out = _stack(outs, 0)
        ctx.save_for_backward(h0, w_hh, out)
        ctx.acts = acts  # internal: never handed out, so no version to check
        ctx.reverse = reverse
        return out, h

    @staticmethod
    def backward(ctx, g_out, g_hn):
        h0, w_hh, out = ctx.saved_tensors
        need_xp, need_h0, need_w, need_b = ctx.needs_input_grad[:4]
        T, steps, acts = out.shape[0], _time_steps(out.shape[0], ctx.reverse), ctx.acts
        prev = _prev_states(out, h0, ctx.reverse)
        dxps, dhhs = [None] * T, [None] * T
        dh = g_hn
        for t in reversed(steps):
            dxps[t], dhhs[t], dh_cell = _C._gru_cell_backward(g_out[t] + dh, acts[t], prev[t], need_xp, True, True)
            dh = dh_cell.addmm(dhhs[t], w_hh) if (need_h0 or t != steps[0]) else None
        dhh = _stack(dhhs, 0)
        dw = _recurrent_weight_grad(dhh, prev) if need_w else None
        db = dhh.sum((0, 1)) if need_b else None
        return (_stack(dxps, 0) if need_xp else None), (dh if need_h0 else None), dw, db, None


class _RNNLayer(Function):
    """A tanh / ReLU RNN layer's time loop on CPU after its input projection with both biases,
    xp = x @ w_ih^T + b_ih + b_hh (T, B, H): per step one addmm and the nonlinearity, no autograd
    inside; backward through time with one GEMM per step, w_hh's gradient as one GEMM at the end."""

    @staticmethod
    def forward(ctx, xp, h0, w_hh, relu, reverse):
        T = xp.shape[0]
        w_t = w_hh.t()
        outs = [None] * T
        h = h0
        for t in _time_steps(T, reverse):
            pre = xp[t].addmm(h, w_t)
            h = pre.relu() if relu else pre.tanh()
            outs[t] = h
        out = _stack(outs, 0)
        ctx.save_for_backward(h0, w_hh, out)
        ctx.relu, ctx.reverse = relu, reverse
        return out, h

    @staticmethod
    def backward(ctx, g_out, g_hn):
        h0, w_hh, out = ctx.saved_tensors
        need_h0, need_w = ctx.needs_input_grad[1:3]
        T, steps = out.shape[0], _time_steps(out.shape[0], ctx.reverse)
        slope = (out > 0).to(out.dtype) if ctx.relu else 1 - out * out  # d h_t / d pre_t, all steps at once
        dpres = [None] * T
        dh = g_hn
        for t in reversed(steps):
            dpres[t] = (g_out[t] + dh) * slope[t]
            dh = dpres[t].matmul(w_hh) if (need_h0 or t != steps[0]) else None
        dpre = _stack(dpres, 0)
        dw = _recurrent_weight_grad(dpre, _prev_states(out, h0, ctx.reverse)) if need_w else None
        return dpre, (dh if need_h0 else None), dw, None, None


def _cell(mode, xp_t, h, c, w_hh, b_hh):
    """One step given the input projection xp_t = x_t @ w_ih^T + b_ih."""
    hh = h.matmul(w_hh.t())
    if b_hh is not None:
        hh = hh + b_hh
    if mode == "LSTM":
        i, f, g, o = (xp_t + hh).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c
    if mode == "GRU":
        if h.device.type == "cpu":
            return _C._gru_cell(xp_t, hh, h), None  # the pointwise part as one op and node
        xr, xz, xn = xp_t.chunk(3, 1)
        hr, hz, hn = hh.chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return n + z * (h - n), None
    pre = xp_t + hh
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


class LSTM(RNNBase):
    """Multi-layer LSTM, PyTorch's nn.LSTM: returns output, (h_n, c_n)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes=None):
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input, batched, batch_dim = self._prepare(input, hx, "LSTM")
        if hx is not None:
            if batched:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                       f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            else:
                if hx[0].dim() != 2 or hx[1].dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                       f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_input(input)
        if hx is not None:
            self.check_hidden_size(hx[0], self.get_expected_hidden_size(input), "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(hx[1], self.get_expected_cell_size(input), "Expected hidden[1] size {}, got {}")
        x = input.transpose(0, 1) if self.batch_first else input
        out, hn, cn = self._run(x, None if hx is None else hx[0], None if hx is None else hx[1])
        out = self._finish(out, batched, batch_dim)
        if not batched:
            hn, cn = hn.squeeze(1), cn.squeeze(1)
        return out, (hn, cn)


class GRU(RNNBase):
    """Multi-layer GRU, PyTorch's nn.GRU (gates r, z, n): returns output, h_n."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return _forward_single_state(self, input, hx, "GRU")


class RNN(RNNBase):
    """Multi-layer Elman RNN with tanh or relu, PyTorch's nn.RNN: returns output, h_n."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return _forward_single_state(self, input, hx, "RNN")


def _forward_single_state(self, input, hx, name):
    if isinstance(input, PackedSequence):
        return self._forward_packed(input, hx)
    input, batched, batch_dim = self._prepare(input, hx, name)
    if hx is not None:
        if batched and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if not batched:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
    self.check_input(input)
    if hx is not None:
        self.check_hidden_size(hx, self.get_expected_hidden_size(input))
    self._dtype_check(input)
    x = input.transpose(0, 1) if self.batch_first else input
    out, hn, _ = self._run(x, hx, None)
    out = self._finish(out, batched, batch_dim)
    if not batched:
        hn = hn.squeeze(1)
    return out, hn


# ---------------------------------------------------------------- cells
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        kw = _factory(device, dtype)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(empty((num_chunks * hidden_size,), **kw))
            self.bias_hh = Parameter(empty((num_chunks * hidden_size,), **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, input, hx, name, hname="hidden"):
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.size(-1)} expected {self.input_size}")

    def _check_h(self, input, h, idx_name):
        if h.size(-1) != self.hidden_size:
            raise RuntimeError(
                f"{idx_name} has inconsistent hidden_size: got {h.size(-1)}, expected {self.hidden_size}")
        if h.size(0) != input.size(0):
            raise RuntimeError(
                f"Input batch size {input.size(0)} doesn't match {idx_name} batch size {h.size(0)}")

    def _single_state(self, input, hx, name):
        """RNNCell/GRUCell: checks, a batch dim for unbatched input, a zero hidden state when none is given."""
        self._check(input, hx, name)
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = zeros((input.size(0), self.hidden_size), dtype=input.dtype, device=input.device)
        elif not batched:
            hx = hx.unsqueeze(0)
        self._check_h(input, hx, "hidden0")
        return input, hx, batched

    def _proj(self, input):
        xp = input.matmul(self.weight_ih.t())
        return xp + self.bias_ih if self.bias_ih is not None else xp


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hx, batched = self._single_state(input, hx, "RNNCell")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h, _ = _cell(mode, self._proj(input), hx, None, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check(input, hx, "LSTMCell")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = zeros((input.size(0), self.hidden_size), dtype=input.dtype, device=input.device)
            hx = (z, z)
        elif not batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        if not isinstance(hx, (tuple, list)):
            raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not "
                            f"{type(hx).__name__}")
        if len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        self._check_h(input, hx[0], "hidden0")
        self._check_h(input, hx[1], "hidden1")
        h, c = _cell("LSTM", self._proj(input), hx[0], hx[1], self.weight_hh, self.bias_hh)
        if not batched:
            h, c = h.squeeze(0), c.squeeze(0)
        return h, c


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hx, batched = self._single_state(input, hx, "GRUCell")
        h, _ = _cell("GRU", self._proj(input), hx, None, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
