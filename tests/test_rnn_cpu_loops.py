"""The float32 CPU LSTM time loops with their own AVX-512 tiles (csrc/ops/rnn_cpu.c) against the
generic per-step BLAS loops in float64 (an independent path: libm activations, OpenBLAS dgemm), for
every output and gradient of the fused layer, over shapes that hit the tiles' edges: batch rows
not a multiple of 8 and batch 1, hidden sizes not a multiple of 32, few (< 8) and many inputs,
both directions, with and without initial states and biases, one and two threads' worth of work,
under 8 batch rows with many inputs (the input projection then runs first, for all steps).
On a CPU without AVX-512 both sides take the generic loops and the test still checks them."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import _C

SHAPES = [  # T, B, I, H
    (5, 3, 4, 20),
    (1, 1, 1, 33),
    (4, 13, 9, 70),
    (3, 8, 40, 64),
    (6, 1, 3, 256),
    (7, 32, 1, 128),
    (3, 17, 130, 96),
    (5, 3, 20, 48),  # under 8 rows and over 8 inputs: the input projection of all steps first
    (4, 1, 130, 70),
]


def lstm_layer(arrs, dtype, reverse, requires_grad):
    ts = [None if a is None else mt.tensor(a.astype(dtype), requires_grad=requires_grad) for a in arrs]
    out = _C._lstm_layer(*ts, reverse)
    return ts, out


def run(arrs, ws, dtype, reverse, batch_major=False):
    """batch_major: the output's gradient arrives as a (B, T, H) tensor seen through a transpose"""
    ts, (o, h, c) = lstm_layer(arrs, dtype, reverse, True)
    if batch_major:
        lo = (o.transpose(0, 1) * mt.tensor(ws[0].transpose(1, 0, 2).astype(dtype))).sum()
    else:
        lo = (o * mt.tensor(ws[0].astype(dtype))).sum()
    (lo + (h * mt.tensor(ws[1].astype(dtype))).sum() + (c * mt.tensor(ws[2].astype(dtype))).sum()).backward()
    res = [o.detach().numpy(), h.detach().numpy(), c.detach().numpy()]
    return res + [t.grad.numpy() for t in ts if t is not None]


@pytest.fixture
def cpu_loops():
    prev = _C._lstm_cpu_loops(2)  # the AVX-512 loops even where they would not pay (small shapes)
    yield
    _C._lstm_cpu_loops(prev)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T%d-B%d-I%d-H%d" % s)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("state", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_major", [False, True])
def test_cpu_loops_match_float64(cpu_loops, shape, reverse, state, bias, batch_major):
    T, B, I, H = shape
    rng = np.random.default_rng(T * 1000 + B * 100 + I * 10 + H)
    s = 1 / np.sqrt(H)
    arrs = [rng.standard_normal((T, B, I)),
            rng.standard_normal((B, H)) if state else None, rng.standard_normal((B, H)) if state else None,
            rng.uniform(-s, s, (4 * H, I)), rng.uniform(-s, s, (4 * H, H)),
            rng.uniform(-s, s, 4 * H) if bias else None, rng.uniform(-s, s, 4 * H) if bias else None]
    ws = [rng.standard_normal(sh) for sh in [(T, B, H), (B, H), (B, H)]]
    got = run(arrs, ws, np.float32, reverse, batch_major)
    ref = run(arrs, ws, np.float64, reverse)
    assert len(got) == len(ref) == 3 + sum(a is not None for a in arrs)
    for k, (g, r) in enumerate(zip(got, ref)):
        assert g.dtype == np.float32 and g.shape == r.shape
        scale = max(1.0, float(np.abs(r).max()))
        np.testing.assert_allclose(g, r, rtol=0, atol=2e-5 * scale * np.sqrt(T), err_msg=f"result {k}")


def test_cpu_loops_saturated_gates(cpu_loops):
    """pre-activations far out in both tails (|x| up to ~200: exp underflows, tanh clamps), where the
    AVX-512 cell's exp / reciprocal estimates must still give sigmoid 0 / 1 and tanh +-1"""
    rng = np.random.default_rng(11)
    T, B, I, H = 4, 9, 5, 48
    arrs = [rng.standard_normal((T, B, I)) * 40, rng.standard_normal((B, H)), rng.standard_normal((B, H)) * 3,
            rng.standard_normal((4 * H, I)), rng.standard_normal((4 * H, H)) * 2,
            rng.standard_normal(4 * H) * 20, rng.standard_normal(4 * H)]
    ws = [rng.standard_normal(sh) for sh in [(T, B, H), (B, H), (B, H)]]
    got = run(arrs, ws, np.float32, False)
    ref = run(arrs, ws, np.float64, False)
    for k, (g, r) in enumerate(zip(got, ref)):
        scale = max(1.0, float(np.abs(r).max()))
        np.testing.assert_allclose(g, r, rtol=0, atol=2e-5 * scale * np.sqrt(T), err_msg=f"result {k}")


def test_cpu_loops_agree_with_generic_float32():
    """the same float32 problem through both loops: equal to rounding (different summation order)"""
    assert _C._lstm_cpu_loops(1) == 1  # the default: the loops where they pay
    rng = np.random.default_rng(5)
    T, B, I, H = 9, 24, 2, 80
    arrs = [rng.standard_normal(sh).astype(np.float32) * 0.5 for sh in
            [(T, B, I), (B, H), (B, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,)]]
    ws = [rng.standard_normal(sh) for sh in [(T, B, H), (B, H), (B, H)]]
    prev = _C._lstm_cpu_loops(0)
    try:
        assert _C._lstm_cpu_loops(0) == 0
        generic = run(arrs, ws, np.float32, False)
        assert _C._lstm_cpu_loops(2) == 0
        blocked = run(arrs, ws, np.float32, False)
        assert _C._lstm_cpu_loops(2) == 2
    finally:
        _C._lstm_cpu_loops(prev)
    with pytest.raises(ValueError):
        _C._lstm_cpu_loops(3)
    for g, b in zip(generic, blocked):
        np.testing.assert_allclose(b, g, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(g).max())))


@pytest.mark.parametrize("B, I", [(10, 3), (3, 20)])
def test_cpu_loops_no_grad_and_nan(cpu_loops, B, I):
    """no-grad forward (the ping-pong cell buffer, no activations stored) equals the recorded one;
    NaN input propagates"""
    rng = np.random.default_rng(7)
    T, H = 6, 40
    arrs = [rng.standard_normal(sh).astype(np.float32) for sh in
            [(T, B, I), (B, H), (B, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,)]]
    _, rec = lstm_layer(arrs, np.float32, False, True)
    with mt.no_grad():
        _, plain = lstm_layer(arrs, np.float32, False, False)
    for a, b in zip(rec, plain):
        np.testing.assert_array_equal(a.detach().numpy(), b.numpy())
    arrs[0][2, B - 1, 1] = np.nan
    _, (o, h, c) = lstm_layer(arrs, np.float32, False, False)
    o = o.numpy()
    assert np.isnan(o[2:, B - 1]).all() and not np.isnan(o[:2]).any() and not np.isnan(o[:, :B - 1]).any()
