#!/usr/bin/env bash
# One-shot check of the CUDA backend on a GPU machine (about 4-5 minutes):
#   build + install (timed), tests/test_cuda.py, the CUDA tests of the other files, and
#   bench/bench_gpu.py. Full pytest logs land in $OUT/test_cuda*.log.
# Run from the repository root. The log goes to $OUT/gpu_check.log when $OUT is set.
set -u
REPO="$(cd "$(dirname "$0")/.." && pwd)"
LOG="${OUT:+$OUT/gpu_check.log}"
LOG="${LOG:-/tmp/gpu_check.log}"
mkdir -p "$(dirname "$LOG")"
exec > >(tee "$LOG") 2>&1
cd "$REPO"
export MINITORCH_CUDA=1
export MINITORCH_CUDA_ARCHS="${MINITORCH_CUDA_ARCHS:-90}"   # this machine only: faster build
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
nvcc --version | tail -1; python3 --version
echo "== build (pip install --no-build-isolation .)"
t0=$(date +%s)
timeout 300 python3 -m pip install --no-build-isolation --no-deps -v . > /tmp/mt_build.log 2>&1; rc=$?
t1=$(date +%s)
grep -E "minitorch:|error|Error" /tmp/mt_build.log | grep -v "^ *$" | tail -20
echo "build rc=$rc in $((t1 - t0)) s"
if [ $rc -ne 0 ]; then tail -60 /tmp/mt_build.log; exit 1; fi
# also make the in-tree package importable (tests/benches that put the repo on sys.path)
SP=$(cd /tmp && python3 -c "import minitorch, os; print(os.path.dirname(minitorch.__file__))")
cp "$SP"/_C*.so "$REPO/minitorch/" 2>/dev/null || true
cd /tmp
python3 -c "import minitorch, minitorch.cuda as c; print('cuda available:', c.is_available(), c.device_count(), c.get_device_name() if c.is_available() else '')"
echo "== tests/test_cuda.py"
RES="${OUT:-/tmp}"
timeout 200 python3 -m pytest -q --tb=short -rfE -p no:cacheprovider "$REPO/tests/test_cuda.py" > "$RES/test_cuda.log" 2>&1
grep -E "^(FAILED|ERROR)|passed|failed" "$RES/test_cuda.log" | tail -40
echo "== CUDA tests in the other files (-k 'cuda or gpu')"
timeout 200 python3 -m pytest -q --tb=short -rfE -p no:cacheprovider "$REPO/tests" --ignore="$REPO/tests/test_cuda.py" -k "cuda or gpu" > "$RES/test_cuda_k.log" 2>&1
grep -E "^(FAILED|ERROR)|passed|failed" "$RES/test_cuda_k.log" | tail -60
echo "== bench/bench_gpu.py"
timeout 120 python3 "$REPO/bench/bench_gpu.py" 2>&1 | tail -20
echo "== done"
