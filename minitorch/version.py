"""minitorch.version (torch.version): the version, and the CUDA / HIP / XPU versions it was built with (None:
built without them)."""
from . import __version__  # noqa: F401

debug = False
git_version = "Unknown"
hip = None
rocm = None
xpu = None


def _cuda_version():
    # minitorch's CUDA module does not report the toolkit version it was built with; "None" is only said when
    # it was built without CUDA
    from . import cuda

    return None if cuda._cuda is None else getattr(cuda._cuda, "cuda_version", lambda: "unknown")()


cuda = _cuda_version()
