"""No silent wrong results: each class of input where minitorch once returned garbage now gives
PyTorch's value or PyTorch's exception (type and message). Every case runs the same code on
both libraries and compares."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")


def outcome(lib, fn):
    """('ok', value) or ('raise', exception class name, first line of the message)."""
    try:
        r = fn(lib)
    except Exception as e:  # compared with what torch raised
        return ("raise", type(e).__name__, str(e).split("\n")[0])
    if isinstance(r, (lib.Tensor,)):
        # repr of the values, so NaN compares equal to NaN
        return ("ok", str(r.dtype).split(".")[-1], list(r.shape), repr(r.detach().cpu().tolist()))
    return ("ok", r)


def same(fn):
    want, got = outcome(torch, fn), outcome(minitorch, fn)
    assert got == want


# ---- in-place writes into a tensor with internal overlap (a stride-0 dim) ----
def _expanded(t):
    return t.zeros(1).expand(3)


INTERNAL_OVERLAP = {
    "add_": lambda t: t.tensor([[1., 2.]]).expand(3, 2).add_(1),
    "exp_": lambda t: t.tensor([0.]).expand(4).exp_(),
    "iadd": lambda t: _iadd(t.tensor([[1., 2.]]).expand(3, 2)),
    "copy_": lambda t: _expanded(t).copy_(t.tensor([1., 2., 3.])),
    "clamp_": lambda t: _expanded(t).clamp_(1, 2),
    "clamp_tensor": lambda t: _expanded(t).clamp_(min=t.ones(3)),
    "scatter_add_": lambda t: _expanded(t).scatter_add_(0, t.tensor([0, 1]), t.ones(2)),
    "scatter_": lambda t: _expanded(t).scatter_(0, t.tensor([0, 1]), 5.0),
    "setitem_scalar": lambda t: _setitem(t.zeros(1, 1).expand(3, 2), (slice(None), 0), 5),
    "setitem_tensor": lambda t: _setitem(t.zeros(1, 1).expand(3, 2), (slice(None), 0), t.ones(3)),
    "uniform_": lambda t: _expanded(t).uniform_(),
    "normal_": lambda t: _expanded(t).normal_(),
    "sigmoid_": lambda t: _expanded(t).sigmoid_(),
    "mul_tensor": lambda t: _expanded(t).mul_(t.ones(3)),
}


def _iadd(x):
    x += 1
    return x


def _setitem(x, k, v):
    x[k] = v
    return x


@pytest.mark.parametrize("name", sorted(INTERNAL_OVERLAP))
def test_internal_overlap_write_raises(name):
    same(INTERNAL_OVERLAP[name])


ALLOWED_ON_EXPANDED = {
    # PyTorch accepts these on expanded tensors: fill_ writes the one element, a view without
    # a stride-0 dim is fine, an empty tensor writes nothing
    "fill_": lambda t: _base_after(t, lambda x: x.expand(3).fill_(2)),
    "zero_": lambda t: _base_after(t, lambda x: x.expand(3).zero_()),
    "row_of_expanded": lambda t: _setitem(t.zeros(1, 3).expand(2, 3), 0, 1),
    "element_of_expanded": lambda t: _setitem(t.zeros(1, 3).expand(2, 3), (0, 0), 1),
    "empty_expanded": lambda t: t.zeros(0, 1).expand(0, 3).add_(1),
    "index_put_": lambda t: _setitem(t.zeros(1, 3).expand(2, 3), (0, t.tensor([0, 2])), 1.0),
    "masked_fill_": lambda t: t.zeros(1, 3).expand(2, 3).masked_fill_(t.tensor([True, False, True]), 1.),
}


def _base_after(t, op):
    x = t.tensor([5.])
    op(x)
    return x


@pytest.mark.parametrize("name", sorted(ALLOWED_ON_EXPANDED))
def test_writes_pytorch_allows_on_expanded(name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that masked_fill_ on expanded tensors is deprecated
        same(ALLOWED_ON_EXPANDED[name])


# ---- reading a source that overlaps the destination ----
def _sq(t):
    return t.arange(9.).view(3, 3)


def _self_op(make, op):
    def fn(t):
        a = make(t)
        op(a)
        return a
    return fn


OVERLAPPING_SOURCES = {
    # partial overlap: PyTorch raises
    "copy_transposed_self": _self_op(_sq, lambda a: a.copy_(a.t())),
    "setitem_transposed_self": _self_op(_sq, lambda a: a.__setitem__(slice(None), a.t())),
    "copy_shifted": _self_op(lambda t: t.arange(6.), lambda a: a[1:].copy_(a[:-1])),
    "setitem_rows_shifted": _self_op(_sq, lambda a: a.__setitem__(slice(1, None), a[:-1])),
    "add_transposed_self": _self_op(_sq, lambda a: a.add_(a.t())),
    "iadd_shifted": _self_op(lambda t: t.arange(6.), lambda a: a[1:].__iadd__(a[:-1])),
    "mul_row_broadcast": _self_op(_sq, lambda a: a.mul_(a[0])),
    "clamp_tensor_partial": _self_op(lambda t: t.arange(4.), lambda a: a[1:].clamp_(a[:-1])),
    "clamp_tensor_transposed": _self_op(_sq, lambda a: a.clamp_(min=a.t())),
    # full overlap: scatter_ and index_put_ raise, elementwise and copy_ are fine
    "scatter_src_self": _self_op(_sq, lambda a: a.scatter_(0, a.long() % 3, a)),
    "scatter_add_src_self": _self_op(_sq, lambda a: a.scatter_add_(0, a.long() * 0, a)),
    "scatter_index_self": lambda t: _self_op(lambda t: t.zeros(3, dtype=t.int64),
                                             lambda a: a.scatter_(0, a, t.ones(3, dtype=t.int64)))(t),
    "index_put_value_alias": lambda t: _self_op(_sq, lambda a: a.__setitem__(t.tensor([0, 1]), a[1:]))(t),
    "add_self": _self_op(_sq, lambda a: a.add_(a)),
    "copy_self": _self_op(_sq, lambda a: a.copy_(a)),
    "mul_disjoint_rows": _self_op(_sq, lambda a: a[1].mul_(a[0])),
    # overlap PyTorch cannot classify cheaply (not dense): a copy reads all of src first
    "copy_strided_shift": _self_op(_sq, lambda a: a[:, :2].copy_(a[:, 1:])),
    "setitem_strided_shift": _self_op(_sq, lambda a: a.__setitem__((slice(None), slice(0, 2)), a[:, 1:])),
    "copy_interleaved": _self_op(lambda t: t.arange(6.), lambda a: a[::2].copy_(a[1::2])),
}


@pytest.mark.parametrize("name", sorted(OVERLAPPING_SOURCES))
def test_overlapping_source(name):
    same(OVERLAPPING_SOURCES[name])


def test_strided_overlapping_copy_keeps_autograd():
    x = minitorch.arange(9.).view(3, 3).requires_grad_()
    tx = torch.arange(9.).view(3, 3).requires_grad_()
    outs = []
    for t, v in ((minitorch, x), (torch, tx)):
        a = v * 1
        a[:, :2] = a[:, 1:]
        (a * t.arange(9.).view(3, 3)).sum().backward()
        outs.append((a.detach().numpy().tolist(), v.grad.numpy().tolist()))
    assert outs[0] == outs[1]


# ---- a Python number converted to a tensor's dtype must fit it ----
CONVERSIONS = [(dt, v) for dt in ("int32", "int64", "float32", "float64", "bool")
               for v in (1e10, 1e30, 1e300, float("nan"), float("inf"), -float("inf"), 2 ** 40, 2 ** 62, -2 ** 63,
                         3.7, -1e19, 2 ** 31 - 1, -2 ** 31)]


@pytest.mark.parametrize("dt,v", CONVERSIONS)
def test_scalar_conversion_overflow(dt, v):
    same(lambda t: t.full((2,), v, dtype=getattr(t, dt)))
    same(lambda t: t.zeros(2, dtype=getattr(t, dt)).fill_(v))
    same(lambda t: _setitem(t.zeros(2, dtype=getattr(t, dt)), slice(None), v))
    same(lambda t: _setitem(t.zeros(2, dtype=getattr(t, dt)), 0, v))


@pytest.mark.parametrize("v", [2 ** 40, -2 ** 40, 2 ** 31, 7])
def test_integer_bounds_and_where_scalars_must_fit(v):
    same(lambda t: t.tensor([1, 2], dtype=t.int32).clamp(max=v))
    same(lambda t: t.tensor([1, 2], dtype=t.int32).clamp(min=-abs(v)))
    same(lambda t: t.where(t.tensor([True, False]), t.tensor([1, 2], dtype=t.int32), v))
    same(lambda t: t.where(t.tensor([True, False]), v, t.tensor(3, dtype=t.int32)))


@pytest.mark.parametrize("a,b", [(0, 7), (0, 2.5), (2.5, 7), (True, 7), (True, False)])
def test_where_result_type_with_python_numbers(a, b):
    c = lambda t: t.tensor([True, False])  # noqa: E731
    for make in (lambda t, x: x, lambda t, x: t.tensor(x, dtype=t.int32) if isinstance(x, int) and
                 not isinstance(x, bool) else x, lambda t, x: t.tensor([x, x])):
        same(lambda t: t.where(c(t), make(t, a), b))
        same(lambda t: t.where(c(t), a, make(t, b)))


# ---- clamp with min > max: every value becomes max, and the gradient is zero ----
@pytest.mark.parametrize("dt", ["float32", "int64"])
def test_clamp_min_above_max(dt):
    same(lambda t: t.clamp(t.tensor([1, 5, 9], dtype=getattr(t, dt)), min=6, max=4))
    same(lambda t: t.tensor([1, 5, 9], dtype=getattr(t, dt)).clamp_(6, 4))
    same(lambda t: t.clamp(t.tensor([1, 5, 9], dtype=getattr(t, dt)), min=t.tensor(6, dtype=getattr(t, dt)),
                           max=t.tensor(4, dtype=getattr(t, dt))))


def test_clamp_min_above_max_gradient_and_clip_grad_value():
    grads = []
    for t in (minitorch, torch):
        x = t.tensor([1., 4., 5., 6., 9.], requires_grad=True)
        x.clamp(min=6, max=4).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
    clipped = []
    for t in (minitorch, torch):
        p = t.nn.Parameter(t.zeros(3))
        p.grad = t.tensor([-5., 0.5, 5.])
        t.nn.utils.clip_grad_value_([p], 1.0)
        clipped.append(p.grad.tolist())
    assert clipped[0] == clipped[1] == [-1.0, 0.5, 1.0]


# ---- indexing ----
@pytest.mark.parametrize("flag", [True, False])
def test_zero_dim_bool_index(flag):
    same(lambda t: t.arange(6.).view(2, 3)[t.tensor(flag)])
    same(lambda t: t.arange(6.).view(2, 3)[:, t.tensor(flag)])
    same(lambda t: t.arange(6.).view(2, 3)[t.tensor(flag), 1])

    def setit(t):
        x = t.arange(6.).view(2, 3)
        x[t.tensor(flag)] = -1.0
        return x
    same(setit)


@pytest.mark.parametrize("case", ["long_into_float", "double_into_float", "long_0d", "mask_many",
                                  "mask_one_element", "mask_0d", "same_dtype"])
def test_index_put_dtype_rules(case):
    def fn(t):
        y = t.zeros(3)
        idx = t.tensor([0, 1])
        mask = t.tensor([True, False, True])
        k, v = {"long_into_float": (idx, t.tensor([1, 2])),
                "double_into_float": (idx, t.tensor([1., 2.], dtype=t.float64)),
                "long_0d": (idx, t.tensor(1)),
                "mask_many": (mask, t.tensor([1, 2])),
                "mask_one_element": (mask, t.tensor([5], dtype=t.float64)),
                "mask_0d": (mask, t.tensor(2)),
                "same_dtype": (idx, t.tensor([1., 2.]))}[case]
        y[k] = v
        return y
    same(fn)


# ---- accepted where PyTorch raises, and exception types ----
REJECTED = {
    "flip_repeated_dim": lambda t: t.ones(2, 2).flip((1, 1)),
    "flip_repeated_negative_dim": lambda t: t.ones(2, 2).flip(0, -2),
    "squeeze_repeated_dim": lambda t: t.ones(1, 2).squeeze((0, 0)),
    "squeeze_repeated_negative_dim": lambda t: t.ones(1, 2).squeeze((0, -2)),
    "size_of_0d": lambda t: t.tensor(1.).size(0),
    "size_minus1_of_0d": lambda t: t.tensor(1.).size(-1),
    "stride_of_0d": lambda t: t.tensor(1.).stride(0),
    "flatten_out_of_range_0d": lambda t: t.tensor(1.).flatten(1, 0),
    "flatten_0d_ok": lambda t: t.tensor(1.).flatten(0, -1),
    "flatten_start_after_end": lambda t: t.ones(2, 3).flatten(1, 0),
    "topk_bool": lambda t: t.tensor([True, False]).topk(1),
    "norm_default_p_three_dims": lambda t: t.ones(2, 2, 2).norm(dim=(0, 1, 2)),
    "norm_fro_three_dims": lambda t: t.ones(2, 2, 2).norm(p="fro", dim=(0, 1, 2)),
    "norm_p1_three_dims": lambda t: t.ones(2, 2, 2).norm(p=1, dim=(0, 1, 2)),
    "norm_p2_two_dims": lambda t: t.ones(2, 2, 2).norm(p=2, dim=(0, 1)),
    "cat_empty_list": lambda t: t.cat([]),
    "stack_empty_list": lambda t: t.stack([]),
    "unbind_0d": lambda t: t.tensor(1.).unbind(),
    "type_bogus": lambda t: t.ones(2).type("bogus"),
    "type_by_name": lambda t: t.ones(2).type("torch.IntTensor"),
    "int_floordiv_zero": lambda t: t.tensor([1]) // 0,
    "int_mod_zero": lambda t: t.tensor([1]) % 0,
    "int_floordiv_zero_tensor": lambda t: t.tensor([1]) // t.tensor([0]),
    "int_remainder_zero_tensor": lambda t: t.remainder(t.tensor([1], dtype=t.int32), t.tensor([0], dtype=t.int32)),
    "numel_overflow_expand": lambda t: t.zeros(1, 1).expand(2 ** 40, 2 ** 40),
    "numel_overflow_expand3": lambda t: t.zeros(1, 1, 1).expand(2 ** 31, 2 ** 31, 2 ** 31),
    "numel_empty_huge_expand": lambda t: t.zeros(0, 1, 1).expand(0, 2 ** 40, 2 ** 40).shape,
    "prod_float32_overflow_times_zero": lambda t: t.tensor([3, 1e30, 1e30, 0]).prod(),
    "prod_float32_overflow": lambda t: t.tensor([3, 1e30, 1e30]).prod(),
    "prod_float32_dim": lambda t: t.tensor([[3, 1e30, 1e30, 0], [1, 2, 3, 4]]).prod(1),
    "any_no_dims": lambda t: t.tensor([[True, False]]).any(dim=()),
    "all_no_dims": lambda t: t.tensor([[True, False]]).all(dim=()),
    "any_no_dims_float": lambda t: t.tensor([[0.5, 0.]]).any(dim=()),
    "sum_no_dims_reduces_all": lambda t: t.ones(2, 2).sum(dim=()),
    "setitem_shape_mismatch": lambda t: _setitem(t.zeros(2, 3), 0, t.ones(2)),
    "setitem_leading_ones_dropped": lambda t: _setitem(t.zeros(2, 3), 0, t.ones(1, 3)),
    "setitem_leading_ones_broadcast": lambda t: _setitem(t.zeros(2, 3), slice(None), t.arange(3.).view(1, 1, 3)),
    "advanced_setitem_shape_mismatch": lambda t: _setitem(t.zeros(2, 3), [0, 1], t.ones(3, 3)),
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_pytorch_rules(name):
    same(REJECTED[name])


@pytest.mark.parametrize("seed", [0, 2 ** 64 - 1, -1, -2 ** 63, 2 ** 64, -2 ** 63 - 1, 1.5, True, "a"])
def test_manual_seed_range_and_result(seed):
    def fn(t):
        g = t.manual_seed(seed)
        return (type(g).__name__, g.initial_seed(), g is t.default_generator, t.initial_seed())
    same(fn)
    same(lambda t: t.Generator().manual_seed(seed).initial_seed())


def test_default_generator_is_the_global_stream():
    minitorch.manual_seed(5)
    a = minitorch.rand(3)
    minitorch.default_generator.manual_seed(5)
    b = minitorch.rand(3)
    assert a.tolist() == b.tolist()
    state = minitorch.default_generator.get_state()
    c = minitorch.rand(3)
    minitorch.default_generator.set_state(state)
    assert minitorch.rand(3).tolist() == c.tolist()


# ---- shapes and numbers that do not fit ----
@pytest.mark.parametrize("shape", [(2 ** 62, 0), (0, 2 ** 62, 2 ** 62), (2 ** 40, 2 ** 40), (2 ** 62,), (2 ** 61,),
                                   (2 ** 31, 2 ** 31, 2 ** 31), (2 ** 63 - 1,), (0, 2 ** 63 - 1, 2), (2 ** 60, 16)])
def test_huge_shapes(shape):
    same(lambda t: t.empty(*shape).shape)
    same(lambda t: t.zeros(shape, dtype=t.float64).shape)


@pytest.mark.parametrize("v", [2 ** 64, -2 ** 63 - 1])
def test_python_ints_beyond_int64_and_uint64(v):
    same(lambda t: t.full((2,), v, dtype=t.int64))
    same(lambda t: t.ones(2) + v)
    same(lambda t: t.ones(2).fill_(v))
    same(lambda t: t.ones(2).clamp(max=v))


def test_python_ints_in_the_uint64_range():
    # PyTorch reads [2**63, 2**64) as uint64: into int64 it raises, as here
    for fn in (lambda t: t.full((2,), 2 ** 63, dtype=t.int64), lambda t: t.ones(2, dtype=t.int64).fill_(2 ** 63),
               lambda t: t.ones(2, dtype=t.int64).clamp(max=2 ** 63)):
        same(fn)
    # where PyTorch wraps it silently (int64 + 2**63) or converts it to float, minitorch refuses it
    with pytest.raises(RuntimeError, match="without overflow"):
        minitorch.ones(2, dtype=minitorch.int64) + 2 ** 63
    with pytest.raises(RuntimeError, match="without overflow"):
        minitorch.ones(2) + 2 ** 63


@pytest.mark.parametrize("case", ["relu", "relu_", "normal_int", "uniform_int", "uniform_bool", "normal_bool",
                                  "randn_int", "rand_int"])
def test_kernel_missing_for_dtype(case):
    same({"relu": lambda t: t.relu(t.tensor([True])),
          "relu_": lambda t: t.tensor([True]).relu_(),
          "normal_int": lambda t: t.zeros(2, dtype=t.int64).normal_(),
          "uniform_int": lambda t: t.zeros(2, dtype=t.int64).uniform_(),
          "uniform_bool": lambda t: t.zeros(2, dtype=t.bool).uniform_(),
          "normal_bool": lambda t: t.zeros(2, dtype=t.bool).normal_(),
          "randn_int": lambda t: t.randn(2, dtype=t.int64),
          "rand_int": lambda t: t.rand(2, dtype=t.int64)}[case])


@pytest.mark.parametrize("lo,hi", [(0, float("nan")), (float("nan"), 1), (None, float("nan"))])
def test_clamp_nan_bound_gives_nan(lo, hi):
    same(lambda t: t.clamp(t.tensor([-2., 0.5, 3.], dtype=t.float64), lo, hi))
    grads = []
    for t in (minitorch, torch):
        x = t.tensor([-2., 0.5, 3.], requires_grad=True)
        x.clamp(lo, hi).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_index_broadcast_checked_before_value_dtype():
    same(lambda t: _setitem(t.zeros(2, 5, dtype=t.int32), (t.tensor([0, 1, 1, 0, 1, 0]), [3, 3, 4, -5]), t.tensor([True])))
    same(lambda t: _setitem(t.tensor(False), t.tensor(True), t.tensor(2.5, dtype=t.float64)))


def test_storage_size_overflow_sticks_past_a_zero_size_as_torch():
    mt = minitorch
    """torch multiplies the sizes left to right and an overflow sticks even when a later size is 0."""
    torch = pytest.importorskip("torch")
    for shape in ([2 ** 62, 4, 0], [2 ** 40, 2 ** 30, 0], [2 ** 61, 2], [2 ** 62, 0, 4], [2 ** 60, 0]):
        try:
            want = tuple(torch.empty(shape).shape)
        except RuntimeError as e:
            with pytest.raises(RuntimeError) as got:
                mt.empty(shape)
            assert str(got.value) == str(e)
        else:
            assert tuple(mt.empty(shape).shape) == want
