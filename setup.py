"""Builds minitorch._C (the C core) with setuptools.

BLAS: the scipy-openblas32 wheel (symbols prefixed scipy_) when importable,
else a system OpenBLAS (cblas.h + -lopenblas), e.g. on machines without a
package registry. The library is loaded at import time by minitorch/_blas.py.
"""
import glob
import os
import sys

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
sources = sorted(
    p for p in glob.glob("csrc/**/*.c", recursive=True) if not os.path.basename(p).startswith("test_")
)

include_dirs = ["csrc", numpy.get_include()]
library_dirs, libraries, define_macros = [], [], [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
try:
    import scipy_openblas32

    include_dirs.append(scipy_openblas32.get_include_dir())
    library_dirs.append(scipy_openblas32.get_lib_dir())
    libraries.append(scipy_openblas32.get_library())
    define_macros.append(("MT_BLAS_PREFIX", "scipy_"))
except ImportError:  # fall back to a system OpenBLAS
    for d in ("/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas", "/usr/include/aarch64-linux-gnu/openblas-pthread"):
        if os.path.exists(os.path.join(d, "cblas.h")):
            include_dirs.append(d)
            break
    libraries.append("openblas")

extra_compile_args = ["-std=c11", "-O3", "-fopenmp", "-Wall", "-Wextra", "-Wno-unused-parameter",
                      "-Wno-missing-field-initializers", "-fno-strict-aliasing"]
extra_link_args = ["-fopenmp"]
if os.environ.get("CFLAGS", "").find("sanitize") >= 0:
    extra_compile_args.append("-O1")

ext = Extension(
    "minitorch._C",
    sources=sources,
    include_dirs=include_dirs,
    library_dirs=library_dirs,
    libraries=libraries,
    define_macros=define_macros,
    extra_compile_args=extra_compile_args,
    extra_link_args=extra_link_args,
)

class build_ext(_build_ext):
    """Compiles the C files in parallel (plain setuptools compiles them one by one)."""

    def build_extension(self, ext):
        from concurrent.futures import ThreadPoolExecutor

        serial_compile = self.compiler.compile

        def compile_parallel(sources, **kw):
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                objs = pool.map(lambda src: serial_compile([src], **kw), sources)
            return [o for group in objs for o in group]

        self.compiler.compile = compile_parallel
        super().build_extension(ext)


setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})
