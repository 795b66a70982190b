"""minitorch.backends: the TF32 switches under torch.backends' names and defaults."""
import pytest

import minitorch as mt


def test_defaults_and_setting():
    assert mt.backends.cudnn.allow_tf32 is True  # the recurrent layers' GEMMs, like cuDNN's RNNs
    assert mt.backends.cuda.matmul.allow_tf32 is False
    assert mt.backends.cuda.matmul is mt.cuda.matmul
    import minitorch.backends.cudnn as cudnn  # importable by name, as torch.backends.cudnn

    assert cudnn is mt.backends.cudnn
    cudnn.allow_tf32 = False
    try:
        assert mt.backends.cudnn.allow_tf32 is False
    finally:
        cudnn.allow_tf32 = True
    assert mt.backends.cudnn.allow_tf32 is True


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    assert torch.backends.cudnn.allow_tf32 is mt.backends.cudnn.allow_tf32
    assert torch.backends.cuda.matmul.allow_tf32 is mt.backends.cuda.matmul.allow_tf32


def test_cudnn_flags_and_mps_answer_like_torch_without_them():
    torch = pytest.importorskip("torch")
    for name in ("enabled", "benchmark", "deterministic"):
        assert getattr(mt.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    mt.backends.cudnn.benchmark = True  # a hint: kept, no effect
    assert mt.backends.cudnn.benchmark is True
    mt.backends.cudnn.benchmark = False
    import minitorch.backends.mps as mps
    assert mps.is_available() is False and mps.is_built() is False


def test_float32_matmul_precision_as_torch():
    """set_float32_matmul_precision drives backends.cuda.matmul.allow_tf32 (remembered without a GPU too)."""
    torch = pytest.importorskip("torch")
    try:
        for p in ("high", "medium", "highest"):
            mt.set_float32_matmul_precision(p)
            torch.set_float32_matmul_precision(p)
            assert mt.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == p
            assert mt.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            mt.set_float32_matmul_precision("fast")
        assert mt.get_float32_matmul_precision() == "highest"
    finally:
        mt.set_float32_matmul_precision("highest")
        torch.set_float32_matmul_precision("highest")
        torch.backends.cuda.matmul.allow_tf32 = False
    assert mt.backends.cuda.matmul.allow_tf32 is False
