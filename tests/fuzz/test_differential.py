"""Seeded differential fuzzing of minitorch against PyTorch (the oracle).

Every case is a pure function of (seed, index) (fuzz_cases.make_case): an op from the elementwise
manifest minitorch._C._ops or from the hand lists (reductions, shape ops, indexing, where, clamp,
matmul, sort/topk, ...), random shapes of rank 0-5 with 0- and 1-size dims, every dtype, non-
contiguous (permuted, sliced with steps, selected) and expanded (stride-0) inputs, broadcasting
pairs, Python-scalar operands, in-place and operator forms, and gradients for float inputs. Both
libraries build their tensors from the same NumPy arrays; the results must agree in value
(NaN-equal; exact for integers and bools), dtype, shape, exception class, in-place identity and
mutation, and gradient. Known minitorch bugs are listed in fuzz_known.KNOWN and reported as xfail.

Options (see conftest.py): --fuzz-cases N, --fuzz-seed S, --fuzz-start K, or the environment
variables MINITORCH_FUZZ_CASES / MINITORCH_FUZZ_SEED / MINITORCH_FUZZ_START. A failing case prints
its reproducer; `python3 tests/fuzz/driver.py --seed S --case I` replays it, and the driver runs
long campaigns in crash-isolated subprocesses.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minitorch
from fuzz_options import fuzz_settings
from fuzz_cases import ALL_DTYPES, DTYPES, NARROW_SHARE, internal_only, make_case, round_bfloat16
from fuzz_exec import Lib, case_code, check_case, describe
from fuzz_known import KNOWN, match_known

torch = pytest.importorskip("torch")

MT, TH = Lib(minitorch, "minitorch"), Lib(torch, "torch")
OPS = minitorch._C._ops


def pytest_generate_tests(metafunc):
    if "fuzz_index" in metafunc.fixturenames:
        n, seed, start = fuzz_settings(metafunc.config)
        idx = list(range(start, start + n))
        ids = [f"s{seed}-{i}-{make_case(OPS, seed, i)['op']}" for i in idx]
        metafunc.parametrize("fuzz_index", idx, ids=ids)


@pytest.fixture(scope="session")
def fuzz_seed(request):
    return fuzz_settings(request.config)[1]


def _report(case, ms):
    lines = [describe(case), "mismatches:"]
    lines += [f"  [{m['kind']}] {m['detail']}" for m in ms]
    lines += ["reproducer (import numpy as np; import minitorch):"] + ["  " + ln for ln in case_code(case, "minitorch")]
    lines += [f"replay: python3 tests/fuzz/driver.py --seed {case['seed']} --case {case['index']}",
              "case: " + json.dumps(case, default=str)]
    return "\n".join(lines)


def test_differential(fuzz_index, fuzz_seed):
    case = make_case(OPS, fuzz_seed, fuzz_index)
    k = match_known(case)
    if k is not None:
        pytest.skip(f"known [{k[0]}]: {k[1]}")
    _, _, ms = check_case(MT, TH, case)
    if ms:
        k = match_known(case, ms)
        if k is not None:
            pytest.xfail(f"known [{k[0]}]: {k[1]}")
        pytest.fail(_report(case, ms), pytrace=False)


# ---- the fuzzer itself ----

def test_cases_are_reproducible():
    for i in (0, 1, 17, 999, 123456):
        a, b = make_case(OPS, 5, i), make_case(OPS, 5, i)
        assert json.dumps(a, default=str) == json.dumps(b, default=str)
    assert json.dumps(make_case(OPS, 5, 3)) != json.dumps(make_case(OPS, 6, 3))


def test_generator_covers_the_manifest_and_dtypes():
    """Every declared elementwise op, dtype, layout and form shows up within the default budget."""
    n = 3000
    ops, dtypes, views, forms, ranks = set(), set(), set(), set(), set()
    for i in range(n):
        c = make_case(OPS, 0, i)
        ops.add(c["op"])
        forms.add(c["form"])
        for s in c["inputs"]:
            dtypes.add(s["dtype"])
            views.update(v[0] for v in s["views"])
            ranks.add(len(s["base"]))
    declared = {o["name"] for o in OPS if not internal_only(o)}  # (the others are left out by make_case: see there)
    assert not declared - ops, f"manifest ops never generated: {sorted(declared - ops)}"
    want = set(ALL_DTYPES) if NARROW_SHARE else set(DTYPES)  # MINITORCH_FUZZ_NARROW=0: the old dtypes only
    assert want <= dtypes, f"dtypes never generated: {sorted(want - dtypes)}"
    assert {"permute", "slice", "expand", "select"} <= views
    assert {"F", "M", "I", "op", "rop", "iop", "getitem", "setitem"} <= forms
    assert set(range(6)) <= ranks


def test_known_entries_are_well_formed():
    ids = [k[0] for k in KNOWN]
    assert len(ids) == len(set(ids))
    for kid, pred, reason, action in KNOWN:
        assert callable(pred) and reason and action in ("xfail", "skip"), kid


def test_minitorch_does_not_import_torch():
    code = "import sys, minitorch; sys.exit(1 if 'torch' in sys.modules else 0)"
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_comparison_catches_a_wrong_value():
    """The oracle check is live: a perturbed minitorch result is reported."""
    from fuzz_exec import compare, run_case
    for i in range(200):
        case = make_case(OPS, 0, i, family="unary")
        if case["inputs"][0]["dtype"] == "float32" and case["form"] == "F" and case["op"] in ("neg", "abs", "exp"):
            break
    got, want = run_case(MT, case), run_case(TH, case)
    if want.exc or not want.value["data"].size:
        pytest.skip("picked case has no values")
    assert not compare(got, want, case)
    got.value = dict(got.value, data=got.value["data"] + np.float32(1.0))
    assert any(m["kind"] == "value" for m in compare(got, want, case))


def test_narrow_cases_leave_the_others_unchanged():
    """A narrow case replaces an index's case; every other index keeps the case it had without them."""
    n_narrow = 0
    for i in range(300):
        c = make_case(OPS, 3, i)
        old = make_case(OPS, 3, i, narrow=False)
        if c.get("narrow"):
            n_narrow += 1
            assert c["inputs"][0]["dtype"] in ALL_DTYPES
        else:
            assert json.dumps(c) == json.dumps(old)
    assert 0.2 * 300 < n_narrow < 0.5 * 300 or not NARROW_SHARE


def test_narrow_comparison_tolerances():
    """float16/bfloat16 results pass within two units in their last place and fail beyond; narrow integers
    compare exactly; the bfloat16 rounding used by the float32 oracle is torch's."""
    from fuzz_exec import compare_tensor, tolerance
    case = make_case(OPS, 0, 0, family="unary", narrow=True)
    case["op"], case["family"] = "neg", "unary"
    tol = (lambda dt: tolerance(case, dt, 1.0, 1))
    x = np.linspace(0.5, 1000, 101)
    for dt, eps in (("float16", 2.0 ** -10), ("bfloat16", 2.0 ** -7)):
        want = x.astype(np.float16) if dt == "float16" else round_bfloat16(x)
        wd = {"t": dt, "shape": want.shape, "data": want, "rg": False}
        if dt == "float16":
            two_ulps = np.nextafter(np.nextafter(want, np.float16(np.inf)), np.float16(np.inf))
        else:
            two_ulps = (want.view(np.uint32) + np.uint32(2 << 16)).view(np.float32)  # 2 bfloat16 steps up
        assert (two_ulps != want).all()
        assert not compare_tensor(dict(wd, data=np.asarray(two_ulps, want.dtype)), wd, tol, "r")
        bad = np.asarray(want * (1 + 4 * eps), want.dtype)
        assert compare_tensor(dict(wd, data=bad), wd, tol, "r")
    for dt in ("uint8", "int8", "int16"):
        a = np.array([0, 1, 2, 100], dtype=dt)
        wd = {"t": dt, "shape": a.shape, "data": a, "rg": False}
        assert not compare_tensor(wd, wd, tol, "r")
        assert compare_tensor(dict(wd, data=a + np.array(1, dt)), wd, tol, "r")
    f = np.random.default_rng(0).standard_normal(4096).astype(np.float32) * np.float32(300)
    f[:4] = [np.inf, -np.inf, 3.3961e38, 1.0039062]
    assert np.array_equal(torch.tensor(f).bfloat16().float().numpy(), round_bfloat16(f))


def test_driver_isolates_a_crash():
    """A worker that dies mid-case is reported with that case's reproducer, and the run goes on."""
    env = dict(os.environ, MINITORCH_FUZZ_SELFTEST_CRASH_AT="3")
    driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "driver.py")
    r = subprocess.run([sys.executable, driver, "--cases", "6", "--seed", "0", "--chunk", "6"], env=env,
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert "crash at case 3 in minitorch" in out and "SIGSEGV" in out, out
    assert "6 cases" in out and "[crash]" in out, out
