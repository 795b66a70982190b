"""Old and device-generic API names that real programs use: autograd.Variable, torch.accelerator,
torch.cuda.FloatTensor and friends, torch.cuda.set_device (compared with PyTorch)."""
import warnings

import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("requires_grad", [False, True])
def test_variable_is_a_detached_alias(requires_grad):
    for lib in (minitorch, torch):
        t = lib.ones(3)
        w = (t * 2).requires_grad_()
        v = lib.autograd.Variable(w * 1, requires_grad=requires_grad)
        assert v.grad_fn is None and v.is_leaf and v.requires_grad == requires_grad
        v0 = lib.autograd.Variable(t, requires_grad=requires_grad)
        assert v0 is not t and v0.data_ptr() == t.data_ptr() and not t.requires_grad
        t.add_(1)  # shares the data
        np.testing.assert_array_equal(v0.detach().numpy(), np.full(3, 2.0))
        assert isinstance(t, lib.autograd.Variable) and isinstance(v0, lib.Tensor)
        assert not isinstance(3, lib.autograd.Variable)


def test_variable_trains_like_a_tensor():
    x = minitorch.autograd.Variable(minitorch.tensor([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_variable_errors_and_volatile():
    for lib in (minitorch, torch):
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got int"):
            lib.autograd.Variable(3)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            v = lib.autograd.Variable(lib.ones(2), volatile=True)
        assert not v.requires_grad and any("volatile" in str(x.message) for x in w)


def test_accelerator_answers_as_torch():
    assert minitorch.accelerator.is_available() == minitorch.cuda.is_available()
    acc = minitorch.accelerator.current_accelerator()
    assert (acc is None) == (not minitorch.cuda.is_available())
    if not minitorch.cuda.is_available() and not torch.cuda.is_available():
        assert torch.accelerator.current_accelerator() is None and acc is None
        assert minitorch.accelerator.device_count() == torch.accelerator.device_count() == 0
    else:
        assert acc.type == "cuda"
        x = minitorch.ones(2, device=acc)
        assert x.device.type == "cuda"
    # device_index(None) switches nothing, on either library; device_index(0) restores the index after
    for lib in (minitorch, torch):
        with lib.accelerator.device_index(None):
            pass
    before = minitorch.accelerator.current_device_index()
    with minitorch.accelerator.device_index(None):
        assert minitorch.accelerator.current_device_index() == before
    if minitorch.cuda.is_available():
        with minitorch.accelerator.device_index(0):
            assert minitorch.accelerator.current_device_index() == 0
        assert minitorch.accelerator.current_device_index() == before


def test_cuda_legacy_types():
    t = minitorch.ones(2)
    assert not isinstance(t, minitorch.cuda.FloatTensor) and isinstance(t, minitorch.FloatTensor)
    assert not isinstance(t.long(), minitorch.cuda.LongTensor)
    # the common pattern: pick the constructor by device, build from numpy values
    Tensor = minitorch.cuda.FloatTensor if minitorch.cuda.is_available() else minitorch.FloatTensor
    x = Tensor(np.array([1.5, 2.5]))
    assert x.dtype is minitorch.float32
    if minitorch.cuda.is_available():
        y = minitorch.cuda.FloatTensor([1.0, 2.0])
        assert y.device.type == "cuda" and isinstance(y, minitorch.cuda.FloatTensor)
        assert not isinstance(y, minitorch.FloatTensor)
    else:
        with pytest.raises(TypeError, match="not available"):
            minitorch.cuda.FloatTensor(3)
        if not torch.cuda.is_available():
            with pytest.raises(TypeError, match="not available"):
                torch.cuda.FloatTensor(3)


def test_cuda_set_device():
    minitorch.cuda.set_device(-1)  # ignored, as torch
    if minitorch.cuda.is_available():
        minitorch.cuda.set_device(0)
        with pytest.raises(RuntimeError):
            minitorch.cuda.set_device(minitorch.cuda.device_count())
    else:
        with pytest.raises(AssertionError):
            minitorch.cuda.set_device(0)
