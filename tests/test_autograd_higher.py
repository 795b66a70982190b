"""Higher-order autograd: create_graph=True, gradgradcheck and minitorch.autograd.functional.

(a) gradgradcheck in float64 over a generated list of differentiable ops: every differentiable
    elementwise op of the op table (csrc/ops/elementwise_ops.h, with the domains of
    test_op_table.py), reductions, softmax, matmul family, shape ops, indexing, where, clamp with
    tensor bounds, tril/triu, clone/contiguous/to. Known failures are xfail(strict=True) with the
    reason; nodes whose backward is a fused kernel must raise NotImplementedError when a second
    backward reaches their gradient.
(b) against torch: a WGAN-GP gradient penalty, the Hessian of a small MLP, a MAML-style inner loop,
    and vjp / jvp / jacobian / hessian / hvp / vhp with tuple and single inputs, create_graph, strict.
(c) no leak over many create_graph=True steps.
"""
import gc
import math
import os

import numpy as np
import pytest

import minitorch as mt
import minitorch.autograd.functional as AF
from minitorch.autograd import GradcheckError, gradcheck, gradgradcheck

from test_op_table import ENTRIES, OPS, _call, _extras, _grad_inputs

F = mt.nn.functional
f64 = mt.float64


def _t(a, requires_grad=True):
    return mt.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _rng(seed):
    return np.random.default_rng(seed)


def _distinct(shape, seed, lo=-2.0, step=0.37):
    """Values with gaps far larger than the finite-difference step (no ties for max/min/sort-like
    ops), in a shuffled order."""
    n = int(np.prod(shape))
    return (lo + step * _rng(seed).permutation(n)).reshape(shape)


def _sq(out):
    """Squares the output(s): makes a linear op's second derivative run through its backward."""
    if isinstance(out, (tuple, list)):
        return tuple(o * o for o in out)
    return out * out


# ------------------------------------------------------------------------------------------ (a) elementwise
ELEMENTWISE_XFAIL = {
    # digamma's derivative is the internal _trigamma, whose own derivative (polygamma(2, x)) is
    # declared NOT_IMPL in elementwise_ops.h
    "digamma": "trigamma's derivative (polygamma(2, x)) is not implemented",
}
ELEMENTWISE = sorted(n for n, op in OPS.items() if op["differentiable"] and not n.startswith("_"))


def _elementwise_cases():
    for name in ELEMENTWISE:
        for k, extra in enumerate(_extras(name)):
            marks = ()
            if name in ELEMENTWISE_XFAIL:
                marks = pytest.mark.xfail(strict=True, reason=ELEMENTWISE_XFAIL[name])
            yield pytest.param(name, extra, id=f"{name}-{k}", marks=marks)


@pytest.mark.parametrize("name, extra", list(_elementwise_cases()))
def test_gradgradcheck_elementwise(name, extra):
    vals = _grad_inputs(name, OPS[name]["arity"])
    xs = tuple(_t(v) for v in vals)
    assert gradgradcheck(lambda *t: _call(mt, name, t, extra), xs)


@pytest.mark.parametrize("name", sorted(n for n in ELEMENTWISE if OPS[n]["arity"] == 2))
def test_gradgradcheck_elementwise_broadcast(name):
    """The second derivative sums back over broadcast dims too (a (3,) row against (2, 3))."""
    if name in ELEMENTWISE_XFAIL:
        pytest.xfail(ELEMENTWISE_XFAIL[name])
    a, b = _grad_inputs(name, 2)
    assert gradgradcheck(getattr(mt, name), (_t(a), _t(b[0])))
    assert gradgradcheck(getattr(mt, name), (_t(a[:, :1]), _t(b[:1])))


def test_every_differentiable_elementwise_op_is_covered():
    assert set(ELEMENTWISE) <= set(ENTRIES)
    assert len(ELEMENTWISE) > 50


# ------------------------------------------------------------------------------------------ (a) other ops
def _idx(a):
    return mt.tensor(np.asarray(a, dtype=np.int64))


def _mask(a):
    return mt.tensor(np.asarray(a, dtype=bool))


def _u(shape, seed, lo=-1.5, hi=1.5):
    return _rng(seed).uniform(lo, hi, shape)


# id: (function, input arrays (all float64, requiring grad)[, gradgradcheck kwargs])
OTHER = {
    # reductions
    "sum": (lambda x: x.sum(), [_u((2, 3), 1)]),
    "sum_dim": (lambda x: x.sum(1), [_u((2, 3), 2)]),
    "sum_dims_keepdim": (lambda x: x.sum((0, 2), keepdim=True), [_u((2, 3, 2), 3)]),
    "mean": (lambda x: x.mean(), [_u((2, 3), 4)]),
    "mean_dim_keepdim": (lambda x: x.mean(0, keepdim=True), [_u((2, 3), 5)]),
    "prod": (lambda x: x.prod(), [_u((2, 3), 6, 0.5, 1.5)]),
    "prod_dim": (lambda x: x.prod(1), [_u((2, 3), 7, 0.5, 1.5)]),
    "amax": (lambda x: x.amax(), [_distinct((2, 3), 8)]),
    "amax_dim": (lambda x: x.amax(1), [_distinct((2, 3), 9)]),
    "amin_dim": (lambda x: x.amin(0), [_distinct((2, 3), 10)]),
    "max": (lambda x: x.max(), [_distinct((2, 3), 11)]),
    "min": (lambda x: x.min(), [_distinct((2, 3), 12)]),
    "max_dim": (lambda x: x.max(1).values, [_distinct((2, 3), 13)]),
    "min_dim_keepdim": (lambda x: x.min(0, keepdim=True)[0], [_distinct((2, 3), 14)]),
    "var": (lambda x: x.var(), [_u((2, 3), 15)]),
    "var_dim": (lambda x: x.var(1), [_u((2, 3), 16)]),
    "var_dim_correction0": (lambda x: x.var(0, correction=0), [_u((3, 2), 17)]),
    "std": (lambda x: x.std(), [_u((2, 3), 18)]),
    "std_dim": (lambda x: x.std(1, keepdim=True), [_u((2, 3), 19)]),
    "logsumexp": (lambda x: x.logsumexp(1), [_u((2, 3), 20)]),
    "logsumexp_dims": (lambda x: mt.logsumexp(x, (0, 1)), [_u((2, 3), 21)]),
    "norm_p1": (lambda x: x.norm(1), [_distinct((2, 3), 22, 0.3, 0.25) * np.array([1, -1, 1])]),
    "norm_p2": (lambda x: x.norm(), [_u((2, 3), 23)]),
    "norm_p2_dim": (lambda x: x.norm(2, dim=1), [_u((2, 3), 24)]),
    "norm_p3": (lambda x: x.norm(3), [_u((2, 3), 25)]),
    "norm_p3_dim": (lambda x: x.norm(3, dim=0), [_u((2, 3), 26)]),
    "norm_pinf": (lambda x: x.norm(math.inf), [_distinct((2, 3), 27)]),
    "norm_pinf_dim": (lambda x: x.norm(math.inf, dim=1), [_distinct((2, 3), 28)]),
    # softmax
    "softmax_dim1": (lambda x: mt.softmax(x, 1), [_u((2, 3), 30)]),
    "softmax_dim0": (lambda x: x.softmax(0), [_u((2, 3), 31)]),
    "log_softmax_dim1": (lambda x: mt.log_softmax(x, 1), [_u((2, 3), 32)]),
    "log_softmax_dim0": (lambda x: F.log_softmax(x, dim=0), [_u((3, 2), 33)]),
    # matmul family
    "matmul_mm": (lambda a, b: a @ b, [_u((2, 3), 40), _u((3, 2), 41)]),
    "matmul_vec_mat": (lambda a, b: mt.matmul(a, b), [_u((3,), 42), _u((3, 2), 43)]),
    "matmul_mat_vec": (lambda a, b: mt.matmul(a, b), [_u((2, 3), 44), _u((3,), 45)]),
    "matmul_batched_broadcast": (lambda a, b: a @ b, [_u((2, 2, 3), 46), _u((3, 2), 47)]),
    "mm": (mt.mm, [_u((2, 3), 48), _u((3, 2), 49)]),
    "bmm": (mt.bmm, [_u((2, 2, 3), 50), _u((2, 3, 2), 51)]),
    "dot": (mt.dot, [_u((3,), 52), _u((3,), 53)]),
    "addmm": (lambda c, a, b: mt.addmm(c, a, b, beta=0.5, alpha=2.0), [_u((2, 2), 54), _u((2, 3), 55),
                                                                       _u((3, 2), 56)]),
    "addmm_broadcast_bias": (lambda c, a, b: mt.addmm(c, a, b), [_u((2,), 57), _u((2, 3), 58), _u((3, 2), 59)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), [_u((2, 3), 60), _u((4, 3), 61), _u((4,), 62)]),
    "linear_no_bias": (lambda x, w: F.linear(x, w), [_u((2, 3), 63), _u((4, 3), 64)]),
    "linear_3d": (lambda x, w, b: F.linear(x, w, b), [_u((2, 2, 3), 65), _u((2, 3), 66), _u((2,), 67)]),
    "matmul_tanh": (lambda a, b: (a @ b).tanh(), [_u((2, 3), 68), _u((3, 2), 69)]),
    # clamp with tensor bounds, where, tril / triu, clone / contiguous / to
    "clamp_tensor_bounds": (lambda x, lo, hi: mt.clamp(x, lo, hi) ** 2,
                            [np.array([[-1.5, 0.2, 1.4], [0.3, -0.1, 2.0]]), np.array([-0.5, -0.6, -0.7]),
                             np.array([[1.0], [1.2]])]),
    "clamp_tensor_min": (lambda x, lo: mt.clamp(x, min=lo) ** 2,
                         [np.array([[-1.5, 0.2, 1.4], [0.3, -0.1, 2.0]]), np.array([-0.5, 0.6, -0.7])]),
    "clamp_tensor_max": (lambda x, hi: x.clamp(max=hi) ** 2,
                         [np.array([[-1.5, 0.2, 1.4], [0.3, -0.1, 2.0]]), np.array([[1.0], [0.1]])]),
    "where": (lambda a, b: mt.where(_mask([[True, False, True], [False, False, True]]), a * b, b.exp()),
              [_u((2, 3), 70), _u((2, 3), 71)]),
    "where_broadcast": (lambda a, b: mt.where(_mask([True, False, True]), a, b) ** 2,
                        [_u((2, 3), 72), _u((1, 3), 73)]),
    "tril": (lambda x: x.tril(), [_u((3, 3), 74)]),
    "triu_offset": (lambda x: mt.triu(x, 1), [_u((3, 4), 75)]),
    "clone": (lambda x: x.clone(), [_u((2, 3), 76)]),
    "contiguous": (lambda x: x.t().contiguous(), [_u((2, 3), 77)]),
    "to_float32": (lambda x: x.to(mt.float32).exp().to(f64), [_u((2, 3), 78)],
                   {"eps": 1e-3, "atol": 1e-2, "rtol": 1e-2}),
}

# linear ops: checked plain (the second derivative is the op's backward differentiated w.r.t. the
# incoming gradient) and squared (the second derivative also runs back through the op's backward)
SHAPE = {
    "view": (lambda x: x.view(3, 2), [_u((2, 3), 100)]),
    "view_as_flat": (lambda x: x.view(-1), [_u((2, 3), 101)]),
    "reshape": (lambda x: x.reshape(3, 1, 2), [_u((2, 3), 102)]),
    "reshape_noncontig": (lambda x: x.t().reshape(-1), [_u((2, 3), 103)]),
    "permute": (lambda x: x.permute(2, 0, 1), [_u((2, 3, 2), 104)]),
    "transpose": (lambda x: x.transpose(0, 2), [_u((2, 3, 2), 105)]),
    "t": (lambda x: x.t(), [_u((2, 3), 106)]),
    "expand": (lambda x: x.expand(2, 3, 4), [_u((3, 1), 107)]),
    "expand_as": (lambda x: x.expand_as(mt.zeros(2, 3)), [_u((3,), 108)]),
    "slice_steps": (lambda x: x[::2, 1::2], [_u((3, 4), 109)]),
    "slice_range": (lambda x: x[:, 1:3], [_u((3, 4), 110)]),
    "slice_ellipsis_step": (lambda x: x[..., ::3], [_u((2, 2, 5), 111)]),
    "select": (lambda x: x[1], [_u((3, 4), 112)]),
    "select_dim1": (lambda x: x.select(1, 2), [_u((3, 4), 113)]),
    "select_negative": (lambda x: x[:, -1], [_u((3, 4), 114)]),
    "narrow": (lambda x: x.narrow(1, 1, 2), [_u((3, 4), 115)]),
    "cat": (lambda a, b: mt.cat([a, b], 0), [_u((2, 3), 116), _u((1, 3), 117)]),
    "cat_dim1": (lambda a, b: mt.cat((a, b), dim=1), [_u((2, 3), 118), _u((2, 2), 119)]),
    "stack": (lambda a, b: mt.stack([a, b], 1), [_u((2, 3), 120), _u((2, 3), 121)]),
    "split": (lambda x: x.split(2, dim=1), [_u((2, 5), 122)]),
    "split_sizes": (lambda x: x.split([1, 2], dim=0), [_u((3, 2), 123)]),
    "chunk": (lambda x: x.chunk(2, 1), [_u((2, 4), 124)]),
    "unbind": (lambda x: x.unbind(1), [_u((2, 3), 125)]),
    "repeat": (lambda x: x.repeat(2, 1, 2), [_u((2, 3), 126)]),
    "squeeze": (lambda x: x.squeeze(), [_u((3, 1, 2), 127)]),
    "squeeze_dim": (lambda x: x.squeeze(1), [_u((3, 1, 2), 128)]),
    "unsqueeze": (lambda x: x.unsqueeze(1), [_u((2, 3), 129)]),
    "flatten": (lambda x: x.flatten(), [_u((2, 3, 2), 130)]),
    "flatten_start": (lambda x: x.flatten(1), [_u((2, 3, 2), 131)]),
    # indexing
    "index_select": (lambda x: x.index_select(0, _idx([2, 0, 2])), [_u((3, 2), 140)]),
    "index_select_dim1": (lambda x: mt.index_select(x, 1, _idx([1, 1])), [_u((3, 2), 141)]),
    "gather": (lambda x: x.gather(1, _idx([[0, 0], [2, 1]])), [_u((2, 3), 142)]),
    "scatter": (lambda x, s: x.scatter(1, _idx([[0, 2], [1, 0]]), s), [_u((2, 3), 143), _u((2, 2), 144)]),
    "scatter_value": (lambda x: x.scatter(1, _idx([[0], [2]]), 2.0), [_u((2, 3), 145)]),
    "scatter_add": (lambda x, s: x.scatter_add(1, _idx([[0, 0], [2, 1]]), s), [_u((2, 3), 146), _u((2, 2), 147)]),
    "masked_fill": (lambda x: x.masked_fill(_mask([[True, False, False], [False, True, True]]), 0.5),
                    [_u((2, 3), 148)]),
    "index_tensor": (lambda x: x[_idx([1, 0, 1])], [_u((2, 3), 149)]),
    "index_tensor_dim1": (lambda x: x[:, _idx([2, 0, 2])], [_u((2, 3), 150)]),
    "index_two_tensors": (lambda x: x[_idx([0, 1, 1]), _idx([2, 2, 0])], [_u((2, 3), 151)]),
    "index_bool_mask": (lambda x: x[_mask([[True, False, True], [False, True, True]])], [_u((2, 3), 152)]),
}

# in-place ops on a non-leaf (the op is recorded on the base's history)
_A, _B = _u((2, 3), 160, 0.5, 1.5), _u((2, 3), 161, 0.5, 1.5)
INPLACE = {
    "mul_": (lambda x, y: (x * 1).mul_(y), [_A, _B]),
    "mul_self": (lambda x, y: (x * 1).mul_(x), [_A, _B]),
    "imul_operator": (lambda x, y: _imul(x * 1, y), [_A, _B]),
    "mul_scalar_": (lambda x, y: (x * y).mul_(2.0), [_A, _B]),
    "div_": (lambda x, y: (x * 1).div_(y), [_A, _B]),
    "add_": (lambda x, y: x.sin().add_(y * y), [_A, _B]),
    "sub_alpha_": (lambda x, y: x.sin().sub_(y, alpha=2), [_A, _B]),
    "pow_tensor_": (lambda x, y: (x * 1).pow_(y), [_A, _B]),
    "pow_scalar_": (lambda x, y: (x * y).pow_(3), [_A, _B]),
    "atan2_": (lambda x, y: (x * 1).atan2_(y), [_A, _B]),
    "hypot_": (lambda x, y: (x * 1).hypot_(y), [_A, _B]),
    "xlogy_": (lambda x, y: (x * 1).xlogy_(y), [_A, _B]),
    "exp_": (lambda x, y: (x * y).exp_(), [_A, _B]),
    "sigmoid_": (lambda x, y: (x * y).sigmoid_(), [_A, _B]),
    "tanh_": (lambda x, y: (x * y).tanh_(), [_A, _B]),
    "sqrt_": (lambda x, y: (x * y).sqrt_(), [_A, _B]),
    "reciprocal_": (lambda x, y: (x * y).reciprocal_(), [_A, _B]),
    "log_": (lambda x, y: (x * y).log_(), [_A, _B]),
    "sin_": (lambda x, y: (x * y).sin_(), [_A, _B]),
    "square_": (lambda x, y: (x * y).square_(), [_A, _B]),
    "clamp_": (lambda x, y: (x * y).clamp_(0.6, 1.5), [_A, _B]),
    "relu_": (lambda x, y: (x * y - 1).relu_() ** 2, [_A, _B]),
}


def _imul(a, b):
    a *= b
    return a


# Python-level composites (nn.functional) built from the ops above
_T = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
COMPOSITE = {
    "gelu": (F.gelu, [_u((2, 3), 170)]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [_u((2, 3), 171)]),
    "silu": (F.silu, [_u((2, 3), 172)]),
    "softplus": (F.softplus, [_u((2, 3), 173)]),
    "elu": (F.elu, [_u((2, 3), 174)]),
    "selu": (F.selu, [_u((2, 3), 175)]),
    "mish": (F.mish, [_u((2, 3), 176)]),
    "logsigmoid": (F.logsigmoid, [_u((2, 3), 177)]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1) ** 2, [np.array([[0.5, -0.7, 1.2], [-1.1, 0.3, -0.2]])]),
    "hardtanh": (lambda x: F.hardtanh(x) ** 2, [np.array([[0.5, -0.7, 1.2], [-1.6, 0.3, -0.2]])]),
    "softmin": (lambda x: F.softmin(x, 1), [_u((2, 3), 178)]),
    "glu": (lambda x: F.glu(x, 1), [_u((2, 4), 179)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3,), w, b), [_u((2, 3), 180), _u((3,), 181), _u((3,), 182)]),
    "group_norm": (lambda x: F.group_norm(x, 2), [_u((2, 4, 2), 183)]),
    "normalize": (lambda x: F.normalize(x, dim=1), [_u((2, 3), 184)]),
    "cosine_similarity": (F.cosine_similarity, [_u((2, 3), 185), _u((2, 3), 186)]),
    "einsum": (lambda a, b: mt.einsum("ij,kj->ik", a, b) ** 2, [_u((2, 3), 187), _u((2, 3), 188)]),
    "cdist": (mt.cdist, [_u((2, 3), 189), _u((3, 3), 190)]),
    "outer": (lambda a, b: mt.outer(a, b) ** 2, [_u((3,), 191), _u((2,), 192)]),
    "diagonal": (lambda x: x.diagonal() ** 2, [_u((3, 3), 193)]),
    "trace": (lambda x: mt.trace(x) ** 2, [_u((3, 3), 194)]),
    "flip": (lambda x: x.flip(1) ** 2, [_u((2, 3), 195)]),
    "roll": (lambda x: x.roll(1, 1) ** 2, [_u((2, 3), 196)]),
    "sort_values": (lambda x: x.sort(1).values ** 2, [_distinct((2, 3), 197)]),
    "topk_values": (lambda x: x.topk(2, 1).values ** 2, [_distinct((2, 3), 198)]),
    "pow_scalar": (lambda x: x ** 2.5, [_u((2, 3), 199, 0.5, 2.0)]),
    "rpow_scalar": (lambda x: 2.0 ** x, [_u((2, 3), 210)]),
    "pad_constant": (lambda x: F.pad(x, (1, 2)) ** 2, [_u((2, 3), 211)]),
    "pad_reflect": (lambda x: F.pad(x.unsqueeze(0), (1, 1), mode="reflect") ** 2, [_u((2, 3), 212)]),
    "interpolate_linear": (lambda x: F.interpolate(x, scale_factor=2, mode="linear") ** 2, [_u((1, 2, 3), 213)]),
    "embedding": (lambda w: F.embedding(_idx([0, 2, 0]), w) ** 2, [_u((3, 2), 214)]),
    "l1_loss": (lambda x: F.l1_loss(x, mt.zeros(2, 3, dtype=f64)) ** 2, [_u((2, 3), 215, 0.2, 1.0)]),
    "smooth_l1_loss": (lambda x: F.smooth_l1_loss(x, mt.zeros(2, 3, dtype=f64)), [_u((2, 3), 216)]),
    "huber_loss": (lambda x: F.huber_loss(x, mt.zeros(2, 3, dtype=f64)), [_u((2, 3), 217)]),
    "kl_div": (lambda x: F.kl_div(x, mt.tensor(np.full((2, 3), 1 / 3)), reduction="batchmean"), [_u((2, 3), 218)]),
    "mse_by_hand": (lambda y: ((y - mt.tensor(_T)) ** 2).mean(), [_u((2, 3), 219)]),
    "scaled_dot_product_attention": (F.scaled_dot_product_attention,
                                     [_u((1, 2, 3), 220), _u((1, 2, 3), 221), _u((1, 2, 3), 222)]),
}

OTHER_XFAIL = {}
SHAPE_XFAIL = {}


def _other_params():
    cases = {**OTHER, **{f"inplace_{k}": v for k, v in INPLACE.items()},
             **{f"composite_{k}": v for k, v in COMPOSITE.items()}}
    for name, case in cases.items():
        marks = [pytest.mark.xfail(strict=True, reason=OTHER_XFAIL[name])] if name in OTHER_XFAIL else []
        yield pytest.param(case, id=name, marks=marks)


def _shape_params():
    for name, case in SHAPE.items():
        for variant in ("plain", "squared"):
            key = f"{name}-{variant}"
            reason = SHAPE_XFAIL.get(key) or SHAPE_XFAIL.get(name)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(case, variant, id=key, marks=marks)


@pytest.mark.parametrize("case", list(_other_params()))
def test_gradgradcheck_ops(case):
    fn, arrays = case[0], case[1]
    kw = case[2] if len(case) > 2 else {}
    assert gradgradcheck(fn, tuple(_t(a) for a in arrays), **kw)


@pytest.mark.parametrize("case, variant", list(_shape_params()))
def test_gradgradcheck_shape_and_index_ops(case, variant):
    fn, arrays = case
    f = fn if variant == "plain" else (lambda *xs: _sq(fn(*xs)))
    assert gradgradcheck(f, tuple(_t(a) for a in arrays))


def test_gradgradcheck_with_noncontiguous_grad_outputs_and_given_grad_outputs():
    x = _t(_u((2, 3), 200))
    assert gradgradcheck(lambda a: a.exp() * a.sin(), (x,), gen_non_contig_grad_outputs=True)
    g = _t(_u((2, 3), 201))
    assert gradgradcheck(lambda a: a.exp() * a.sin(), (x,), (g,))
    # a grad_output that does not require grad is a constant of the check
    assert gradgradcheck(lambda a: a.exp() * a.sin(), (x,), (_t(_u((2, 3), 202), requires_grad=False),))
    # non-differentiable extra arguments pass through
    assert gradgradcheck(lambda a, k: (a ** k).sum(), (x, 3))


def test_gradgradcheck_detects_a_wrong_second_derivative():
    class Cube(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2  # right first derivative, but it has no history in x

    x = _t(_u((3,), 203, 0.5, 1.5))
    assert gradcheck(Cube.apply, (x,))
    assert not gradgradcheck(Cube.apply, (x,), raise_exception=False)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradgradcheck(Cube.apply, (x,))


def test_gradcheck_module_and_function_names_match_torch():
    torch = pytest.importorskip("torch")
    from minitorch.autograd.gradcheck import gradcheck as g1, gradgradcheck as g2
    from torch.autograd.gradcheck import gradcheck as tg1, gradgradcheck as tg2
    assert g1 is mt.autograd.gradcheck and g2 is mt.autograd.gradgradcheck
    assert callable(tg1) and callable(tg2) and tg1 is torch.autograd.gradcheck
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (_t([1.0], requires_grad=False),))
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        torch.autograd.gradcheck(lambda a: a * 2, (torch.tensor([1.0], dtype=torch.float64),))


# ------------------------------------------------------------------------------------------ (a) fused nodes
def _conv(x):
    w = mt.tensor(_u((2, 1, 2, 2), 300))
    return F.conv2d(x, w)


FUSED = {
    "cumprod": (lambda x: x.cumprod(1), (2, 3), "CumprodBackward0"),
    "lstm": (lambda x: _LSTM(x.unsqueeze(1))[0], (4, 3), "MkldnnRnnLayerBackward0"),
    "gru_cell": (lambda x: _GRU(x), (4, 3), "GruCellBackward0"),
    "copy_slices": (lambda x: _setitem(x), (2, 3), "CopySlices"),
}
mt.manual_seed(0)
_LSTM = mt.nn.LSTM(3, 2).double()
_GRU = mt.nn.GRUCell(3, 2).double()


def _setitem(x):
    y = x * 1
    y[1] = x[0] * 2  # in place through a view: the base's node becomes CopySlices
    return y


@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_nodes_raise_on_double_backward(name):
    fn, shape, node = FUSED[name]
    x = _t(_u(shape, 301))
    out = fn(x)
    (g,) = mt.autograd.grad((out * out).sum(), x, create_graph=True)
    assert g.requires_grad
    with pytest.raises(NotImplementedError, match=f"derivative of {node}'s gradient \\(double backward"):
        g.sum().backward()
    # the first derivative itself is still right
    (g1,) = mt.autograd.grad((fn(x) ** 2).sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), g1.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x", [[[0.0, 1.2, 0.8], [1.1, 0.7, 1.3]], [[0.9, 1.2, 0.0], [1.1, 0.0, 1.3]]])
@pytest.mark.parametrize("dim", [None, 1])
def test_prod_with_zeros_refuses_double_backward(x, dim):
    # the zero case's gradient has no history of the other entries: an error, never a wrong Hessian
    t = _t(np.array(x))
    y = t.prod() if dim is None else t.prod(dim)
    (g,) = mt.autograd.grad(y.sum(), t, create_graph=True)
    with pytest.raises(NotImplementedError, match="ProdBackward"):
        mt.autograd.grad(g.sum(), t)
    (g1,) = mt.autograd.grad((t.prod() if dim is None else t.prod(dim)).sum(), t)
    np.testing.assert_allclose(g.detach().numpy(), g1.numpy(), rtol=1e-12)


def _conv_case(fn, x_shape, w_shape, seed, **kw):
    w = _t(_u(w_shape, seed))
    return (lambda x, w: fn(x, w, **kw)), [_u(x_shape, seed + 1), w.detach().numpy()]


DOUBLE_BACKWARD = {
    "conv1d_stride_dilation": _conv_case(F.conv1d, (2, 2, 7), (3, 2, 3), 310, stride=2, padding=1, dilation=2),
    "conv2d": _conv_case(F.conv2d, (1, 2, 5, 5), (3, 2, 3, 3), 312, padding=1),
    "conv2d_groups_stride": _conv_case(F.conv2d, (2, 4, 6, 6), (4, 2, 3, 3), 314, stride=2, groups=2),
    "conv3d": _conv_case(F.conv3d, (1, 1, 4, 4, 4), (2, 1, 2, 2, 2), 316),
    "conv_transpose2d": _conv_case(F.conv_transpose2d, (1, 2, 3, 3), (2, 3, 3, 3), 318, stride=2,
                                   output_padding=1),
    "conv_transpose1d_groups": _conv_case(F.conv_transpose1d, (2, 4, 4), (4, 1, 3), 320, groups=2, dilation=2),
    "cross_entropy": (lambda x: F.cross_entropy(x, _idx([0, 2, 1])), [_u((3, 4), 322)]),
    "cross_entropy_weight_smoothing_ignore": (
        lambda x: F.cross_entropy(x, _idx([0, 2, 1]), weight=mt.tensor([0.5, 1.0, 2.0, 1.5], dtype=f64),
                                  label_smoothing=0.2, ignore_index=2), [_u((3, 4), 323)]),
    "cross_entropy_spatial_none": (lambda x: F.cross_entropy(x, _idx([[0, 2], [1, 1]]), reduction="none"),
                                   [_u((2, 3, 2), 324)]),
    "nll_loss_sum": (lambda x: F.nll_loss(x.log_softmax(1), _idx([0, 2, 1]), reduction="sum"), [_u((3, 4), 325)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), [_u((1, 2, 4, 4), 326)]),
    "max_pool2d_padded_ceil": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [_u((2, 1, 5, 5), 327)]),
    "avg_pool2d_no_pad_count": (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [_u((1, 2, 5, 5), 328)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [_u((1, 2, 5, 4), 329)]),
    "adaptive_max_pool1d": (lambda x: F.adaptive_max_pool1d(x, 3), [_u((2, 2, 7), 330)]),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 2), [_u((1, 1, 4, 4, 4), 331)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         [_u((4, 3), 332), _u((3,), 333) + 1.5, _u((3,), 334)]),
    "batch_norm_train_spatial": (lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
                                 [_u((3, 2, 4), 335)]),
    "batch_norm_eval": (lambda x, w: F.batch_norm(x, mt.tensor([0.1, -0.2], dtype=f64), mt.tensor([0.5, 2.0], dtype=f64),
                                                  w, None, training=False), [_u((3, 2, 2, 2), 336), _u((2,), 337)]),
    "mse_loss": (lambda x, y: F.mse_loss(x, y), [_u((2, 3), 338), _u((2, 3), 339)]),
    "mse_loss_none": (lambda x: F.mse_loss(x, mt.zeros(2, 3, dtype=f64), reduction="none"), [_u((2, 3), 340)]),
    "binary_cross_entropy": (lambda x: F.binary_cross_entropy(x.sigmoid(), mt.tensor(_T), weight=mt.tensor(_T) + 0.5),
                             [_u((2, 3), 341)]),
    "binary_cross_entropy_with_logits": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=mt.tensor([0.5, 1.0, 2.0], dtype=f64)),
        [_u((2, 3), 342), _u((2, 3), 343) * 0.4 + 0.5]),
    "cumsum": (lambda x: x.cumsum(1), [_u((2, 3), 344)]),
}


@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_gradgradcheck_fused_ops_with_double_backward(name):
    fn, arrays = DOUBLE_BACKWARD[name]
    assert gradgradcheck(lambda *xs: _sq(fn(*xs)), tuple(_t(a) for a in arrays))


def test_fused_node_message_names_the_node():
    x = _t(_u((2, 3), 302))
    (g,) = mt.autograd.grad(x.cumprod(1).pow(2).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="CumprodBackward0"):
        mt.autograd.grad(g.sum(), x)


# ------------------------------------------------------------------------------------------ (b) vs torch
def _mlp_params(seed, sizes):
    r = _rng(seed)
    return [(r.normal(size=(o, i)) / np.sqrt(i), r.normal(size=(o,)) * 0.1) for i, o in zip(sizes, sizes[1:])]


def _mlp(lib, params, x, act="tanh"):
    for k, (w, b) in enumerate(params):
        x = x @ w.t() + b
        if k < len(params) - 1:
            x = getattr(lib, act)(x) if act != "softplus" else lib.nn.functional.softplus(x)
    return x


def _leaves(lib, params):
    return [(lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)) for w, b in params]


def _close(a, b, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "softplus"])
def test_wgan_gp_gradient_penalty_matches_torch(act):
    torch = pytest.importorskip("torch")
    r = _rng(400)
    params = _mlp_params(401, [3, 5, 4, 1])
    real, fake, alpha = r.normal(size=(6, 3)), r.normal(size=(6, 3)), r.uniform(size=(6, 1))
    grads = {}
    for lib in (torch, mt):
        p = _leaves(lib, params)
        a = lib.tensor(alpha)
        inter = (a * lib.tensor(real) + (1 - a) * lib.tensor(fake)).requires_grad_(True)
        d = _mlp(lib, p, inter, act)
        (g,) = lib.autograd.grad(d, inter, grad_outputs=lib.ones_like(d), create_graph=True, retain_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean() * 10.0
        loss = _mlp(lib, p, lib.tensor(fake), act).mean() - _mlp(lib, p, lib.tensor(real), act).mean() + penalty
        loss.backward()
        grads[lib] = [t.grad for wb in p for t in wb] + [penalty]
    for a, b in zip(grads[mt], grads[torch]):
        _close(a, b)


def test_mlp_hessian_matches_torch():
    torch = pytest.importorskip("torch")
    params = _mlp_params(410, [3, 4, 1])
    x = _rng(411).normal(size=(5, 3))
    res = {}
    for lib in (torch, mt):
        w1, b1 = (lib.tensor(params[0][0]), lib.tensor(params[0][1]))
        w2, b2 = (lib.tensor(params[1][0]), lib.tensor(params[1][1]))
        X = lib.tensor(x)

        def loss(w1, b1, w2, b2, X=X):
            return ((X @ w1.t() + b1).tanh() @ w2.t() + b2).pow(2).mean()
        res[lib] = (lib.autograd.functional.hessian(loss, (w1, b1, w2, b2)),
                    lib.autograd.functional.hessian(lambda v: loss(v, b1, w2, b2), w1))
    full_mt, single_mt = res[mt]
    full_t, single_t = res[torch]
    assert isinstance(full_mt, tuple) and len(full_mt) == 4 and all(len(row) == 4 for row in full_mt)
    for i in range(4):
        for j in range(4):
            assert tuple(full_mt[i][j].shape) == tuple(full_t[i][j].shape)
            _close(full_mt[i][j], full_t[i][j])
            assert not full_mt[i][j].requires_grad
    assert tuple(single_mt.shape) == (4, 3, 4, 3)
    _close(single_mt, single_t)


def test_maml_inner_loop_matches_torch():
    torch = pytest.importorskip("torch")
    r = _rng(420)
    params = _mlp_params(421, [2, 6, 1])
    xs, ts = r.normal(size=(8, 2)), r.normal(size=(8, 1))
    xq, tq = r.normal(size=(8, 2)), r.normal(size=(8, 1))
    out = {}
    for lib in (torch, mt):
        p = _leaves(lib, params)
        flat = [t for wb in p for t in wb]

        def mse(y, t):
            return ((y - t) ** 2).mean()
        fast = flat
        for _ in range(2):  # two inner steps: the second differentiates through the first
            pairs = [(fast[0], fast[1]), (fast[2], fast[3])]
            inner = mse(_mlp(lib, pairs, lib.tensor(xs)), lib.tensor(ts))
            gs = lib.autograd.grad(inner, fast, create_graph=True)
            fast = [w - 0.1 * g for w, g in zip(fast, gs)]
        outer = mse(_mlp(lib, [(fast[0], fast[1]), (fast[2], fast[3])], lib.tensor(xq)), lib.tensor(tq))
        outer.backward()
        out[lib] = [outer] + [t.grad for t in flat]
    for a, b in zip(out[mt], out[torch]):
        _close(a, b)


# ---- autograd.functional against torch.autograd.functional


def _cmp_nested(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), (type(got), len(want))
        for g, w in zip(got, want):
            _cmp_nested(g, w)
        return
    assert isinstance(got, mt.Tensor)
    assert tuple(got.shape) == tuple(want.shape)
    assert got.requires_grad == want.requires_grad
    _close(got, want)


def _fns(lib):
    return {
        "single_single": (lambda x: x.exp() * x.sum(), 1),
        "single_tuple": (lambda x: (x.sin(), (x * x).sum()), 1),
        "tuple_single": (lambda x, y: (x.exp() * y).sum(0), 2),
        "tuple_tuple": (lambda x, y: ((x.exp() * y).sum(0), (y * y).sum() + x.sin().sum()), 2),
    }


def _args(lib, n):
    r = _rng(430)
    a, b = r.normal(size=(3,)), r.normal(size=(2, 3))
    return lib.tensor(a) if n == 1 else (lib.tensor(a), lib.tensor(b))


def _outs_like(lib, fn, args):
    """A v shaped like the outputs (a tuple when fn returns one)."""
    out = fn(*args) if isinstance(args, tuple) else fn(args)
    r = _rng(431)
    if isinstance(out, tuple):
        return tuple(lib.tensor(r.normal(size=tuple(o.shape))) for o in out)
    return lib.tensor(r.normal(size=tuple(out.shape)))


def _ins_like(lib, args):
    r = _rng(432)
    if isinstance(args, tuple):
        return tuple(lib.tensor(r.normal(size=tuple(a.shape))) for a in args)
    return lib.tensor(r.normal(size=tuple(args.shape)))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("kind", ["single_single", "single_tuple", "tuple_single", "tuple_tuple"])
def test_jacobian_matches_torch(kind, vectorize, create_graph):
    torch = pytest.importorskip("torch")
    res = {}
    for lib in (torch, mt):
        fn, n = _fns(lib)[kind]
        res[lib] = lib.autograd.functional.jacobian(fn, _args(lib, n), create_graph=create_graph,
                                                    vectorize=vectorize)
    _cmp_nested(res[mt], res[torch])


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("kind", ["single_single", "single_tuple", "tuple_single", "tuple_tuple"])
def test_vjp_and_jvp_match_torch(kind, create_graph):
    torch = pytest.importorskip("torch")
    res = {}
    for lib in (torch, mt):
        fn, n = _fns(lib)[kind]
        args = _args(lib, n)
        res[lib] = (lib.autograd.functional.vjp(fn, args, _outs_like(lib, fn, args), create_graph=create_graph),
                    lib.autograd.functional.jvp(fn, args, _ins_like(lib, args), create_graph=create_graph))
    _cmp_nested(res[mt], res[torch])


def _scalar(x, y=None):
    if y is None:
        return (x.exp() * x).sum() + (x ** 3).prod()
    return (x.exp() * y).sum() * x.sin().sum() + (y ** 3).sum()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("n", [1, 2])
def test_hessian_hvp_vhp_match_torch(n, create_graph):
    torch = pytest.importorskip("torch")
    res = {}
    for lib in (torch, mt):
        F_ = lib.autograd.functional
        args = _args(lib, n)
        v = _ins_like(lib, args)
        res[lib] = (F_.hessian(_scalar, args, create_graph=create_graph),
                    F_.hessian(_scalar, args, create_graph=create_graph, vectorize=True),
                    F_.hvp(_scalar, args, v, create_graph=create_graph),
                    F_.vhp(_scalar, args, v, create_graph=create_graph))
    _cmp_nested(res[mt], res[torch])


def test_create_graph_results_are_differentiable_like_torch():
    torch = pytest.importorskip("torch")
    res = {}
    for lib in (torch, mt):
        x = lib.tensor(_u((3,), 440), requires_grad=True)
        v = lib.tensor(_u((3,), 441))
        _, hv = lib.autograd.functional.hvp(lambda t: (t.exp() * t).sum(), x, v, create_graph=True)
        j = lib.autograd.functional.jacobian(lambda t: t.sin() * t, x, create_graph=True)
        _, jv = lib.autograd.functional.jvp(lambda t: t.exp() * t, x, v, create_graph=True)
        (hv.sum() + (j ** 2).sum() + jv.pow(2).sum()).backward()
        res[lib] = x.grad
        # without create_graph the results are detached even for inputs that require grad
        h = lib.autograd.functional.hessian(lambda t: (t.exp() * t).sum(), x)
        assert not h.requires_grad
    _close(res[mt], res[torch])


def test_v_none_for_single_element_and_zeros_for_unused_inputs():
    torch = pytest.importorskip("torch")
    res = {}
    for lib in (torch, mt):
        F_ = lib.autograd.functional
        s = lib.tensor([0.7])
        x, y = lib.tensor(_u((3,), 450)), lib.tensor(_u((2,), 451))
        res[lib] = (F_.vjp(lambda t: (t * t).sum(), s), F_.jvp(lambda t: t.exp(), s),
                    F_.hvp(lambda t: (t ** 3).sum(), s), F_.vhp(lambda t: (t ** 3).sum(), s),
                    F_.jacobian(lambda a, b: a.exp(), (x, y)), F_.hessian(lambda a, b: (a ** 3).sum(), (x, y)),
                    F_.vjp(lambda a, b: a.exp(), (x, y), lib.ones(3, dtype=lib.float64)),
                    F_.jvp(lambda a, b: (a.exp(), b.sum() * 0 + 1), (x, y), (x, y)))
    _cmp_nested(res[mt], res[torch])


def _strict_cases(lib):
    F_ = lib.autograd.functional
    x, y = lib.tensor(_u((3,), 460)), lib.tensor(_u((2, 3), 461))
    return [
        lambda: F_.jacobian(lambda a, b: a.exp(), (x, y), strict=True),
        lambda: F_.jacobian(lambda a: a.detach(), x, strict=True),
        lambda: F_.jacobian(lambda a: 2 * a, x, strict=True, create_graph=True),
        lambda: F_.jacobian(lambda a: a, x, strict=True, vectorize=True),
        lambda: F_.vjp(lambda a, b: a.exp(), (x, y), lib.ones(3, dtype=lib.float64), strict=True),
        lambda: F_.vjp(lambda a: 2 * a, x, x, strict=True, create_graph=True),
        lambda: F_.jvp(lambda a, b: a.exp(), (x, y), (x, y), strict=True),
        lambda: F_.jvp(lambda a: a.exp(), x, x, strict=True),  # passes
        lambda: F_.hessian(lambda a, b: a.sum(), (x, y), strict=True),
        lambda: F_.hessian(lambda a, b: (a ** 2).sum() + b.sum(), (x, y), strict=True),
        lambda: F_.hessian(lambda a: (a ** 2).sum(), x, strict=True, create_graph=True),
        lambda: F_.hvp(lambda a, b: (a ** 2).sum(), (x, y), (x, y), strict=True),
        lambda: F_.hvp(lambda a: a.sum(), x, x, strict=True),
        lambda: F_.vhp(lambda a, b: (a ** 2).sum(), (x, y), (x, y), strict=True),
        lambda: F_.vhp(lambda a: (a ** 2).sum(), x, x, strict=True, create_graph=True),
        lambda: F_.vhp(lambda a: (a ** 3).sum(), x, x, strict=True, create_graph=True),  # passes
    ]


def _outcome(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - torch's exception is the expectation
        return type(e), str(e).replace("torch.autograd", "AUTOGRAD").replace("minitorch.autograd", "AUTOGRAD")
    return None


def test_strict_mode_raises_like_torch():
    torch = pytest.importorskip("torch")
    got = [_outcome(c) for c in _strict_cases(mt)]
    want = [_outcome(c) for c in _strict_cases(torch)]
    assert sum(w is not None for w in want) >= 12
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, (k, g, w)


def _error_cases(lib):
    F_ = lib.autograd.functional
    x = lib.tensor(_u((3,), 470))
    return [
        lambda: F_.vjp(lambda a: a, x),                                 # v None, several elements
        lambda: F_.jvp(lambda a: a, x),
        lambda: F_.vjp(lambda a: a, x, lib.ones(2, dtype=lib.float64)),  # wrong v size
        lambda: F_.jvp(lambda a, b: a, (x, x), (x,)),                   # wrong v length
        lambda: F_.jvp(lambda a, b: a, (x, x), (x, lib.ones(2, dtype=lib.float64))),
        lambda: F_.vjp(lambda a: a, [x], x),                            # a list is not a tuple
        lambda: F_.vjp(lambda a: a, (x, 3.0), x),
        lambda: F_.jacobian(lambda a: a.tolist(), x),
        lambda: F_.hvp(lambda a: a, x, x),                              # not a scalar
        lambda: F_.vhp(lambda a: (a.sum(), a.sum()), x, x),
        lambda: F_.hessian(lambda a: a * 2, x),
        lambda: F_.jacobian(lambda a: a, x, strategy="sideways"),
        lambda: F_.jacobian(lambda a: a, x, strategy="forward-mode", create_graph=True),
    ]


def test_argument_errors_match_torch():
    torch = pytest.importorskip("torch")
    got = [_outcome(c) for c in _error_cases(mt)]
    want = [_outcome(c) for c in _error_cases(torch)]
    for k, (g, w) in enumerate(zip(got, want)):
        assert w is not None, k
        assert g == w, (k, g, w)


def test_forward_mode_strategy_is_not_implemented():
    x = _t([1.0, 2.0], requires_grad=False)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        AF.jacobian(lambda a: a.exp(), x, strategy="forward-mode", vectorize=True)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        AF.hessian(lambda a: (a ** 3).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode")


def test_functional_leaves_inputs_alone_and_respects_no_grad():
    x = _t([0.3, -0.4])
    with mt.no_grad():
        out, g = AF.vjp(lambda a: (a.exp() * a).sum(), x)
        h = AF.hessian(lambda a: (a.exp() * a).sum(), x)
    assert not g.requires_grad and not h.requires_grad and x.grad is None
    want = np.exp([0.3, -0.4]) * (1 + np.array([0.3, -0.4]))
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), np.diag(np.exp([0.3, -0.4]) * (2 + np.array([0.3, -0.4]))), rtol=1e-12)


# ------------------------------------------------------------------------------------------ (c) leaks
def _rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_no_leak_over_many_create_graph_steps():
    r = _rng(500)
    w = mt.tensor(r.normal(size=(16, 16)), requires_grad=True)
    x = mt.tensor(r.normal(size=(4, 16)), requires_grad=True)

    def step():
        y = (x @ w).tanh()
        (gx,) = mt.autograd.grad(y.pow(2).sum(), x, create_graph=True)
        penalty = (gx.norm(2, dim=1) - 1).pow(2).mean()
        (penalty + y.mean()).backward()
        _, hv = AF.hvp(lambda t: (t @ w).sin().sum(), x.detach(), x.detach())
        w.grad = None
        x.grad = None
        return hv
    for _ in range(300):
        step()
    gc.collect()
    before = _rss_kb()
    for _ in range(5000):
        step()
    gc.collect()
    grown = _rss_kb() - before
    assert grown < 8 * 1024, f"RSS grew by {grown} kB over 5000 create_graph steps"
