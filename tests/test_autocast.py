"""autocast("cpu") against torch.autocast("cpu"): the op lists (which ops run in bfloat16/float16, which in
float32, which as given), values and gradients of small models at the low precision's tolerance, nesting,
enabled=False, the decorator form, per-thread state, and autocast("cuda") on a machine without CUDA."""
import threading
import warnings

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

OPS = {
    "linear": lambda l, F, x, w: F.linear(x, w),
    "matmul": lambda l, F, x, w: x @ w,
    "mm": lambda l, F, x, w: x.mm(w),
    "bmm": lambda l, F, x, w: l.bmm(x[None], w[None]),
    "addmm": lambda l, F, x, w: l.addmm(w[0], x, w),
    "float64 matmul": lambda l, F, x, w: x.double() @ w.double(),
    "layer_norm of a float32": lambda l, F, x, w: F.layer_norm(x, (8,)),
    "layer_norm of a product": lambda l, F, x, w: F.layer_norm(x @ w, (8,)),
    "softmax": lambda l, F, x, w: (x @ w).softmax(-1),
    "gelu": lambda l, F, x, w: F.gelu(x @ w),
    "cross_entropy": lambda l, F, x, w: F.cross_entropy(x @ w, l.tensor([0, 1, 2, 3])),
    "mse_loss": lambda l, F, x, w: F.mse_loss(x @ w, x),
    "bce_with_logits": lambda l, F, x, w: F.binary_cross_entropy_with_logits(x @ w, l.ones(4, 8)),
    "nll_loss": lambda l, F, x, w: F.nll_loss(x @ w, l.tensor([0, 1, 2, 3])),
    "sum": lambda l, F, x, w: (x @ w).sum(),
    "sdpa": lambda l, F, x, w: F.scaled_dot_product_attention(x[None], x[None], x[None]),
    "embedding": lambda l, F, x, w: F.embedding(l.tensor([1, 2]), w),
    "add float32": lambda l, F, x, w: (x @ w) + x,
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", OPS)
def test_op_lists_match_torch(name, dtype):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 8)), rng.standard_normal((8, 8)) * 0.3
    res = []
    for lib in (mt, torch):
        with lib.autocast("cpu", dtype=getattr(lib, dtype)):
            out = OPS[name](lib, lib.nn.functional, lib.tensor(x, dtype=lib.float32), lib.tensor(w, dtype=lib.float32))
        res.append(out)
    assert str(res[0].dtype) == str(res[1].dtype), name
    tol = 2 ** -6 if dtype == "bfloat16" else 2 ** -9
    np.testing.assert_allclose(res[0].detach().double().numpy(), res[1].detach().double().numpy(), rtol=tol, atol=tol)


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10))


def test_training_step_matches_torch():
    rng = np.random.default_rng(1)
    m, t = _model(mt), _model(torch)
    t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
    x, y = rng.standard_normal((6, 3, 8, 8)), rng.integers(0, 10, 6)
    out = []
    for lib, model in ((mt, m), (torch, t)):
        with lib.autocast("cpu"):
            logits = model(lib.tensor(x, dtype=lib.float32))
            loss = lib.nn.functional.cross_entropy(logits, lib.tensor(y))
        assert str(logits.dtype).endswith("bfloat16") and str(loss.dtype).endswith("float32")
        loss.backward()
        out.append((loss.item(), [p.grad.numpy() for p in model.parameters()], model[1].running_mean.numpy()))
    assert abs(out[0][0] - out[1][0]) < 0.05
    for a, b in zip(out[0][1], out[1][1]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=0.1, atol=0.03 * np.abs(b).max())
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-2, atol=1e-3)


def test_lstm_under_autocast():
    mt.manual_seed(0)
    m = mt.nn.LSTM(3, 5)
    t = torch.nn.LSTM(3, 5)
    t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((4, 2, 3))
    outs = []
    for lib, model in ((mt, m), (torch, t)):
        with lib.autocast("cpu"):
            o, _ = model(lib.tensor(x, dtype=lib.float32))
        outs.append(o)
    assert outs[0].dtype is mt.bfloat16 and outs[1].dtype is torch.bfloat16
    np.testing.assert_allclose(outs[0].detach().double().numpy(), outs[1].detach().double().numpy(), atol=0.03)


def test_nesting_decorator_state_and_threads():
    x = mt.ones(2, 2)
    with mt.autocast("cpu"):
        assert mt.is_autocast_enabled("cpu") and mt.get_autocast_dtype("cpu") is mt.bfloat16
        with mt.autocast("cpu", enabled=False):
            assert (x @ x).dtype is mt.float32 and not mt.is_autocast_enabled("cpu")
        with mt.autocast("cpu", dtype=mt.float16):
            assert (x @ x).dtype is mt.float16
        assert (x @ x).dtype is mt.bfloat16
        seen = []
        th = threading.Thread(target=lambda: seen.append((x @ x).dtype))  # autocast is per thread, as torch's
        th.start()
        th.join()
        assert seen == [mt.float32]
    assert not mt.is_autocast_enabled("cpu") and (x @ x).dtype is mt.float32

    @mt.autocast("cpu")
    def f(a):
        return a @ a
    assert f(x).dtype is mt.bfloat16 and (x @ x).dtype is mt.float32


def test_cuda_autocast_without_cuda_and_bad_arguments():
    if mt.cuda.is_available():
        pytest.skip("the machine has CUDA")
    for lib in (mt, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autocast("cuda", dtype=lib.float16):
                y = lib.ones(2, 2) @ lib.ones(2, 2)
        assert y.dtype is lib.float32
        assert any("Disabling autocast" in str(x.message) for x in w)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autocast("cpu", dtype=lib.float64):
                assert (lib.ones(2, 2) @ lib.ones(2, 2)).dtype is lib.float32
        assert any("Disabling autocast" in str(x.message) for x in w)
        with pytest.raises(RuntimeError, match="device string: tpu"):
            lib.autocast("tpu")
