"""DLPack both ways (csrc/python/dlpack_py.c): zero-copy with NumPy and PyTorch for every dtype both sides have,
strided views, lifetimes (the producer's memory lives as long as the consumer's tensor), consumed capsules, and
the errors for what is not supported."""
import gc

import numpy as np
import pytest

import minitorch as mt

NP_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("name", NP_DTYPES)
def test_numpy_round_trips_share_memory(name):
    a = (np.arange(12) % 3).astype(name).reshape(3, 4)
    t = mt.from_dlpack(a)
    assert t.dtype is getattr(mt, "bool" if name == "bool" else name) and tuple(t.shape) == (3, 4)
    np.testing.assert_array_equal(t.numpy(), a)
    assert np.shares_memory(t.numpy(), a)
    b = np.from_dlpack(t)
    assert b.dtype == a.dtype and np.shares_memory(b, a)
    strided = a[:, ::2].T  # a non-contiguous producer: strides carried, no copy
    s = mt.from_dlpack(strided)
    np.testing.assert_array_equal(s.numpy(), strided)
    assert np.shares_memory(s.numpy(), a)


def test_lifetimes_and_consumption():
    a = np.arange(6.0)
    t = mt.from_dlpack(a)
    del a
    gc.collect()
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # the NumPy buffer lives on inside t
    x = mt.arange(4.0)
    b = np.from_dlpack(x)
    del x
    gc.collect()
    assert b.tolist() == [0.0, 1.0, 2.0, 3.0]  # and minitorch's inside the array
    cap = mt.utils.dlpack.to_dlpack(mt.ones(2))
    assert mt.utils.dlpack.from_dlpack(cap).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="already consumed"):
        mt.from_dlpack(cap)
    del cap
    mt.utils.dlpack.to_dlpack(mt.ones(3))  # an unconsumed capsule frees its tensor (ASan runs check this)
    gc.collect()


def test_with_pytorch_both_ways():
    torch = pytest.importorskip("torch")
    for name in NP_DTYPES + ["bfloat16"]:
        src = torch.arange(6).reshape(2, 3).to(getattr(torch, name)).t()
        t = mt.from_dlpack(src)
        assert str(t.dtype) == str(src.dtype) and t.stride() == src.stride()
        np.testing.assert_array_equal(t.float().numpy() if name == "bfloat16" else t.numpy(),
                                      src.float().numpy() if name == "bfloat16" else src.numpy())
        back = torch.from_dlpack(mt.arange(6).reshape(2, 3).to(getattr(mt, name)))
        assert str(back.dtype) == str(src.dtype) and back.tolist() == torch.arange(6).reshape(2, 3).to(
            getattr(torch, name)).tolist()
    x = torch.zeros(3)
    y = mt.from_dlpack(x)
    x[1] = 5  # the same memory
    assert y[1].item() == 5
    assert mt.as_tensor(torch.tensor([1.5, 2.5])).tolist() == [1.5, 2.5]
    assert mt.ones(2).__dlpack_device__() == torch.ones(2).__dlpack_device__() == (1, 0)


def test_what_is_refused():
    with pytest.raises(RuntimeError, match="require gradient"):
        mt.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError, match="device"):
        mt.ones(2).__dlpack__(dl_device=(2, 0))
    with pytest.raises(BufferError, match="negative strides"):
        mt.from_dlpack(np.arange(4.0)[::-1])
    with pytest.raises(ValueError, match="DLPack capsule"):
        mt.utils.dlpack.from_dlpack(42)
    c = mt.ones(3).__dlpack__(copy=True)  # copy=True exports a copy
    assert mt.from_dlpack(c).tolist() == [1.0, 1.0, 1.0]
