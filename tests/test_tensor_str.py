"""minitorch/_tensor_str.py must print exactly what PyTorch prints."""

import importlib.util
import pathlib
import random

import numpy as np
import pytest

# Load the module directly: the minitorch package (C extension) may not be built.
_spec = importlib.util.spec_from_file_location(
    "_tensor_str", pathlib.Path(__file__).resolve().parents[1] / "minitorch" / "_tensor_str.py"
)
ts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ts)

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _reset_printoptions():
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")


def both_set_printoptions(**kwargs):
    torch.set_printoptions(**kwargs)
    ts.set_printoptions(**kwargs)


def dtype_name(t):
    return str(t.dtype).removeprefix("torch.")


def ours(t, **kwargs):
    """format_tensor() for the values and dtype of torch tensor t."""
    return ts.format_tensor(t.detach().numpy(), dtype=dtype_name(t), **kwargs)


def check(array):
    t = torch.tensor(array)
    expected = repr(t)
    assert str(t) == expected
    assert ours(t) == expected


F32 = np.float32

CASES = {
    # 0-d scalars of each dtype
    "scalar_f32": np.array(3.5, F32),
    "scalar_f32_int": np.array(3.0, F32),
    "scalar_f32_small": np.array(1e-7, F32),
    "scalar_f32_zero": np.array(0.0, F32),
    "scalar_f32_negzero": np.array(-0.0, F32),
    "scalar_f32_nan": np.array(np.nan, F32),
    "scalar_f32_neginf": np.array(-np.inf, F32),
    "scalar_f64": np.array(-2.25, np.float64),
    "scalar_i64": np.array(-7, np.int64),
    "scalar_i32": np.array(12, np.int32),
    "scalar_bool_t": np.array(True),
    "scalar_bool_f": np.array(False),
    # 1-D / 2-D / 3-D
    "vec": np.array([1.5, -2.25, 3.125], F32),
    "vec_integral": np.array([4.0, 5.0, 6.0], F32),
    "vec_integral_neg": np.array([-4.0, 5.0, 600.0], F32),
    "vec_integral_big": np.array([1.0, 2e9], F32),
    "vec_zeros": np.zeros(4, F32),
    "vec_signed_zeros": np.array([0.0, -0.0, 0.0], F32),
    "mat": np.arange(12, dtype=F32).reshape(3, 4) / 7,
    "mat_neg": -np.arange(6, dtype=F32).reshape(2, 3) * 1.5,
    "cube": np.arange(24, dtype=F32).reshape(2, 3, 4) - 11.5,
    "hyper": np.arange(48, dtype=np.int64).reshape(2, 2, 3, 4) - 20,
    "single_elems": np.ones((1, 1, 1), F32),
    # sci mode triggers: ratio > 1000, max > 1e8, min < 1e-4
    "sci_small": np.array([1e-5, 1.0, 2.0], F32),
    "sci_big": np.array([1.0, 1e9], F32),
    "sci_ratio": np.array([0.5, 501.0], F32),
    "no_sci_ratio_1000": np.array([1.0, 1000.0], F32),
    # ratio is > 1000 in double but rounds to exactly 1000 in float32: torch uses double
    "sci_ratio_double": np.array([8.110138, np.nextafter(F32(8110.138), F32(np.inf))], F32),
    "sci_f64_exp3": np.array([1e-150, 1.0, 3e200], np.float64),
    "sci_neg": np.array([-1e-5, 3.0, -2e3], F32),
    "sci_with_nan": np.array([1e-6, np.nan, np.inf, -np.inf], F32),
    # nonfinite
    "nonfinite_only": np.array([np.nan, np.inf, -np.inf], F32),
    "nonfinite_int_mode": np.array([np.nan, 1.0, -np.inf, 2.0], F32),
    "nonfinite_frac": np.array([np.nan, 1.5, np.inf], F32),
    "nonfinite_mat": np.array([[np.nan, 0.1], [np.inf, -2.0]], F32),
    # rounding across widths
    "round_up_width": np.array([9.99996, 0.5], F32),
    "tiny_neg": np.array([-0.00001, 0.5, 0.25], F32),
    # dtype suffixes
    "f64": np.array([1.0, 2.5, -3.0], np.float64),
    "f64_integral": np.array([[1.0, 2.0], [3.0, 4.0]], np.float64),
    "i64": np.array([1, -20, 300], np.int64),
    "i32": np.array([1, -20, 300], np.int32),
    "i32_mat": np.arange(6, dtype=np.int32).reshape(2, 3),
    "bool": np.array([True, False, True]),
    "bool_all_true": np.array([[True, True], [True, True]]),
    "f16": np.array([1.5, 2.0, 65504.0], np.float16),
    # empty shapes
    "empty_f32": np.zeros((0,), F32),
    "empty_f32_2d": np.zeros((0, 3), F32),
    "empty_f32_3d": np.zeros((2, 0, 3), F32),
    "empty_f64": np.zeros((0,), np.float64),
    "empty_i64": np.zeros((0,), np.int64),
    "empty_i32": np.zeros((0,), np.int32),
    "empty_bool": np.zeros((3, 0), bool),
    # summarised (> 1000 elements)
    "sum_1d": np.arange(2000, dtype=F32),
    "sum_1d_1001": np.linspace(-1, 1, 1001).astype(F32),
    "sum_2d": np.random.RandomState(0).randn(100, 100).astype(F32),
    "sum_3x1000": np.arange(3000, dtype=F32).reshape(3, 1000) * 0.01,
    "sum_3d": np.arange(1100, dtype=np.int64).reshape(10, 10, 11),
    "sum_i32": np.arange(5000, dtype=np.int32).reshape(50, 100),
    "sum_f64": np.random.RandomState(1).randn(2, 600),
    "sum_hidden_outlier": np.concatenate([np.ones(500), [1e10], np.ones(500)]).astype(F32),
    "sum_bool": np.arange(1200) % 3 == 0,
    "not_sum_1000": np.arange(1000, dtype=np.int64),
    # long rows wrapping at linewidth 80
    "wrap_1d": np.arange(50, dtype=F32) * 1.2345,
    "wrap_1d_int": np.arange(100, dtype=np.int64) * 1234567,
    "wrap_2d": np.arange(60, dtype=F32).reshape(2, 30) / 3,
    "wrap_sci": np.logspace(-10, 10, 40).astype(F32),
    "wrap_f64_suffix": np.arange(8, dtype=np.float64) + 0.5,
    "wrap_f64_suffix_2d": (np.arange(16, dtype=np.float64) + 0.5).reshape(2, 8),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    check(CASES[name])


def test_values_cast_to_dtype():
    # A float64 copy of float32 values prints like the float32 tensor.
    a = np.array([0.1, 0.2, 1e-5])
    assert ts.format_tensor(a, dtype="float32") == repr(torch.tensor(a, dtype=torch.float32))
    assert ts.format_tensor(a, dtype="torch.float64") == repr(torch.tensor(a))


def test_bfloat16():
    t = torch.tensor([1.0, 2.5, 3.3, 1e-3, 300.0]).to(torch.bfloat16)
    assert ts.format_tensor(t.float().numpy(), dtype="bfloat16") == repr(t)


def test_str_literals():
    assert ts.format_tensor(np.array([4.0, 5.0, 6.0], F32), dtype="float32") == "tensor([4., 5., 6.])"
    assert ts.format_tensor(np.zeros((0, 3), F32), dtype="float32") == "tensor([], size=(0, 3))"
    assert ts.format_tensor(np.zeros(0, np.int32), dtype="int32") == "tensor([], dtype=torch.int32)"
    assert ts.format_tensor(np.array([True, False]), dtype="bool") == "tensor([ True, False])"


# ---------------------------------------------------------------- autograd suffixes


GRAD_CASES = ["scalar_f32", "vec", "mat", "f64", "wrap_1d", "wrap_f64_suffix", "wrap_f64_suffix_2d", "sum_2d"]


@pytest.mark.parametrize("name", GRAD_CASES)
def test_requires_grad(name):
    t = torch.tensor(CASES[name], requires_grad=True)
    assert ours(t, requires_grad=True) == repr(t)


@pytest.mark.parametrize("name", GRAD_CASES)
def test_grad_fn(name):
    t = torch.tensor(CASES[name], requires_grad=True)
    mul = t * 1
    s = mul.sum()
    assert ours(mul, requires_grad=True, grad_fn="MulBackward0") == repr(mul)
    assert ours(s, grad_fn="SumBackward0") == repr(s)
    # grad_fn wins over requires_grad
    assert "requires_grad" not in ours(s, requires_grad=True, grad_fn="SumBackward0")


def test_requires_grad_wraps_after_long_row():
    # Row ending near column 80: the suffix has to move to its own line.
    t = torch.tensor(np.arange(8, dtype=F32) + 0.5, requires_grad=True)
    expected = repr(t)
    assert expected.endswith(",\n       requires_grad=True)")
    assert ours(t, requires_grad=True) == expected


# ---------------------------------------------------------------- device suffix


def torch_expected(t, suffixes, prefix="tensor("):
    """torch's own contents + suffix layout for a suffix list (CPU torch cannot
    make a CUDA tensor, so the device suffix is tested through torch internals)."""
    indent = len(prefix)
    body = torch._tensor_str._tensor_str(t, indent) if t.numel() else "[]"
    return torch._tensor_str._add_suffixes(prefix + body, suffixes, indent, False)


def test_device_literals():
    a = np.array([1.0, 2.0], F32)
    assert ts.format_tensor(a, dtype="float32", device="cuda:0") == "tensor([1., 2.], device='cuda:0')"
    assert ts.format_tensor(a, dtype="float32", device="cpu") == "tensor([1., 2.])"
    assert (
        ts.format_tensor(a, dtype="float64", device="cuda:0", requires_grad=True)
        == "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)"
    )
    assert (
        ts.format_tensor(np.zeros((2, 0)), dtype="int32", device="cuda:1")
        == "tensor([], device='cuda:1', size=(2, 0), dtype=torch.int32)"
    )
    assert (
        ts.format_tensor(np.array([[1.5, 2.0], [3.0, 4.0]], F32), dtype="float32", device="cuda:0",
                         grad_fn="AddBackward0")
        == "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], device='cuda:0', grad_fn=<AddBackward0>)"
    )


@pytest.mark.parametrize("name", ["vec", "mat", "f64", "i32", "wrap_1d", "wrap_f64_suffix", "sum_3x1000"])
@pytest.mark.parametrize("grad", [None, "requires_grad", "MulBackward0"])
def test_device_suffix_layout(name, grad):
    t = torch.tensor(CASES[name])
    suffixes = ["device='cuda:0'"]
    if dtype_name(t) not in ("float32", "int64", "bool"):
        suffixes.append(f"dtype={t.dtype}")
    kwargs = {}
    if grad == "requires_grad":
        suffixes.append("requires_grad=True")
        kwargs["requires_grad"] = True
    elif grad:
        suffixes.append(f"grad_fn=<{grad}>")
        kwargs["grad_fn"] = grad
    assert ours(t, device="cuda:0", **kwargs) == torch_expected(t, suffixes)


def test_prefix():
    t = torch.tensor(CASES["mat"])
    assert ours(t, prefix="Parameter(") == torch_expected(t, [], prefix="Parameter(")


# ---------------------------------------------------------------- print options


def test_get_set_printoptions():
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    both_set_printoptions(precision=2, threshold=5, edgeitems=1, linewidth=40, sci_mode=True)
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    both_set_printoptions(profile="short")  # sci_mode resets to None
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    both_set_printoptions(profile="full", precision=6)
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context():
    with ts.printoptions(precision=2):
        assert ts.get_printoptions()["precision"] == 2
    assert ts.get_printoptions()["precision"] == 4


OPTION_SETS = [
    dict(precision=2),
    dict(precision=0),
    dict(precision=10),
    dict(sci_mode=False),
    dict(sci_mode=True),
    dict(precision=2, sci_mode=True),
    dict(threshold=5),
    dict(threshold=0),
    dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0),
    dict(edgeitems=0),
    dict(linewidth=40),
    dict(linewidth=10),
    dict(linewidth=200),
    dict(profile="full"),
    dict(profile="short"),
    dict(profile="full", linewidth=40, sci_mode=False),
    dict(precision=2, sci_mode=False, threshold=5, linewidth=40),
]

OPTION_CASES = [
    "scalar_f32", "scalar_i64", "scalar_bool_t", "vec", "vec_integral", "mat", "cube", "hyper",
    "sci_small", "sci_big", "sci_f64_exp3", "nonfinite_int_mode", "nonfinite_frac", "f64", "i32_mat",
    "bool", "empty_f32_3d", "empty_i32", "sum_1d", "sum_2d", "sum_3x1000", "sum_3d", "wrap_1d",
    "wrap_f64_suffix_2d", "round_up_width",
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_printoptions_effects(opts):
    both_set_printoptions(**opts)
    for name in OPTION_CASES:
        t = torch.tensor(CASES[name])
        assert ours(t) == repr(t), name
        if t.dtype.is_floating_point:
            tg = t.clone().requires_grad_()
            assert ours(tg, requires_grad=True) == repr(tg), name


def test_full_profile_prints_everything():
    both_set_printoptions(profile="full")
    t = torch.arange(2000)
    assert "..." not in ours(t)
    assert ours(t) == repr(t)


# ---------------------------------------------------------------- random sweep


def random_array(rng: random.Random, nprng: np.random.Generator):
    ndim = rng.choice([0, 1, 1, 2, 2, 3, 4])
    if rng.random() < 0.1:
        shape = [rng.randint(1, 40) for _ in range(ndim)]  # may be summarised
    else:
        shape = [rng.choice([0, 1, 2, 3, 5, 8]) if rng.random() < 0.05 else rng.randint(1, 6) for _ in range(ndim)]
    kind = rng.choice(["float32"] * 5 + ["float64"] * 2 + ["int64", "int32", "bool", "float16"])
    if kind == "bool":
        return nprng.random(shape) < 0.5
    if kind.startswith("int"):
        hi = 10 ** rng.randint(0, 12)
        return nprng.integers(-hi, hi + 1, size=shape).astype(kind)
    # floats: random magnitudes, sometimes spanning many decades
    lo_exp = rng.uniform(-12, 10)
    hi_exp = lo_exp + rng.choice([0, 0.5, 2, 3, 5, 12])
    a = 10.0 ** nprng.uniform(lo_exp, hi_exp, size=shape)
    a *= nprng.choice([-1.0, 1.0], size=shape) if rng.random() < 0.6 else 1.0
    if rng.random() < 0.25:
        a = np.round(a)
    if rng.random() < 0.2 and a.size:
        flat = a.reshape(-1)
        for _ in range(rng.randint(1, 3)):
            flat[rng.randrange(flat.size)] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0])
    if kind == "float16":
        a = np.clip(a, -60000, 60000)
    return np.asarray(a).astype(kind)


def test_random_sweep():
    rng = random.Random(1234)
    nprng = np.random.default_rng(1234)
    for i in range(1500):
        a = random_array(rng, nprng)
        t = torch.tensor(a)
        assert ours(t) == repr(t), (i, a.dtype, a.shape, a)


def test_random_sweep_with_options():
    rng = random.Random(99)
    nprng = np.random.default_rng(99)
    for i in range(600):
        opts = dict(
            precision=rng.choice([None, 0, 1, 2, 6]),
            threshold=rng.choice([None, 0, 3, 10, 50]),
            edgeitems=rng.choice([None, 0, 1, 2, 4]),
            linewidth=rng.choice([None, 20, 40, 120]),
            sci_mode=rng.choice([None, None, True, False]),
        )
        both_set_printoptions(**opts)
        a = random_array(rng, nprng)
        t = torch.tensor(a)
        requires_grad = t.dtype.is_floating_point and rng.random() < 0.3
        if requires_grad:
            t.requires_grad_()
        assert ours(t, requires_grad=requires_grad) == repr(t), (i, opts, a.dtype, a.shape, a)


def test_hypothesis_float_arrays():
    hypothesis = pytest.importorskip("hypothesis")
    hnp = pytest.importorskip("hypothesis.extra.numpy")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(
        hnp.arrays(
            dtype=st.sampled_from([np.float32, np.float64]),
            shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
            elements=st.floats(width=32),
        )
    )
    def inner(a):
        t = torch.tensor(a)
        assert ours(t) == repr(t)

    inner()
