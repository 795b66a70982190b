"""minitorch.version (torch.version): the version, and the CUDA / HIP / XPU versions it was built with (None:
built without them)."""
from . import __version__  # noqa: F401

debug = False
git_version = "Unknown"
hip = None
rocm = None
xpu = None


def _cuda_version():
    """None without the CUDA module (as torch built without CUDA); else the CUDA runtime's version ("12.4") that
    the module runs on, read with cudaRuntimeGetVersion, or "unknown" when that cannot be read."""
    from . import cuda

    if cuda._cuda is None:
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(cuda._cuda.__file__).cudaRuntimeGetVersion
        v = ctypes.c_int(0)
        if fn(ctypes.byref(v)) == 0 and v.value > 0:
            return f"{v.value // 1000}.{v.value % 1000 // 10}"
    except (OSError, AttributeError):
        pass
    return "unknown"


cuda = _cuda_version()
