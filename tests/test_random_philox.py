"""minitorch's CPU random numbers against an independent NumPy Philox4x32-10 (Salmon et al., SC'11;
the layout of csrc/core/philox.h): uniform and integer draws bit for bit, normals to float
rounding, the stream position advancing by whole blocks between draws."""
import numpy as np
import pytest

import minitorch as mt

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox_blocks(seed, first, count):
    """words (count, 4) of blocks first .. first + count - 1 of stream `seed`"""
    blk = np.arange(first, first + count, dtype=np.uint64)
    c0, c1 = blk & np.uint64(MASK), blk >> np.uint64(32)
    c2, c3 = np.zeros_like(c0), np.zeros_like(c0)
    k0, k1 = np.uint64(seed & MASK), np.uint64(seed >> 32)
    for r in range(10):
        if r:
            k0, k1 = (k0 + np.uint64(W0)) & np.uint64(MASK), (k1 + np.uint64(W1)) & np.uint64(MASK)
        p0, p1 = np.uint64(M0) * c0, np.uint64(M1) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return np.stack([c0, c1, c2, c3], axis=1)


@pytest.mark.parametrize("n", [1, 3, 4, 5, 1000, 200003])
def test_rand_float32_and_stream_position(n):
    mt.manual_seed(1234)
    a = mt.rand(n).numpy()
    b = mt.rand(7).numpy()
    nb = (n + 3) // 4
    w = philox_blocks(1234, 0, nb).reshape(-1)[:n]
    np.testing.assert_array_equal(a, ((w >> np.uint64(8)).astype(np.float64) * 2.0 ** -24).astype(np.float32))
    c = mt.rand(301).numpy()  # 16 blocks at a time (AVX-512) from an odd block number, then a tail
    w2 = philox_blocks(1234, nb, 2).reshape(-1)[:7]  # the next draw starts at the next whole block
    np.testing.assert_array_equal(b, ((w2 >> np.uint64(8)).astype(np.float64) * 2.0 ** -24).astype(np.float32))
    w3 = philox_blocks(1234, nb + 2, 76).reshape(-1)[:301]
    np.testing.assert_array_equal(c, ((w3 >> np.uint64(8)).astype(np.float64) * 2.0 ** -24).astype(np.float32))


@pytest.mark.parametrize("n", [1, 2, 3, 100001])
def test_rand_float64_and_randint(n):
    mt.manual_seed(99)
    a = mt.rand(n, dtype=mt.float64).numpy()
    w = philox_blocks(99, 0, (n + 1) // 2).reshape(-1, 2)[:n]
    x = (w[:, 1] << np.uint64(32)) | w[:, 0]
    np.testing.assert_array_equal(a, (x >> np.uint64(11)).astype(np.float64) * 2.0 ** -53)
    mt.manual_seed(5)
    r = mt.randint(-7, 1000, (n,)).numpy()
    w = philox_blocks(5, 0, (n + 1) // 2).reshape(-1, 2)[:n]
    x = (w[:, 1] << np.uint64(32)) | w[:, 0]
    np.testing.assert_array_equal(r, (x % np.uint64(1007)).astype(np.int64) - 7)


def test_uniform_range_and_normal_float32():
    n = 100002
    mt.manual_seed(3)
    u = mt.empty(n).uniform_(-2.0, 3.0).numpy()
    w = philox_blocks(3, 0, (n + 3) // 4).reshape(-1)[:n]
    ref = (5.0 * ((w >> np.uint64(8)).astype(np.float64) * 2.0 ** -24) - 2.0).astype(np.float32)
    np.testing.assert_array_equal(u, ref)
    assert u.min() >= -2.0 and u.max() < 3.0
    mt.manual_seed(11)
    z = mt.randn(n).numpy()
    w = philox_blocks(11, 0, (n + 3) // 4).reshape(-1, 2)  # pairs (w0, w1) of each block
    r = np.sqrt(-2.0 * np.log((w[:, 0].astype(np.float64) + 1.0) * 2.0 ** -32))
    th = 2.0 * np.pi * (w[:, 1].astype(np.float64) * 2.0 ** -32)
    ref = np.stack([r * np.cos(th), r * np.sin(th)], axis=1).reshape(-1)[:n].astype(np.float32)
    np.testing.assert_allclose(z, ref, rtol=1e-6, atol=1e-6)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02


# ---- minitorch.Generator: each generator is its own (seed, offset) stream, honoured by every draw ----

@pytest.mark.parametrize("draw", [
    lambda g: mt.rand(5, generator=g), lambda g: mt.randn(5, generator=g),
    lambda g: mt.randint(0, 100, (5,), generator=g), lambda g: mt.randperm(7, generator=g),
    lambda g: mt.empty(5).normal_(generator=g), lambda g: mt.empty(5).uniform_(-1, 1, generator=g),
    lambda g: mt.normal(0.0, 1.0, (5,), generator=g), lambda g: mt.multinomial(mt.ones(6), 3, generator=g),
    lambda g: mt.ones(2, 6).multinomial(4, replacement=True, generator=g),
], ids=["rand", "randn", "randint", "randperm", "normal_", "uniform_", "normal", "multinomial", "multinomial_repl"])
def test_generator_argument_is_used(draw):
    mt.manual_seed(0)
    a = draw(mt.Generator().manual_seed(42))
    mt.rand(11)  # the global stream moving in between does not matter
    b = draw(mt.Generator().manual_seed(42))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # the same seed on the global generator gives the same numbers: a generator is that stream, owned
    mt.manual_seed(42)
    np.testing.assert_array_equal(draw(None).numpy(), a.numpy())
    # and the default generator was not advanced by the draws that named a generator
    mt.manual_seed(5)
    ref = mt.rand(3).numpy()
    mt.manual_seed(5)
    draw(mt.Generator().manual_seed(1))
    np.testing.assert_array_equal(mt.rand(3).numpy(), ref)


def test_generator_state_and_errors():
    g = mt.Generator()
    assert g.device == mt.device("cpu")
    g.manual_seed(9)
    assert g.initial_seed() == 9
    state = g.get_state()
    a = mt.rand(4, generator=g)
    c = mt.rand(4, generator=g)
    assert not np.array_equal(a.numpy(), c.numpy())  # the stream advanced
    g.set_state(state)
    np.testing.assert_array_equal(mt.rand(4, generator=g).numpy(), a.numpy())
    with pytest.raises(TypeError, match="Generator"):
        mt.rand(2, generator=3)
    with pytest.raises(TypeError, match="Generator"):
        mt.empty(2).normal_(generator="x")
