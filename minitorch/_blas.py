"""Loads the OpenBLAS of the scipy-openblas32 wheel before minitorch._C links against it.

_C records libscipy_openblas.so as a needed library without a path (the wheel's
location differs between build and install); a library already loaded under that
name satisfies it."""
import ctypes
import os


def load():
    try:
        import scipy_openblas32
    except ImportError:  # built against a system OpenBLAS
        return
    path = os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so")
    if os.path.exists(path):
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
