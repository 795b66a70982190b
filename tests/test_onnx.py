"""minitorch.onnx.export: each exported model passes onnx.checker and gives minitorch's own outputs under
onnxruntime, on the traced inputs and (where dynamic_axes say so) on other sizes."""
import io
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import minitorch as torch
import minitorch.nn as nn
import minitorch.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))


def _export(model, args, **kw):
    buf = io.BytesIO()
    torch.onnx.export(model, args, buf, **kw)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return proto, ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _check(sess, model, feeds, args, atol=1e-5):
    """onnxruntime's outputs for `feeds` against model(*args) (minitorch's own forward, in eval mode)."""
    got = sess.run(None, {k: v.numpy() for k, v in feeds.items()})
    with torch.no_grad():
        want = [t.numpy() for t in _flat(model(*args))]
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=atol)


def _ops(proto):
    return [n.op_type for n in proto.graph.node]


def test_mlp_dynamic_batch():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 16), nn.Tanh(),
                      nn.Linear(16, 8), nn.Sigmoid(), nn.Linear(8, 5), nn.LogSoftmax(dim=1))
    x = torch.randn(4, 6)
    proto, sess = _export(m, (x,), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    assert m.training  # export runs in eval mode and restores the mode
    m.eval()
    assert [i.name for i in proto.graph.input] == ["x"] and [o.name for o in proto.graph.output] == ["y"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert sorted(i.name for i in proto.graph.initializer) == sorted(n for n, _ in m.named_parameters())
    assert proto.opset_import[0].version == 20
    for n in (4, 1, 9):
        xx = torch.randn(n, 6)
        _check(sess, m, {"x": xx}, (xx,))
    assert "Dropout" not in _ops(proto)


def test_mlp_softmax_and_functional_forward_matches_torch_ops():
    torch_ = pytest.importorskip("torch")

    def build(lib):
        class MLP(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = lib.nn.Linear(3, 7)
                self.fc2 = lib.nn.Linear(7, 4)

            def forward(self, x):
                return lib.softmax(self.fc2(lib.nn.functional.relu(self.fc1(x)) * 2.0 - 0.5), dim=-1)
        return MLP()

    m, tm = build(torch), build(torch_)
    tm.load_state_dict({k: torch_.tensor(v.numpy()) for k, v in m.state_dict().items()})
    x = torch.randn(2, 3)
    proto, sess = _export(m, (x,), input_names=["x"])
    _check(sess, m, {"x": x}, (x,))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_.onnx.export(tm, (torch_.tensor(x.numpy()),), buf, input_names=["x"], dynamo=False)
    tproto = onnx.load_from_string(buf.getvalue())
    assert _ops(proto) == [op for op in _ops(tproto) if op != "Constant"]  # torch puts scalars in Constant nodes
    np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0],
                               ort.InferenceSession(buf.getvalue()).run(None, {"x": x.numpy()})[0], rtol=1e-5,
                               atol=1e-6)


def test_tutorial_lstm_model():
    from text_generation import CharModel
    torch.manual_seed(1)
    m = CharModel(n_vocab=11, hidden=16, layers=2)
    x = torch.rand(3, 10, 1)
    proto, sess = _export(m, (x,), input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch", 1: "seq"}, "logits": {0: "batch"}})
    m.eval()
    assert _ops(proto).count("LSTM") == 2
    for shape in ((3, 10, 1), (5, 4, 1), (1, 1, 1)):
        xx = torch.rand(*shape)
        _check(sess, m, {"x": xx}, (xx,))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_charrnn_model_with_state(bidirectional):
    from text_generation import CharRNN
    torch.manual_seed(2)
    m = CharRNN(n_vocab=13, hidden=12, layers=2, embed=5)
    if bidirectional:  # the same model with a bidirectional LSTM (the linear layer sees both directions)
        m.lstm = nn.LSTM(5, 12, num_layers=2, batch_first=True, bidirectional=True)
        m.linear = nn.Linear(24, 13)
    d = 2 if bidirectional else 1
    x = torch.randint(0, 13, (2, 7))
    state = (torch.randn(2 * d, 2, 12), torch.randn(2 * d, 2, 12))
    names = ["x", "h0", "c0"]
    proto, sess = _export(m, (x, state), input_names=names, output_names=["logits", "hn", "cn"],
                          dynamic_axes={"x": {0: "batch", 1: "seq"}, "h0": {1: "batch"}, "c0": {1: "batch"}})
    m.eval()
    for b, t in ((2, 7), (4, 3)):
        xx = torch.randint(0, 13, (b, t))
        s = (torch.randn(2 * d, b, 12), torch.randn(2 * d, b, 12))
        _check(sess, m, dict(zip(names, (xx, *s))), (xx, s))
    # without a state: the LSTM starts from zeros
    proto, sess = _export(m, (x,), input_names=["x"])
    _check(sess, m, {"x": x}, (x,))


def test_one_hot_lstm():
    class OneHotLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 8, batch_first=False)
            self.fc = nn.Linear(8, 6)

        def forward(self, x):
            out, _ = self.lstm(F.one_hot(x, 6).float())
            return self.fc(out[-1])

    torch.manual_seed(3)
    m = OneHotLSTM()
    x = torch.randint(0, 6, (5, 2))
    _, sess = _export(m, (x,), input_names=["x"], dynamic_axes={"x": {1: "batch"}})
    m.eval()
    for shape in ((5, 2), (5, 3)):
        xx = torch.randint(0, 6, shape)
        _check(sess, m, {"x": xx}, (xx,))


def test_cnn_example():
    from cnn import Net
    torch.manual_seed(4)
    m = Net(width=4)
    m.train()
    with torch.no_grad():  # running statistics that are not the defaults
        for _ in range(2):
            m(torch.randn(6, 3, 32, 32))
    x = torch.randn(2, 3, 32, 32)
    proto, sess = _export(m, (x,), input_names=["img"], output_names=["logits"],
                          dynamic_axes={"img": {0: "n"}, "logits": {0: "n"}})
    m.eval()
    ops = _ops(proto)
    assert {"Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool", "Gemm"} <= set(ops)
    for n in (2, 3):
        xx = torch.randn(n, 3, 32, 32)
        _check(sess, m, {"img": xx}, (xx,), atol=1e-4)


def test_cnn_functional_pools_and_view():
    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(2, 4, 3, stride=2, padding=1)
            self.c2 = nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2, bias=False)
            self.bn = nn.BatchNorm2d(4, affine=False)
            self.pool = nn.AvgPool2d(2, count_include_pad=False)
            self.ap = nn.AdaptiveAvgPool2d((2, 2))
            self.c1d = nn.Conv1d(4, 3, 2)
            self.fc = nn.Linear(9, 5)

        def forward(self, x):
            y = F.max_pool2d(F.relu(self.c1(x)), 2, stride=1, padding=1)
            y = self.ap(self.pool(self.bn(self.c2(y))))  # [n, 4, 2, 2]
            y = self.c1d(y.view(y.size(0), 4, 4))  # [n, 3, 3]
            return self.fc(y.reshape(y.shape[0], -1)), torch.flatten(y, 1).mean(dim=1, keepdim=True)

    torch.manual_seed(5)
    m = Small().eval()
    x = torch.randn(2, 2, 16, 16)
    _, sess = _export(m, (x,), input_names=["x"], dynamic_axes={"x": [0]})
    for n in (2, 5):
        xx = torch.randn(n, 2, 16, 16)
        _check(sess, m, {"x": xx}, (xx,))


class _Block(nn.Module):
    """nanoGPT's block: causal self-attention with a registered mask, and an MLP with GELU."""

    def __init__(self, n_embd=16, n_head=4, block_size=8):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.proj = nn.Linear(4 * n_embd, n_embd)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def attn(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.proj(F.gelu(self.fc(self.ln_2(x))))


@pytest.mark.parametrize("opset", [20, 17, 14])
def test_gpt_block(opset):
    torch.manual_seed(6)
    m = _Block().eval()
    x = torch.randn(3, 8, 16)
    proto, sess = _export(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "batch"}}, opset_version=opset)
    assert proto.opset_import[0].version == opset
    assert ("LayerNormalization" in _ops(proto)) == (opset >= 17)
    for n in (3, 1, 4):
        xx = torch.randn(n, 8, 16)
        _check(sess, m, {"x": xx}, (xx,))


class _TinyGPT(nn.Module):
    """nanoGPT's forward: token + position embeddings (arange of the sequence length), blocks, lm head."""

    def __init__(self, vocab=11, block_size=8):
        super().__init__()
        self.wte = nn.Embedding(vocab, 16)
        self.wpe = nn.Embedding(block_size, 16)
        self.h = nn.ModuleList([_Block(block_size=block_size), _Block(block_size=block_size)])
        self.ln_f = nn.LayerNorm(16)
        self.lm_head = nn.Linear(16, vocab, bias=False)

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x)[:, -t:, :])


def test_gpt_dynamic_batch_and_sequence_length():
    torch.manual_seed(10)
    m = _TinyGPT().eval()
    idx = torch.randint(0, 11, (2, 3))
    proto, sess = _export(m, (idx,), input_names=["idx"], output_names=["logits"],
                          dynamic_axes={"idx": {0: "b", 1: "t"}, "logits": {0: "b", 1: "t"}})
    assert "Range" in _ops(proto)
    for b, t in ((2, 3), (1, 8), (4, 5)):
        xx = torch.randint(0, 11, (b, t))
        _check(sess, m, {"idx": xx}, (xx,))
    with pytest.raises(torch.onnx.OnnxExporterError, match="dynamic_axes"):  # 2 * 5 + 1 > block_size
        _export(m, (torch.randint(0, 11, (2, 5)),), input_names=["idx"], dynamic_axes={"idx": [1]})


def test_unsupported_op_raises_naming_it():
    class M(nn.Module):
        def forward(self, x):
            return x.cumprod(0) + 1

    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="exporting 'cumprod' is not supported"):
        torch.onnx.export(M(), (torch.randn(3),), io.BytesIO())
    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="'cumprod'"):
        torch.onnx.export(lambda_module(lambda x: torch.cumprod(x, 0)), (torch.randn(3),), io.BytesIO())
    with pytest.raises(torch.onnx.UnsupportedOperatorError,
                       match="exporting 'Dropout' is not supported in training mode"):
        torch.onnx.export(nn.Dropout(), (torch.randn(3),), io.BytesIO(), training=torch.onnx.TrainingMode.TRAINING)
    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="exporting 'randn' is not supported"):
        torch.onnx.export(lambda_module(lambda x: x + torch.randn(3)), (torch.randn(3),), io.BytesIO())
    # a Python composite is traced through; one that reads tensor values is refused, naming it
    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="exporting 'cross_entropy' is not supported"):
        torch.onnx.export(lambda_module(lambda x, t: F.cross_entropy(x, t)),
                          (torch.randn(3, 4), torch.tensor([0, 1, 3])), io.BytesIO())
    from minitorch.onnx import errors
    assert issubclass(errors.UnsupportedOperatorError, errors.OnnxExporterError)
    assert isinstance(torch.onnx.UnsupportedOperatorError("x"), RuntimeError)
    assert not torch.onnx.is_in_onnx_export()


def lambda_module(fn):
    class L(nn.Module):
        def forward(self, *a):
            return fn(*a)
    return L()


def test_constants_made_in_forward_and_python_scalars():
    seen = []

    def f(x):
        seen.append(torch.onnx.is_in_onnx_export())
        mask = torch.ones(4, 4).tril()  # no traced input: a constant of the graph
        y = (x @ mask) / 3 + 2 ** torch.tensor(2.0) - x.sum(-1, keepdim=True) + torch.rsub(x, 1.0, alpha=3)
        y = y.sub(x, alpha=0.5).add(1, alpha=2) - (x > 0.5).long() * 2 + (x.abs() <= 1)
        return torch.where(y > 0, y, -y).clamp(max=5.0), torch.cat([x, y], 1)[:, ::2].max(dim=1)

    x = torch.randn(3, 4)
    m = lambda_module(f)
    _, sess = _export(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "n"}})
    assert seen == [True, True]  # the trace, and the one at other sizes of the dynamic axes
    for n in (3, 6):
        xx = torch.randn(n, 4)
        _check(sess, m, {"x": xx}, (xx,))


def test_size_dependent_constant_with_dynamic_axes_raises():
    m = lambda_module(lambda x: x + torch.zeros(x.size(0), 1))
    x = torch.randn(3, 2)
    _export(m, (x,))  # static: fine
    with pytest.raises(torch.onnx.OnnxExporterError, match="depends on the size of a dynamic axis"):
        _export(m, (x,), input_names=["x"], dynamic_axes={"x": [0]})


def test_data_dependent_control_flow_traces_the_path_taken():
    def f(x):
        if x.sum() > 0:  # read on the traced values: the graph keeps this branch
            return x * 2
        return x - 1

    m = lambda_module(f)
    x = torch.ones(3)
    with pytest.warns(torch.onnx.TracerWarning):
        _, sess = _export(m, (x,), input_names=["x"])
    got = sess.run(None, {"x": -np.ones(3, np.float32)})[0]
    np.testing.assert_allclose(got, -2 * np.ones(3))  # the traced branch, as torch's tracer does


def test_export_params_false_makes_parameters_inputs(tmp_path):
    m = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    path = tmp_path / "lin.onnx"
    assert torch.onnx.export(m, x, str(path), export_params=False, input_names=["x"]) is None
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"] and not proto.graph.initializer
    sess = ort.InferenceSession(str(path))
    got = sess.run(None, {"x": x.numpy(), "weight": m.weight.detach().numpy(), "bias": m.bias.detach().numpy()})
    np.testing.assert_allclose(got[0], m(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset"):
        torch.onnx.export(m, torch.randn(1, 2), io.BytesIO(), opset_version=7)
    with pytest.raises(ValueError, match="input_names"):
        torch.onnx.export(m, torch.randn(1, 2), io.BytesIO(), input_names=["a", "b"])


def test_untraced_tensor_is_refused():
    def f(x):
        return x + torch._C.TensorBase.exp(x)  # an op that bypasses the public namespaces

    with pytest.raises(torch.onnx.OnnxExporterError, match="did not record"):
        torch.onnx.export(lambda_module(f), torch.randn(2), io.BytesIO())


def test_import_without_onnx_package():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import minitorch, minitorch.onnx\n"
            "try:\n    minitorch.onnx.export(minitorch.nn.Linear(2, 2), minitorch.randn(1, 2), 'x.onnx')\n"
            "except ModuleNotFoundError as e:\n    print('ERR', e)\n")
    # the minitorch this test imported (the installed one in CI, whose checkout is not built in place)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__))))  # (torch is minitorch here)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ERR" in out.stdout and "pip install onnx" in out.stdout


@pytest.mark.parametrize("batch_first,norm_first", [(True, False), (False, True)])
def test_transformer_encoder_layer(batch_first, norm_first):
    torch.manual_seed(7)
    m = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=batch_first, norm_first=norm_first,
                                   activation="gelu").eval()
    bdim = 0 if batch_first else 1
    x = torch.randn(3, 5, 16)
    mask = nn.Transformer.generate_square_subsequent_mask(5 if batch_first else 3)
    _, sess = _export(m, (x, mask), input_names=["x", "mask"], dynamic_axes={"x": {bdim: "batch"}})
    for b in (3, 6):
        xx = torch.randn(*((b, 5, 16) if batch_first else (3, b, 16)))
        _check(sess, m, {"x": xx, "mask": mask}, (xx, mask))


def test_attention_rows_fully_masked_give_zeros():
    def f(q, k, v, mask):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    m = lambda_module(f)
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    mask = torch.ones(3, 5, dtype=torch.bool)
    _, sess = _export(m, (q, k, v, mask), input_names=["q", "k", "v", "mask"])
    mask[1] = False  # a row that attends to nothing: zeros, not NaN, though the trace had none
    got = sess.run(None, {"q": q.numpy(), "k": k.numpy(), "v": v.numpy(), "mask": mask.numpy()})[0]
    want = m(q, k, v, mask).numpy()
    assert not np.isnan(want).any() and (want[:, 1] == 0).all()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_inplace_relu_identity_output_and_patches_undone():
    class M(nn.Module):
        def forward(self, x, y):
            z = x * 2
            z.relu_()
            return z + 1, y

    add = torch.Tensor.__add__
    x, y = torch.randn(4), torch.randn(2)
    _, sess = _export(M(), (x, y), input_names=["x", "y"], output_names=["z", "y_out"])
    got = sess.run(None, {"x": x.numpy(), "y": y.numpy()})
    np.testing.assert_allclose(got[0], (x * 2).relu().numpy() + 1, rtol=1e-6)
    np.testing.assert_array_equal(got[1], y.numpy())

    class Aliased(nn.Module):
        def forward(self, x):
            z = x * 2
            v = z.view(2, 2)
            z.relu_()  # v changes too: rebinding z alone would leave v stale
            return v + 0

    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="'relu_' is not supported on a tensor that "
                                                                   "shares memory with a view"):
        torch.onnx.export(Aliased(), (x,), io.BytesIO())

    class AliasedFunctional(nn.Module):
        def forward(self, x):
            z = x * 2
            v = z.view(2, 2)
            F.relu(z, inplace=True)
            return v + 0

    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="shares memory with a view"):
        torch.onnx.export(AliasedFunctional(), (x,), io.BytesIO())

    class ViewWritten(nn.Module):
        def forward(self, x):
            return (x * 2).view(2, 2).relu_()

    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="'relu_' is not supported on a view"):
        torch.onnx.export(ViewWritten(), (x,), io.BytesIO())

    class Flat(nn.Module):  # in place on a view whose base is not used again: fine
        def forward(self, x):
            y = (x * 2).reshape(2, 2) + 0
            z = y.flatten()
            buf = torch.zeros(4)
            a = z + buf
            buf.add_(1.0)  # a constant changed in place: the next use sees the new values
            return F.relu(a * 1, inplace=True) + buf

    _, sess = _export(Flat(), (x,), input_names=["x"])
    _check(sess, Flat(), {"x": x}, (x,))
    assert torch.Tensor.__add__ is add and "cumprod" not in vars(torch.Tensor)
    assert F.linear.__module__ == "minitorch.nn._functional_layers" and not hasattr(F.linear, "__wrapped__")


@pytest.mark.parametrize("cls,kw", [(nn.GRU, {}), (nn.RNN, {"nonlinearity": "tanh"}),
                                    (nn.RNN, {"nonlinearity": "relu"}), (nn.LSTM, {"bias": False})])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gru_rnn_lstm_modules(cls, kw, bidirectional):
    torch.manual_seed(8)
    m = cls(3, 5, num_layers=2, batch_first=True, bidirectional=bidirectional, **kw).eval()
    d = 2 if bidirectional else 1
    x = torch.randn(2, 4, 3)
    h = torch.randn(2 * d, 2, 5)
    state = (h, torch.randn(2 * d, 2, 5)) if cls is nn.LSTM else h
    names = ["x", "h0", "c0"] if cls is nn.LSTM else ["x", "h0"]
    dyn = {"x": {0: "b", 1: "t"}, "h0": {1: "b"}, "c0": {1: "b"}}
    _, sess = _export(m, (x, state), input_names=names, dynamic_axes={k: dyn[k] for k in names})
    for b, t in ((2, 4), (3, 6)):
        xx = torch.randn(b, t, 3)
        s = tuple(torch.randn(2 * d, b, 5) for _ in names[1:])
        _check(sess, m, dict(zip(names, (xx, *s))), (xx, s if cls is nn.LSTM else s[0]))


def test_indexing_and_shape_helpers():
    def f(x):
        a = x[..., 1:, None, ::2] + x[-1][:, -2:-1].sum()
        b = x[:, -1].narrow(-1, -3, 2) * x.select(1, 0)[..., :2]
        c = torch.zeros_like(x) + torch.full_like(x, 2.0) * x.new_ones(x.shape[1:]) + x.expand(2, *x.shape)[1]
        d = x.data.mT @ x.T.transpose(0, 2).float()  # [n, 5, 4] @ [n, 4, 5]
        e = (torch.logsumexp(x, 1), x.logsumexp((1, 2), keepdim=True), x.tril(1), torch.triu(x, -1),
             x.cumsum(2), torch.gather(x, 2, x.abs().argmax(2, keepdim=True)),
             x.flip(0, 2), torch.topk(x, 2, dim=1), x.topk(1, largest=False).indices)
        return (a, b, c.transpose(0, 2).permute(1, 0, 2).reshape(-1, x.shape[0]), torch.stack([x, x], -1).unbind(-1)[1],
                d, x.max(), x.argmax(), x.min(1).indices, x.amax((0, 2)), x.prod(1), (x > 0).any(-1), (x > -3).all(),
                x.var(1), x.std((0, 2), unbiased=False, keepdim=True), x.var(correction=0), e)

    m = lambda_module(f)
    x = torch.randn(3, 4, 5)
    _, sess = _export(m, (x,), input_names=["x"], dynamic_axes={"x": [0]})
    for n in (3, 5):
        xx = torch.randn(n, 4, 5)
        _check(sess, m, {"x": xx}, (xx,))


def test_module_with_forward_hook_is_traced_through_the_hook():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    m[0].register_forward_hook(lambda mod, inp, out: out * 10)
    x = torch.randn(2, 3)
    _, sess = _export(m, (x,), input_names=["x"])
    _check(sess, m, {"x": x}, (x,))


def test_keep_initializers_as_inputs():
    m = nn.Linear(3, 2)
    proto, _ = _export(m, (torch.randn(1, 3),), input_names=["x"], keep_initializers_as_inputs=True)
    assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"]
    assert sorted(i.name for i in proto.graph.initializer) == ["bias", "weight"]


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_activations_pads_and_norms(opset):
    torch.manual_seed(9)
    prelu = nn.PReLU(4)

    def f(x):
        ys = [F.selu(x), F.softsign(x), F.logsigmoid(x * 30), F.hardsigmoid(x * 4), F.hardswish(x * 4), F.mish(x),
              F.elu(x, 0.5), F.leaky_relu(x, 0.2), F.silu(x), F.softplus(x, beta=2.0), F.gelu(x, approximate="tanh"),
              F.hardtanh(x, min_val=-0.5, max_val=0.5), F.relu6(x * 8), prelu(x), F.glu(x, dim=1),
              F.normalize(x, dim=1), F.normalize(x, p=1, dim=-1), torch.clamp(x, min=-0.1), x.abs().sqrt().rsqrt(),
              F.pad(x, (1, 2)), F.pad(x, (1, 1, 2, 0), mode="reflect"), F.pad(x, (0, 0, 1, 1), mode="replicate"),
              F.pad(x, (1, -1), value=3.5),
              F.softmin(x, dim=1), F.tanhshrink(x), F.celu(x, 0.7), F.threshold(x, 0.1, -2.0)]
        return tuple(ys)

    m = lambda_module(f)
    m.prelu = prelu  # its weight is a parameter of the model (a tensor from outside it is refused)
    x = torch.randn(2, 4, 3, 5)
    _, sess = _export(m, (x,), input_names=["x"], opset_version=opset)
    _check(sess, m, {"x": x}, (x,))


class _Cells(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(3, 4)
        self.gru = nn.GRUCell(4, 4)
        self.rnn = nn.RNNCell(4, 4, nonlinearity="relu")

    def forward(self, x, h, c):
        for t in range(x.shape[0]):  # a Python loop over a static length: unrolled
            h, c = self.cell(x[t], (h, c))
        return self.rnn(self.gru(h, c)), self.gru(h), c


@pytest.mark.parametrize("name,build,shapes", [
    ("transformer", lambda: nn.Transformer(16, 4, 1, 1, 32, batch_first=True), [(2, 5, 16), (2, 3, 16)]),
    ("encoder", lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32), 2, enable_nested_tensor=False),
     [(5, 2, 16)]),
    ("mha", lambda: nn.MultiheadAttention(16, 4, batch_first=True, kdim=8, vdim=8), [(2, 5, 16), (2, 6, 8), (2, 6, 8)]),
    ("conv_transpose", lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), [(1, 3, 5, 5)]),
    ("conv_transpose1d", lambda: nn.ConvTranspose1d(4, 2, 2, groups=2, dilation=2), [(2, 4, 7)]),
    ("group_norm", lambda: nn.GroupNorm(2, 4), [(2, 4, 3, 3)]),
    ("upsample", lambda: nn.Upsample(scale_factor=2), [(1, 2, 3, 3)]),
    ("bilinear", lambda: nn.Bilinear(3, 4, 2), [(2, 3), (2, 4)]),
    ("lstm_cell", _Cells, [(3, 2, 3), (2, 4), (2, 4)]),
])
def test_more_modules(name, build, shapes):
    torch.manual_seed(11)
    m = build().eval()
    args = tuple(torch.randn(*s) for s in shapes)
    names = [f"in{i}" for i in range(len(args))]
    _, sess = _export(m, args, input_names=names)
    _check(sess, m, dict(zip(names, args)), args)


def test_module_with_unrecorded_ops_raises_naming_it():
    class Opaque(nn.Module):
        def forward(self, x):
            return torch._C.TensorBase.exp(x)  # bypasses the public namespaces

    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="exporting 'Opaque' is not supported"):
        torch.onnx.export(nn.Sequential(Opaque()), (torch.randn(2, 3),), io.BytesIO())
    with pytest.raises(torch.onnx.UnsupportedOperatorError,
                       match=r"^minitorch.onnx: exporting 'embedding_bag' is not supported \(it reads tensor values"):
        torch.onnx.export(nn.EmbeddingBag(5, 3), (torch.randint(0, 5, (2, 4)),), io.BytesIO())
