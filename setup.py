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

libraries += ["dl", "pthread"]  # csrc/dist/mpi.c: dlopen of libmpi at run time, its engine thread

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



# ======================================================================================
# CUDA extension (minitorch._C_cuda): cuda/*.cu compiled by nvcc, cuda/module.c by the C
# compiler, linked with cudart + cuBLAS. Separate from the CPU build above.
#   MINITORCH_CUDA=0     never build it
#   MINITORCH_CUDA=1     build it; fail if nvcc is missing
#   (unset)              build it when nvcc is found (CUDA_HOME/bin/nvcc or on PATH)
#   MINITORCH_CUDA_ARCHS "70;80;90" by default: SASS for each arch this nvcc supports (others
#                        are skipped with a note; CUDA 13 has no sm_70) + PTX for the highest.
# Without cublas_v2.h the .cu files are built with -DMT_NO_CUBLAS (plain GEMM kernel).
# ======================================================================================
import shutil  # noqa: E402
import subprocess  # noqa: E402


def _find_nvcc():
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home and os.path.exists(os.path.join(home, "bin", "nvcc")):
        return os.path.join(home, "bin", "nvcc")
    return shutil.which("nvcc") or (
        "/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)


def _cuda_home(nvcc):
    cands = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
             os.path.dirname(os.path.dirname(os.path.realpath(nvcc))), "/usr/local/cuda"]
    for c in cands:
        if c and os.path.exists(os.path.join(c, "include", "cuda_runtime.h")):
            return c
    raise RuntimeError(f"minitorch: nvcc found at {nvcc} but no CUDA toolkit headers (set CUDA_HOME)")


def _cuda_gencode(nvcc):
    want = [a.strip() for a in os.environ.get("MINITORCH_CUDA_ARCHS", "70;80;90").replace(",", ";").split(";")
            if a.strip()]
    try:
        have = subprocess.run([nvcc, "--list-gpu-arch"], capture_output=True, text=True, check=True).stdout.split()
        have = {a.replace("compute_", "") for a in have}
    except Exception:  # old nvcc without --list-gpu-arch: trust the list
        have = set(want)
    archs = [a for a in want if a in have]
    for a in want:
        if a not in have:
            print(f"minitorch: nvcc does not support sm_{a}; skipping it", file=sys.stderr)
    if not archs:
        raise RuntimeError(f"minitorch: none of MINITORCH_CUDA_ARCHS={want} is supported by {nvcc}")
    flags = []
    for a in archs:
        flags += ["-gencode", f"arch=compute_{a},code=sm_{a}"]
    top = max(archs, key=int)
    flags += ["-gencode", f"arch=compute_{top},code=compute_{top}"]
    return flags


_cuda_mode = os.environ.get("MINITORCH_CUDA", "").strip().lower()
_nvcc = None if _cuda_mode in ("0", "no", "off", "false") else _find_nvcc()
if _cuda_mode in ("1", "yes", "on", "true") and not _nvcc:
    raise RuntimeError("MINITORCH_CUDA=1 but nvcc was not found (set CUDA_HOME or put nvcc on PATH)")

ext_modules = [ext]
if _nvcc:
    _home = _cuda_home(_nvcc)
    _lib = next((os.path.join(_home, d) for d in ("lib64", "lib", "targets/x86_64-linux/lib")
                 if os.path.exists(os.path.join(_home, d, "libcudart.so"))), os.path.join(_home, "lib64"))
    _has_cublas = os.path.exists(os.path.join(_home, "include", "cublas_v2.h"))
    if not _has_cublas:
        print("minitorch: cublas_v2.h not found; building the CUDA backend without cuBLAS", file=sys.stderr)
    _cu_sources = sorted(glob.glob("cuda/*.cu"))
    _cu_flags = ["-std=c++17", "-O3", "-Xcompiler", "-fPIC", "-Icsrc", "-Icuda", "-diag-suppress", "2361",
                 "-Xcompiler", "-Wno-narrowing"] + _cuda_gencode(_nvcc) + ([] if _has_cublas else ["-DMT_NO_CUBLAS"])
    cuda_ext = Extension(
        "minitorch._C_cuda",
        sources=["cuda/module.c"],
        include_dirs=["csrc", os.path.join(_home, "include")],
        library_dirs=[_lib],
        runtime_library_dirs=[_lib],
        libraries=["cudart"] + (["cublas"] if _has_cublas else []) + ["stdc++"],
        extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    )
    cuda_ext._mt_cu_sources = _cu_sources
    # relink when a .cu file or a header changes, not only cuda/module.c
    cuda_ext.depends = _cu_sources + glob.glob("cuda/*.cuh") + glob.glob("csrc/**/*.h", recursive=True)
    ext_modules.append(cuda_ext)


class build_ext_cuda(build_ext):
    """build_ext that first compiles the .cu sources of minitorch._C_cuda with nvcc (in parallel)."""

    def build_extension(self, ext):
        cu = getattr(ext, "_mt_cu_sources", None)
        if cu:
            import time
            from concurrent.futures import ThreadPoolExecutor

            out_dir = os.path.join(self.build_temp, "cuda_objs")
            os.makedirs(out_dir, exist_ok=True)
            headers = glob.glob("cuda/*.cuh") + glob.glob("cuda/*.h") + glob.glob("csrc/**/*.h", recursive=True)
            newest_header = max((os.path.getmtime(h) for h in headers), default=0)

            def compile_one(src):
                obj = os.path.join(out_dir, os.path.basename(src)[:-3] + ".o")
                if (not self.force and os.path.exists(obj) and
                        os.path.getmtime(obj) >= max(os.path.getmtime(src), newest_header)):
                    return obj
                cmd = [_nvcc] + _cu_flags + ["-c", src, "-o", obj]
                print(" ".join(cmd))
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"nvcc failed on {src}:\n{r.stdout}{r.stderr}")
                return obj

            t0 = time.time()
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                ext.extra_objects = list(pool.map(compile_one, cu))
            print(f"minitorch: nvcc compiled {len(cu)} CUDA files in {time.time() - t0:.1f}s")
        super().build_extension(ext)


setup(ext_modules=ext_modules, cmdclass={"build_ext": build_ext_cuda})
