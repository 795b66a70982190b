"""Loads the OpenBLAS of the scipy-openblas32 wheel before minitorch._C links against it.

_C records libscipy_openblas.so as a needed library without a path (the wheel's
location differs between build and install); a library already loaded under that
name satisfies it."""
import ctypes
import os


def load():
    # OpenBLAS's worker threads spin for about 2^28 cycles after each call by default. On a
    # machine with few cores they then starve minitorch's OpenMP threads (and the other way
    # round): an MLP training step took 28 ms instead of 0.8 ms. Sleep at once instead.
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    try:
        import scipy_openblas32
    except ImportError:  # built against a system OpenBLAS
        return
    path = os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so")
    if os.path.exists(path):
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
