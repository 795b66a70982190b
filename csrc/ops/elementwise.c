/* Elementwise ops: dtype rules, broadcasting, in-place forms and derivatives.
 * The kernels live in the device backends (elementwise_cpu.c for the CPU). */
#include "ops.h"
#include "../core/iter.h"
#include "../autograd/autograd.h"

#include <math.h>
#include <string.h>

#define P mt_pool

#define X(ID, name, node) #name,
const char *const mt_unary_names[MT_NUM_UNARY] = {MT_UNARY_OPS(X)};
const char *const mt_binary_names[MT_NUM_BINARY] = {MT_BINARY_OPS(X)};
#undef X

static int category(mt_dtype d) { return d == MT_BOOL ? 0 : mt_is_integral(d) ? 1 : 2; }

/* ====================== unary ====================== */
enum { U_FLOAT, U_SAME, U_PRED, U_ROUNDING };
static int unary_kind(int op) {
    switch (op) {
    case MT_U_NEG: case MT_U_ABS: case MT_U_RELU: case MT_U_SIGN: case MT_U_CLAMP: return U_SAME;
    case MT_U_FLOOR: case MT_U_CEIL: case MT_U_ROUND: case MT_U_TRUNC: return U_ROUNDING;
    case MT_U_LOGICAL_NOT: case MT_U_ISNAN: case MT_U_ISINF: case MT_U_ISFINITE: return U_PRED;
    default: return U_FLOAT;
    }
}
/* which tensor the derivative needs: 0 none, 1 input, 2 output */
static int unary_saves(int op) {
    switch (op) {
    case MT_U_EXP: case MT_U_EXPM1: case MT_U_SQRT: case MT_U_RSQRT: case MT_U_TANH: case MT_U_SIGMOID:
    case MT_U_RELU: case MT_U_RECIPROCAL: return 2;
    case MT_U_NEG: case MT_U_SIGN: case MT_U_FLOOR: case MT_U_CEIL: case MT_U_ROUND: case MT_U_TRUNC: return 0;
    default: return 1;
    }
}

static mt_tensor *zeros_like_grad(mt_tensor *g) { return mt_full_like(g, 0.0); }

static int unary_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *g = go[0], *r = NULL;
    int op = (int)n->iargs[0];
    mt_tensor *x = n->n_saved ? mt_node_saved(n, 0) : NULL; /* input or output, per unary_saves */
    if (n->n_saved && !x) return -1;
    switch (op) {
    case MT_U_NEG: r = mt_neg(g); break;
    case MT_U_ABS: r = mt_mul(g, P(mt_unary(MT_U_SIGN, x))); break;
    case MT_U_EXP: r = mt_mul(g, x); break;
    case MT_U_LOG: r = mt_div(g, x); break;
    case MT_U_LOG1P: r = mt_div(g, P(mt_adds(x, 1.0))); break;
    case MT_U_EXPM1: r = mt_mul(g, P(mt_adds(x, 1.0))); break;
    case MT_U_SQRT: r = mt_div(g, P(mt_muls(x, 2.0))); break;
    case MT_U_RSQRT: r = mt_mul(g, P(mt_muls(P(mt_mul(x, P(mt_mul(x, x)))), -0.5))); break;
    case MT_U_SIN: r = mt_mul(g, P(mt_unary(MT_U_COS, x))); break;
    case MT_U_COS: r = mt_mul(g, P(mt_neg(P(mt_unary(MT_U_SIN, x))))); break;
    case MT_U_TANH: r = mt_mul(g, P(mt_binary_s(MT_B_SUB, P(mt_mul(x, x)), mt_sf(1.0), true))); break;
    case MT_U_SIGMOID: r = mt_mul(g, P(mt_mul(x, P(mt_binary_s(MT_B_SUB, x, mt_sf(1.0), true))))); break;
    case MT_U_RELU: r = mt_mul(g, P(mt_binary_s(MT_B_GT, x, mt_sf(0.0), false))); break;
    case MT_U_RECIPROCAL: r = mt_mul(g, P(mt_neg(P(mt_mul(x, x))))); break;
    case MT_U_ERF: /* 2/sqrt(pi) * exp(-x^2) */
        r = mt_mul(g, P(mt_muls(P(mt_unary(MT_U_EXP, P(mt_neg(P(mt_mul(x, x)))))), 1.1283791670955126))); break;
    case MT_U_CLAMP: {
        /* gradient passes where lo <= x <= hi (params stored as doubles in node->scalar/iargs) */
        mt_tensor *mask = NULL;
        double lo, hi;
        memcpy(&lo, &n->iargs[2], sizeof lo);
        memcpy(&hi, &n->iargs[4], sizeof hi);
        if (n->iargs[1]) mask = P(mt_binary_s(MT_B_GE, x, mt_sf(lo), false));
        if (n->iargs[3]) {
            mt_tensor *m2 = P(mt_binary_s(MT_B_LE, x, mt_sf(hi), false));
            mask = mask ? P(mt_binary(MT_B_LOGICAL_AND, mask, m2)) : m2;
        }
        r = mask ? mt_mul(g, mask) : mt_incref(g);
        break;
    }
    default: r = zeros_like_grad(g); break;
    }
    gi[0] = r;
    return r ? 0 : -1;
}

static mt_node_vt unary_vts[MT_NUM_UNARY] = {
#define X(ID, name, node) {node, unary_backward, NULL},
    MT_UNARY_OPS(X)
#undef X
};

static mt_tensor *unary_impl(int op, mt_tensor *a, const double *params, mt_tensor *out_inplace) {
    if (!a) return NULL;
    int kind = unary_kind(op);
    mt_dtype ct = a->dtype, od;
    if (kind == U_FLOAT && !mt_is_floating(ct)) ct = MT_FLOAT32;
    if (a->dtype == MT_BOOL && (kind == U_SAME || kind == U_ROUNDING) && op != MT_U_SIGN) {
        if (op == MT_U_NEG)
            return mt_error(MT_ERR_RUNTIME, "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                                            "trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        return mt_error(MT_ERR_RUNTIME, "\"%s_cpu\" not implemented for 'Bool'", mt_unary_names[op]);
    }
    od = kind == U_PRED ? MT_BOOL : ct;
    if (out_inplace && od != out_inplace->dtype && category(od) > category(out_inplace->dtype))
        return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s", mt_type_name(od),
                        mt_type_name(out_inplace->dtype));
    mt_tensor *in = mt_cast(a, ct);
    if (!in) return NULL;
    mt_tensor *out;
    if ((kind == U_ROUNDING && mt_is_integral(ct)) || (op == MT_U_SIGN && ct == MT_BOOL)) { /* sign(bool) is the identity */
        out = mt_empty_like(in);
        if (out && mt_copy_into(out, in) < 0) { mt_decref(out); out = NULL; }
    } else {
        out = mt_empty(in->shape, in->ndim, od, in->storage->device);
        if (out && mt_backend_of(in)->unary(op, out, in, params) < 0) { mt_decref(out); out = NULL; }
    }
    mt_decref(in);
    if (!out) return NULL;
    if (unary_vts[op].name) {
        mt_node *n = mt_autograd_record(&unary_vts[op], out, 1, &a);
        if (n) {
            n->iargs[0] = op;
            int sv = unary_saves(op);
            if (sv) mt_node_save(n, 0, sv == 1 ? a : out, sv == 2);
        }
    }
    return out;
}

mt_tensor *mt_unary(int op, mt_tensor *a) { return unary_impl(op, a, NULL, NULL); }

mt_tensor *mt_unary_(int op, mt_tensor *a) {
    if (!a) return NULL;
    if (mt_check_inplace(a) < 0) return NULL;
    int kind = unary_kind(op);
    bool same_dtype = kind != U_PRED && !(kind == U_FLOAT && !mt_is_floating(a->dtype));
    if (same_dtype && !mt_inplace_needs_history(a, NULL) && !(kind == U_ROUNDING && !mt_is_floating(a->dtype)) &&
        a->dtype != MT_BOOL) {
        /* the kernel reads and writes each element in place */
        if (mt_backend_of(a)->unary(op, a, a, NULL) < 0) return NULL;
        mt_bump_version(a);
        return mt_incref(a);
    }
    return mt_commit_inplace(a, unary_impl(op, a, NULL, a));
}

mt_tensor *mt_clamp(mt_tensor *a, const mt_scalar *lo, const mt_scalar *hi, bool inplace) {
    if (!a) return NULL;
    if (!lo && !hi) return mt_error(MT_ERR_RUNTIME, "torch.clamp: At least one of 'min' or 'max' must not be None");
    /* float bounds on an integer tensor give a float result */
    mt_dtype rt = a->dtype;
    if (lo) rt = mt_result_type2(a, NULL, NULL, lo) > rt ? mt_result_type2(a, NULL, NULL, lo) : rt;
    if (hi) rt = mt_result_type2(a, NULL, NULL, hi) > rt ? mt_result_type2(a, NULL, NULL, hi) : rt;
    if (rt == MT_BOOL) return mt_error(MT_ERR_RUNTIME, "\"clamp_cpu\" not implemented for 'Bool'");
    double params[4] = {lo != NULL, lo ? lo->f : 0, hi != NULL, hi ? hi->f : 0};
    if (mt_is_integral(rt)) {
        params[1] = lo ? (double)lo->i : 0;
        params[3] = hi ? (double)hi->i : 0;
    }
    mt_tensor *in = mt_cast(a, rt);
    if (!in) return NULL;
    mt_tensor *out;
    if (inplace) {
        if (mt_check_inplace(a) < 0) { mt_decref(in); return NULL; }
        if (rt != a->dtype) {
            mt_decref(in);
            return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s", mt_type_name(rt),
                            mt_type_name(a->dtype));
        }
    }
    out = mt_empty_like(in);
    if (out && mt_backend_of(in)->unary(MT_U_CLAMP, out, in, params) < 0) { mt_decref(out); out = NULL; }
    mt_decref(in);
    if (!out) return NULL;
    mt_node *n = mt_autograd_record(&unary_vts[MT_U_CLAMP], out, 1, &a);
    if (n) {
        n->iargs[0] = MT_U_CLAMP;
        n->iargs[1] = lo != NULL;
        n->iargs[3] = hi != NULL;
        memcpy(&n->iargs[2], &params[1], sizeof(double));
        memcpy(&n->iargs[4], &params[3], sizeof(double));
        mt_node_save(n, 0, a, false);
    }
    if (inplace) return mt_commit_inplace(a, out);
    return out;
}

/* ====================== binary ====================== */
enum { B_ARITH, B_DIV, B_PRED };
static int binary_kind(int op) {
    if (op == MT_B_DIV) return B_DIV;
    if (op >= MT_B_EQ) return B_PRED;
    return B_ARITH;
}
static bool binary_differentiable(int op) { return mt_binary_names[op] && binary_kind(op) != B_PRED && op != MT_B_FLOOR_DIVIDE; }

/* flags in iargs[1]: bit0 = scalar operand, bit1 = scalar first */
static int binary_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int op = (int)n->iargs[0];
    bool scalar = n->iargs[1] & 1, sfirst = n->iargs[1] & 2;
    mt_tensor *g = go[0];
    mt_tensor *a = NULL, *b = NULL, *ga = NULL, *gb = NULL;
    double s = n->scalar.f;
    for (int k = 0; k < n->n_saved; k++)
        if (!mt_node_saved(n, k)) return -1;
    if (n->n_saved > 0) a = n->saved[0];
    if (n->n_saved > 1) b = n->saved[1];
    bool need_a = mt_node_needs(n, 0), need_b = !scalar && mt_node_needs(n, 1);
    if (scalar) {
        switch (op) {
        case MT_B_ADD: ga = mt_incref(g); break;
        case MT_B_SUB: ga = sfirst ? mt_neg(g) : mt_incref(g); break;
        case MT_B_MUL: ga = mt_muls(g, s); break;
        case MT_B_DIV: /* a / s, or s / a with a saved: -g * s / a^2 */
            ga = sfirst ? mt_div(P(mt_muls(g, -s)), P(mt_mul(a, a))) : mt_muls(g, 1.0 / s);
            break;
        case MT_B_POW:
            if (sfirst && s == 0.0) { /* 0 ** a: 0 where a >= 0 (as PyTorch masks it), out * log(0) elsewhere */
                mt_tensor *lg = P(mt_muls(a, log(s)));
                mt_tensor *pos = P(mt_binary_s(MT_B_EQ, a, mt_sf(1.0), false)); /* out == 1 <=> a == 0 */
                mt_tensor *zero = P(mt_binary_s(MT_B_EQ, a, mt_sf(0.0), false)); /* out == 0 <=> a > 0 */
                mt_tensor *mask = P(mt_binary(MT_B_LOGICAL_OR, pos, zero));
                ga = mt_mul(g, P(mt_where(mask, P(mt_full_like(lg, 0.0)), lg)));
            } else if (sfirst) { /* s ** a: g * out * log(s); a holds the output */
                ga = mt_mul(g, P(mt_muls(a, log(s))));
            } else if (s == 0.0) {
                ga = zeros_like_grad(g);
            } else { /* a ** s: g * s * a^(s-1) */
                ga = mt_mul(g, P(mt_muls(P(mt_binary_s(MT_B_POW, a, mt_sf(s - 1.0), false)), s)));
            }
            break;
        case MT_B_REMAINDER: ga = sfirst ? mt_mul(g, P(mt_neg(P(mt_binary_s(MT_B_FLOOR_DIVIDE, a, n->scalar, true)))))
                                         : mt_incref(g);
            break;
        default: ga = zeros_like_grad(g); break;
        }
        gi[0] = ga ? mt_node_grad_for(n, 0, ga) : NULL;
        return gi[0] ? 0 : -1;
    }
    switch (op) {
    case MT_B_ADD:
        if (need_a) ga = mt_incref(g);
        if (need_b) gb = mt_incref(g);
        break;
    case MT_B_SUB:
        if (need_a) ga = mt_incref(g);
        if (need_b) gb = mt_neg(g);
        break;
    case MT_B_MUL:
        if (need_a) ga = mt_mul(g, b);
        if (need_b) gb = mt_mul(g, a);
        break;
    case MT_B_DIV:
        if (need_a) ga = mt_div(g, b);
        if (need_b) gb = mt_neg(P(mt_div(P(mt_div(P(mt_mul(g, a)), b)), b)));
        break;
    case MT_B_POW: {
        /* a holds the base, b the exponent; d/da = b * a^(b-1), d/db = a^b * log(a) (0 where a == 0 and b >= 0) */
        if (need_a) ga = mt_mul(g, P(mt_mul(b, P(mt_binary(MT_B_POW, a, P(mt_binary_s(MT_B_SUB, b, mt_sf(1), false)))))));
        if (need_b) {
            mt_tensor *y = P(mt_binary(MT_B_POW, a, b));
            mt_tensor *lg = P(mt_unary(MT_U_LOG, a));
            mt_tensor *prod = P(mt_mul(y, lg));
            mt_tensor *zero = P(mt_binary(MT_B_LOGICAL_AND, P(mt_binary_s(MT_B_EQ, a, mt_sf(0), false)),
                                                P(mt_binary_s(MT_B_GE, b, mt_sf(0), false))));
            gb = mt_mul(g, P(mt_where(zero, P(mt_full_like(prod, 0.0)), prod)));
        }
        break;
    }
    case MT_B_MAXIMUM: case MT_B_MINIMUM: {
        /* ties split the gradient in half, as PyTorch does */
        mt_tensor *win = P(mt_binary(op == MT_B_MAXIMUM ? MT_B_GT : MT_B_LT, a, b));
        mt_tensor *tie = P(mt_muls(P(mt_to_dtype(P(mt_binary(MT_B_EQ, a, b)), g->dtype)), 0.5));
        mt_tensor *wa = P(mt_add(P(mt_to_dtype(win, g->dtype)), tie));
        if (need_a) ga = mt_mul(g, wa);
        if (need_b) gb = mt_mul(g, P(mt_binary_s(MT_B_SUB, wa, mt_sf(1.0), true)));
        break;
    }
    case MT_B_REMAINDER:
        if (need_a) ga = mt_incref(g);
        if (need_b) gb = mt_mul(g, P(mt_neg(P(mt_binary(MT_B_FLOOR_DIVIDE, a, b)))));
        break;
    default: break;
    }
    if ((need_a && !ga) || (need_b && !gb)) { mt_decref(ga); mt_decref(gb); return -1; }
    gi[0] = ga ? mt_node_grad_for(n, 0, ga) : NULL;
    gi[1] = gb ? mt_node_grad_for(n, 1, gb) : NULL;
    if ((ga && !gi[0]) || (gb && !gi[1])) return -1;
    return 0;
}

static mt_node_vt binary_vts[MT_NUM_BINARY] = {
#define X(ID, name, node) {node, binary_backward, NULL},
    MT_BINARY_OPS(X)
#undef X
};
static const mt_node_vt pow_scalar_vt = {"PowBackward0", binary_backward, NULL};
static const mt_node_vt rpow_vt = {"PowBackward2", binary_backward, NULL};
static const mt_node_vt rsub_vt = {"RsubBackward1", binary_backward, NULL};
static const mt_node_vt rdiv_vt = {"MulBackward0", binary_backward, NULL}; /* torch: s / x = x.reciprocal() * s */
static const mt_node_vt remainder_tensor_vt = {"RemainderBackward1", binary_backward, NULL}; /* remainder.Tensor */


/* Shared by the out-of-place and in-place forms. b == NULL: scalar operand s. */
static mt_tensor *binary_impl(int op, mt_tensor *a, mt_tensor *b, const mt_scalar *s, bool sfirst, mt_tensor *self) {
    if (!a) return NULL;
    if (mt_check_same_device(a, b) < 0) return NULL;
    int kind = binary_kind(op);
    mt_dtype ct = b ? mt_result_type2(a, NULL, b, NULL) : mt_result_type2(a, NULL, NULL, s);
    if (kind == B_DIV && !mt_is_floating(ct)) ct = MT_FLOAT32;
    if (op == MT_B_SUB && ct == MT_BOOL)
        return mt_error(MT_ERR_RUNTIME, "Subtraction, the `-` operator, with two bool tensors is not supported. "
                                        "Use the `^` or `logical_xor()` operator instead.");
    if (op == MT_B_SUB && (a->dtype == MT_BOOL || (b && b->dtype == MT_BOOL) || (!b && s->dtype == MT_BOOL)))
        return mt_error(MT_ERR_RUNTIME, "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                                        "trying to invert a mask, use the `~` or `logical_not()` operator instead.");
    if (ct == MT_BOOL) {
        if (op == MT_B_FLOOR_DIVIDE || op == MT_B_REMAINDER || op == MT_B_POW)
            return mt_error(MT_ERR_RUNTIME, "\"%s_cpu\" not implemented for 'Bool'", mt_binary_names[op]);
    }
    mt_dtype od = kind == B_PRED ? MT_BOOL : ct;
    int64_t shape[MT_MAX_DIMS];
    int nd;
    if (b) {
        if (mt_broadcast_shapes(a->shape, a->ndim, b->shape, b->ndim, shape, &nd) < 0) return NULL;
    } else {
        nd = a->ndim;
        memcpy(shape, a->shape, sizeof(int64_t) * nd);
    }
    if (self) {
        if (od != self->dtype && category(od) > category(self->dtype))
            return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s",
                            mt_type_name(od), mt_type_name(self->dtype));
        if (nd != self->ndim || memcmp(shape, self->shape, sizeof(int64_t) * nd))
            return mt_error(MT_ERR_RUNTIME, "output with shape %s doesn't match the broadcast shape %s",
                            mt_shape_str(self->shape, self->ndim), mt_shape_str(shape, nd));
    }
    mt_scalar sv = {MT_FLOAT64, 0, 0};
    if (!b) {
        sv = *s;
        if (!mt_is_floating(ct)) sv.i = s->dtype == MT_FLOAT64 ? (int64_t)s->f : s->i;
        else sv.f = s->dtype == MT_FLOAT64 ? s->f : (double)s->i;
        if (op == MT_B_POW && mt_is_integral(ct) && !sfirst && sv.i < 0)
            return mt_error(MT_ERR_RUNTIME, "Integers to negative integer powers are not allowed.");
    }
    bool grad = mt_grad_enabled && binary_differentiable(op) && (a->requires_grad || (b && b->requires_grad));
    /* fast path: in place into self when no history is needed and the operands' dtype already matches */
    mt_tensor *ca = mt_cast(a, ct), *cb = b ? mt_cast(b, ct) : NULL;
    if (!ca || (b && !cb)) { mt_decref(ca); mt_decref(cb); return NULL; }
    mt_tensor *out;
    bool direct = self && !grad && !mt_inplace_needs_history(self, b) && od == self->dtype &&
                  !(cb && cb->storage == self->storage && cb != self && !(cb->offset == self->offset &&
                    !memcmp(cb->strides, self->strides, sizeof(int64_t) * self->ndim)));
    if (direct) out = mt_incref(self);
    else out = mt_empty(shape, nd, od, a->storage->device);
    if (out && mt_backend_of(ca)->binary(op, out, ca, cb, b ? NULL : &sv, sfirst) < 0) { mt_decref(out); out = NULL; }
    mt_decref(ca);
    mt_decref(cb);
    if (!out) return NULL;
    if (direct) { mt_bump_version(self); return out; }
    if (grad) {
        const mt_node_vt *vt = &binary_vts[op];
        if (!b && op == MT_B_POW) vt = sfirst ? &rpow_vt : &pow_scalar_vt;
        if (!b && op == MT_B_SUB && sfirst) vt = &rsub_vt;
        if (b && op == MT_B_REMAINDER) vt = &remainder_tensor_vt;
        if (!b && op == MT_B_DIV && sfirst) vt = &rdiv_vt;
        mt_tensor *ins[2] = {a, b};
        mt_node *n = mt_autograd_record(vt, out, b ? 2 : 1, ins);
        if (n) {
            n->iargs[0] = op;
            n->iargs[1] = (b ? 0 : 1) | (sfirst ? 2 : 0);
            n->scalar = sv;
            mt_node_set_meta(n, 0, a);
            if (b) mt_node_set_meta(n, 1, b);
            bool save_a = false, save_b = false;
            switch (op) {
            case MT_B_MUL: save_a = b && b->requires_grad; save_b = b && a->requires_grad; break;
            case MT_B_DIV: save_a = (b && b->requires_grad) || (!b && sfirst); save_b = b != NULL; break;
            case MT_B_POW: save_a = true; save_b = b != NULL; break;
            case MT_B_MAXIMUM: case MT_B_MINIMUM: save_a = save_b = true; break;
            case MT_B_REMAINDER: save_a = (b && b->requires_grad) || (!b && sfirst); save_b = b && b->requires_grad; break;
            default: break;
            }
            if (!b && op == MT_B_POW && sfirst) {
                mt_node_save(n, 0, out, true); /* s ** a saves the output */
            } else {
                /* slot 0 is a, slot 1 is b; unused slots get a's placeholder so indices stay fixed */
                if (save_a || save_b) mt_node_save(n, 0, a, false);
                if (save_b) mt_node_save(n, 1, b, false);
            }
        }
    }
    if (self) return mt_commit_inplace(self, out);
    return out;
}

mt_tensor *mt_binary(int op, mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    return binary_impl(op, a, b, NULL, false, NULL);
}
mt_tensor *mt_binary_s(int op, mt_tensor *a, mt_scalar s, bool scalar_first) {
    return binary_impl(op, a, NULL, &s, scalar_first, NULL);
}
mt_tensor *mt_binary_(int op, mt_tensor *self, mt_tensor *other, const mt_scalar *s) {
    if (!self || (!other && !s)) return NULL;
    if (mt_check_inplace(self) < 0) return NULL;
    return binary_impl(op, self, other, s, false, self);
}

/* ====================== where ====================== */
static int where_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *cond = mt_node_saved(n, 0);
    if (!cond) return -1;
    mt_tensor *zero = P(mt_full(NULL, 0, mt_si(0), go[0]->dtype, go[0]->storage->device));
    if (mt_node_needs(n, 1)) {
        gi[1] = mt_node_grad_for(n, 0, mt_where(cond, go[0], zero));
        if (!gi[1]) return -1;
    }
    if (mt_node_needs(n, 2)) {
        gi[2] = mt_node_grad_for(n, 1, mt_where(cond, zero, go[0]));
        if (!gi[2]) return -1;
    }
    return 0;
}
static const mt_node_vt where_vt = {"WhereBackward0", where_backward, NULL};

mt_tensor *mt_where(mt_tensor *cond, mt_tensor *a, mt_tensor *b) {
    if (!cond || !a || !b) return NULL;
    if (mt_check_same_device(cond, a) < 0 || mt_check_same_device(cond, b) < 0) return NULL;
    if (cond->dtype != MT_BOOL)
        return mt_error(MT_ERR_RUNTIME, "where expected condition to be a boolean tensor, but got a tensor with dtype %s",
                        mt_type_name(cond->dtype));
    mt_dtype ct = mt_result_type2(a, NULL, b, NULL);
    int64_t s1[MT_MAX_DIMS], shape[MT_MAX_DIMS];
    int n1, nd;
    if (mt_broadcast_shapes(cond->shape, cond->ndim, a->shape, a->ndim, s1, &n1) < 0) return NULL;
    if (mt_broadcast_shapes(s1, n1, b->shape, b->ndim, shape, &nd) < 0) return NULL;
    mt_tensor *ca = mt_cast(a, ct), *cb = mt_cast(b, ct);
    mt_tensor *out = ca && cb ? mt_empty(shape, nd, ct, a->storage->device) : NULL;
    if (out && mt_backend_of(out)->where(out, cond, ca, cb) < 0) { mt_decref(out); out = NULL; }
    mt_decref(ca);
    mt_decref(cb);
    if (!out) return NULL;
    mt_tensor *ins[3] = {cond, a, b};
    mt_node *n = mt_autograd_record(&where_vt, out, 3, ins);
    if (n) {
        mt_node_save(n, 0, cond, false);
        mt_node_set_meta(n, 0, a);
        mt_node_set_meta(n, 1, b);
    }
    return out;
}
