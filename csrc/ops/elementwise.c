/* Elementwise ops: dtype rules, broadcasting, in-place forms and derivatives, all driven by the
 * declarations in elementwise_ops.h. The kernels live in the device backends (elementwise_cpu.c
 * for the CPU, cuda/unary.cu and cuda/binary.cu). */
#include "ops.h"
#include "../core/iter.h"
#include "../autograd/autograd.h"
#include "../core/half.h"

#include <math.h>
#include <string.h>

#define P mt_pool

/* ---- the derivative language of elementwise_ops.h: every step is pooled (freed once the node's
   backward returns) and NULL propagates, so a failed step fails the whole expression ---- */
#define U_(OP, t) P(mt_unary(MT_U_##OP, t))
#define B_(OP, p, q) P(mt_binary(MT_B_##OP, p, q))
#define BS_(OP, p, s) P(mt_binary_s(MT_B_##OP, p, mt_sf(s), false))
#define MUL(p, q) B_(MUL, p, q)
#define DIV(p, q) B_(DIV, p, q)
#define ADD(p, q) B_(ADD, p, q)
#define SUB(p, q) B_(SUB, p, q)
#define MULS(p, s) BS_(MUL, p, s)
#define ADDS(p, s) BS_(ADD, p, s)
#define RSUBS(s, p) P(mt_binary_s(MT_B_SUB, p, mt_sf(s), true))
#define NEG(p) P(mt_neg(p))
#define WHERE(c, p, q) P(mt_where(c, p, q))
#define OR(p, q) B_(LOGICAL_OR, p, q)
#define AND(p, q) B_(LOGICAL_AND, p, q)
#define ZEROS P(mt_full_like(g, 0.0))
#define IDENT g
#define NOT_IMPL not_implemented(n)

static int binary_backward(mt_node *n, mt_tensor **go, mt_tensor **gi);
static mt_tensor *not_implemented(const mt_node *n) {
    int op = (int)n->iargs[0];
    const char *name = n->vt->backward == binary_backward ? mt_binary_decls[op].name : mt_unary_decls[op].name;
    return mt_error(MT_ERR_RUNTIME, "derivative for aten::%s is not implemented", name);
}
static mt_tensor *zero_where(mt_tensor *mask, mt_tensor *t) { return WHERE(mask, P(mt_full_like(t, 0.0)), t); }

/* helpers the declarations name: each returns a pooled tensor */
static mt_tensor *clamp_mask(mt_tensor *x, const double *prm) {
    mt_tensor *mask = prm[0] != 0 ? BS_(GE, x, prm[1]) : NULL;
    if (prm[2] != 0) {
        mt_tensor *hi = BS_(LE, x, prm[3]);
        mask = mask ? AND(mask, hi) : hi;
    }
    return mask;
}
static mt_tensor *sinc_grad(mt_tensor *x) { /* torch's (pi x cos(pi x) - sin(pi x)) / (pi x x), 0 where pi x x is */
    mt_tensor *px = MULS(x, 3.141592653589793), *pxx = MUL(px, x); /* (0 also where it underflows: 1e-23 in float32) */
    mt_tensor *r = DIV(SUB(MUL(px, U_(COS, px)), U_(SIN, px)), pxx);
    return zero_where(BS_(EQ, pxx, 0.0), r);
}
static float in_float_dtype(mt_dtype d, double v) { /* v rounded into float16 / bfloat16 / float32 */
    if (d == MT_FLOAT16) return mt_f16_to_f32(mt_f32_to_f16((float)v));
    if (d == MT_BFLOAT16) return mt_bf16_to_f32(mt_f32_to_bf16((float)v));
    return (float)v;
}
void mt_logit_bounds(mt_dtype d, double eps, double *lo, double *hi) {
    if (d == MT_FLOAT64) { *lo = eps; *hi = 1.0 - eps; return; }
    float l = in_float_dtype(d, eps); /* (torch: scalar_t(1) - eps, in float rounded to d for the narrow ones) */
    *lo = l;
    *hi = in_float_dtype(d, 1.0f - l);
}
static mt_tensor *logit_grad(mt_tensor *g, mt_tensor *x, const double *prm) {
    mt_tensor *r = DIV(g, MUL(x, RSUBS(1.0, x)));
    double lo = 0.0, hi = 1.0;
    if (prm[0] != 0) mt_logit_bounds(mt_is_floating(x->dtype) ? x->dtype : MT_FLOAT32, prm[1], &lo, &hi);
    mt_tensor *outside = OR(BS_(LT, x, lo), BS_(GT, x, hi));
    if (prm[0] != 0) return zero_where(outside, r);
    return WHERE(outside, P(mt_full_like(r, NAN)), r); /* no eps: NaN outside [0, 1], as torch */
}
static mt_tensor *pow_grad_base(mt_tensor *g, mt_tensor *a, mt_tensor *b) { /* b a^(b-1), 0 where b == 0 */
    mt_tensor *r = MUL(g, MUL(b, B_(POW, a, BS_(SUB, b, 1.0))));
    return zero_where(BS_(EQ, b, 0.0), r);
}
static mt_tensor *pow_grad_exponent(mt_tensor *g, mt_tensor *a, mt_tensor *b, mt_tensor *y) {
    /* a^b log(a), 0 where a == 0 and b >= 0 */
    mt_tensor *r = MUL(y, U_(LOG, a));
    return MUL(g, zero_where(AND(BS_(EQ, a, 0.0), BS_(GE, b, 0.0)), r));
}
static mt_tensor *maxmin_weight(mt_tensor *a, mt_tensor *b, int win_op) { /* 1 where a wins, 1/2 at ties */
    return ADD(P(mt_binary(win_op, a, b)), MULS(B_(EQ, a, b), 0.5));
}
static mt_tensor *copysign_ratio(mt_tensor *a, mt_tensor *y) { return zero_where(BS_(EQ, a, 0.0), DIV(y, a)); }
static mt_tensor *xlogy_grad_self(mt_tensor *g, mt_tensor *a, mt_tensor *b) {
    return zero_where(AND(BS_(EQ, a, 0.0), BS_(LE, b, 0.0)), B_(XLOGY, g, b));
}

/* the activations' derivatives (torch's *_backward kernels, written with recorded ops) */
#define UP_(OP, t, ...) P(mt_unary_p(MT_U_##OP, t, (const double[4]){__VA_ARGS__}, 4, false))
static mt_tensor *leaky_relu_grad(mt_tensor *g, mt_tensor *x, const double *prm) { /* x > 0 ? g : g * slope */
    return WHERE(BS_(GT, x, 0.0), g, MULS(g, prm[0]));
}
static mt_tensor *leaky_relu_result_grad(mt_tensor *g, mt_tensor *y, const double *prm) {
    if (prm[0] < 0) /* the result's sign no longer tells the input's */
        return mt_error(MT_ERR_RUNTIME, "In-place leakyReLu backward calculation is triggered with a negative slope which is "
                                        "not supported. This is caused by calling in-place forward function with a negative "
                                        "slope, please call out-of-place version instead. File an issue at "
                                        "https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu "
                                        "backward calculation with negative slope");
    return leaky_relu_grad(g, y, prm);
}
/* prm {alpha, scale, input_scale, backward input_scale}: x > 0 ? g * scale : g * is * alpha * scale * exp(x * is)
   (NaN takes the second, as torch's vectorised kernel); the exponent reads min(x, 0), so that an overflow on the
   unselected side cannot meet a zero in double backward */
static mt_tensor *elu_grad(mt_tensor *g, mt_tensor *x, const double *prm) {
    mt_scalar zero = mt_sf(0.0);
    mt_tensor *neg = P(mt_clamp(x, NULL, &zero, false));
    mt_tensor *e = U_(EXP, MULS(neg, prm[3]));
    return WHERE(BS_(GT, x, 0.0), MULS(g, prm[1]), MULS(MUL(g, e), prm[3] * prm[0] * prm[1]));
}
static mt_tensor *elu_result_grad(mt_tensor *g, mt_tensor *y, const double *prm) { /* y > 0 ? g scale : g is (y + alpha scale) */
    if (prm[0] < 0)
        return mt_error(MT_ERR_RUNTIME, "In-place elu backward calculation is triggered with a negative slope which is not "
                                        "supported. This is caused by calling in-place forward function with a negative "
                                        "slope, please call out-of-place version instead.");
    return WHERE(BS_(GT, y, 0.0), MULS(g, prm[1]), MULS(MUL(g, ADDS(y, prm[0] * prm[1])), prm[3]));
}
static mt_tensor *silu_grad(mt_tensor *g, mt_tensor *x) { /* s (1 + x (1 - s)), s = sigmoid(x) */
    mt_tensor *s = U_(SIGMOID, x);
    return MUL(g, MUL(s, ADDS(MUL(x, RSUBS(1.0, s)), 1.0)));
}
static mt_tensor *mish_grad(mt_tensor *g, mt_tensor *x) { /* t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)) */
    mt_tensor *t = U_(TANH, UP_(SOFTPLUS, x, 1.0, 20.0, 0, 0));
    return MUL(g, ADD(t, MUL(MUL(x, U_(SIGMOID, x)), RSUBS(1.0, MUL(t, t)))));
}
static mt_tensor *softplus_grad(mt_tensor *g, mt_tensor *x, const double *prm) { /* bx > threshold ? g : g sigmoid(bx) */
    mt_tensor *bx = MULS(x, prm[0]);
    return WHERE(BS_(GT, bx, prm[1]), g, MUL(g, U_(SIGMOID, bx)));
}
/* The masks below are those of torch's vectorised kernels, which the scalar tails of its loops do not all share:
   NaN gets 0 from hardtanh and the shrinks. */
static mt_tensor *masked_g(mt_tensor *mask, mt_tensor *g) { return WHERE(mask, g, P(mt_full_like(g, 0.0))); }
static mt_tensor *hardtanh_grad(mt_tensor *g, mt_tensor *x, const double *prm) { /* g strictly inside (min, max) */
    return masked_g(AND(BS_(GT, x, prm[0]), BS_(LT, x, prm[1])), g);
}
static mt_tensor *hardswish_grad(mt_tensor *g, mt_tensor *x) { /* x <= -3: 0; x >= 3: g; else (and NaN) g (x / 3 + 1/2) */
    mt_tensor *mid = WHERE(BS_(GE, x, 3.0), g, MUL(g, ADDS(BS_(DIV, x, 3.0), 0.5)));
    return zero_where(BS_(LE, x, -3.0), mid);
}
static mt_tensor *hardsigmoid_grad(mt_tensor *g, mt_tensor *x) { /* g / 6 strictly inside (-3, 3), with torch's 1.0f / 6 */
    mt_tensor *inside = AND(BS_(GT, x, -3.0), BS_(LT, x, 3.0));
    mt_tensor *r = MULS(g, (double)(1.0f / 6.0f));
    return masked_g(inside, r);
}
static mt_tensor *shrink_grad(mt_tensor *g, mt_tensor *x, const double *prm) { /* g outside [-lambd, lambd] */
    return masked_g(OR(BS_(LT, x, -prm[0]), BS_(GT, x, prm[0])), g);
}
static mt_tensor *threshold_grad(mt_tensor *g, mt_tensor *x, const double *prm) { return zero_where(BS_(LE, x, prm[0]), g); }

/* ---- the declarations as data ---- */
#define DECL_U(ID, name, kind, saves, var, node, deriv) \
    {#name, node, NULL, NULL, #deriv, MT_K_##kind, MT_V_##var, MT_S_##saves},
const mt_ew_decl mt_unary_decls[MT_NUM_UNARY] = {MT_UNARY_OPS(DECL_U)};
#define DECL_B(ID, name, kind, da_uses, db_uses, var, node, node_s, node_sf, da, db) \
    {#name, node, node_s, node_sf, "a: " #da "; b: " #db, MT_K_##kind, MT_V_##var, (da_uses) | (db_uses) << 4},
const mt_ew_decl mt_binary_decls[MT_NUM_BINARY] = {MT_BINARY_OPS(DECL_B)};
#undef DECL_U
#undef DECL_B

bool mt_ew_has_derivative(const mt_ew_decl *d) { return d->node && !strstr(d->derivative, "NOT_IMPL"); }

static int category(mt_dtype d) { return d == MT_BOOL ? 0 : mt_is_integral(d) ? 1 : 2; }

/* PyTorch's wording for a kernel that a dtype does not have */
static void *not_impl_dtype(const char *name, const mt_tensor *t, mt_dtype d) {
    return mt_error(MT_ERR_NOTIMPL, "\"%s_%s\" not implemented for '%s'", name,
                    t->storage->device.type == MT_CPU ? "cpu" : "cuda", mt_type_name(d));
}

/* ====================== unary ====================== */
static int unary_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *g = go[0], *r = NULL;
    const double *prm = n->fargs;
    mt_tensor *x = n->n_saved ? mt_node_saved(n, 0) : NULL; /* input or output, per the declaration */
    if (n->n_saved && !x) return -1;
    (void)prm;
    switch ((int)n->iargs[0]) {
#define CASE_U(ID, name, kind, saves, var, node, deriv) case MT_U_##ID: r = deriv; break;
        MT_UNARY_OPS(CASE_U)
#undef CASE_U
    default: mt_error(MT_ERR_RUNTIME, "unary backward: unknown op %d", (int)n->iargs[0]); return -1;
    }
    gi[0] = mt_incref(r);
    return r ? 0 : -1;
}

static mt_node_vt unary_vts[MT_NUM_UNARY] = {
#define VT_U(ID, name, kind, saves, var, node, deriv) {node, unary_backward, NULL, true},
    MT_UNARY_OPS(VT_U)
#undef VT_U
};

/* the in-place forms with a node of their own (MT_UNARY_RESULT_NODES) */
static int unary_result_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    mt_tensor *g = go[0], *r = NULL, *x = mt_node_saved(n, 0);
    const double *prm = n->fargs;
    if (!x) return -1;
    switch ((int)n->iargs[0]) {
#define CASE_R(ID, node, saves, deriv) case MT_U_##ID: r = deriv; break;
        MT_UNARY_RESULT_NODES(CASE_R)
#undef CASE_R
    default: mt_error(MT_ERR_RUNTIME, "unary backward: unknown in-place op %d", (int)n->iargs[0]); return -1;
    }
    gi[0] = mt_incref(r);
    return r ? 0 : -1;
}
static const int8_t unary_result_saves[MT_NUM_UNARY] = {
#define SV_R(ID, node, saves, deriv) [MT_U_##ID] = MT_S_##saves,
    MT_UNARY_RESULT_NODES(SV_R)
#undef SV_R
};
static mt_node_vt unary_result_vts[MT_NUM_UNARY] = {
#define VT_R(ID, node, saves, deriv) [MT_U_##ID] = {node, unary_result_backward, NULL, true},
    MT_UNARY_RESULT_NODES(VT_R)
#undef VT_R
};

static void unary_record(int op, mt_tensor *a, mt_tensor *out, const double *prm, int nprm, bool inplace) {
    mt_node_vt *vt = inplace && unary_result_vts[op].name ? &unary_result_vts[op] : &unary_vts[op];
    if (!vt->name) return;
    mt_node *n = mt_autograd_record(vt, out, 1, &a);
    if (!n) return;
    n->iargs[0] = op;
    for (int i = 0; i < nprm && i < 4; i++) n->fargs[i] = prm[i];
    int sv = vt == &unary_vts[op] ? mt_unary_decls[op].saves : unary_result_saves[op];
    if (sv != MT_S_NONE) mt_node_save(n, 0, sv == MT_S_IN ? a : out, sv == MT_S_OUT);
}

/* The compute dtype of a unary op on dtype d (-1 with the error set); *identity: the op is the
   identity on d (rounding an integer, nan_to_num of an integer, sign of a bool). */
static int unary_compute_dtype(int op, const mt_tensor *a, bool *identity) {
    const mt_ew_decl *dc = &mt_unary_decls[op];
    mt_dtype d = a->dtype;
    bool fl = mt_is_floating(d);
    *identity = false;
    switch (dc->kind) {
    case MT_K_FLOAT: return fl ? (int)d : MT_FLOAT32;
    case MT_K_FLOATONLY: if (!fl) break; return d;
    case MT_K_SAMEB: return d == MT_BOOL ? MT_INT64 : (int)d;
    case MT_K_SAME:
        if (d == MT_BOOL && op == MT_U_NEG) {
            mt_error(MT_ERR_RUNTIME, "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                                     "to invert a mask, use the `~` or `logical_not()` operator instead.");
            return -1;
        }
        if (d == MT_BOOL && op == MT_U_RELU) { /* PyTorch's own message for this one */
            mt_error(MT_ERR_RUNTIME, "Boolean inputs not supported for relu");
            return -1;
        }
        if (d == MT_BOOL && op == MT_U_HARDTANH) {
            mt_error(MT_ERR_RUNTIME, "Bool inputs not supported for hardtanh");
            return -1;
        }
        if (d == MT_BOOL) break;
        return d;
    case MT_K_ROUND: if (d == MT_BOOL) break; *identity = !fl; return d;
    case MT_K_IDINT: *identity = !fl; return d;
    case MT_K_SIGN: *identity = d == MT_BOOL; return d;
    case MT_K_PRED: return d;
    case MT_K_INTEGER: if (fl) break; return d;
    default: break;
    }
    not_impl_dtype(dc->name, a, d);
    return -1;
}

static mt_tensor *unary_impl(int op, mt_tensor *a, const double *prm, int nprm, mt_tensor *self) {
    if (!a) return NULL;
    bool identity;
    int cti = unary_compute_dtype(op, a, &identity);
    if (cti < 0) return NULL;
    mt_dtype ct = (mt_dtype)cti, od = mt_unary_decls[op].kind == MT_K_PRED ? MT_BOOL : ct;
    if (self && od != self->dtype && category(od) > category(self->dtype))
        return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s", mt_type_name(od),
                        mt_type_name(self->dtype));
    mt_tensor *in = mt_cast(a, ct);
    if (!in) return NULL;
    mt_tensor *out;
    if (identity) {
        out = mt_empty_like(in);
        if (out && mt_copy_into(out, in) < 0) { mt_decref(out); out = NULL; }
    } else {
        out = mt_empty(in->shape, in->ndim, od, in->storage->device);
        if (out && mt_backend_of(in)->unary(op, out, in, prm) < 0) { mt_decref(out); out = NULL; }
    }
    mt_decref(in);
    if (!out) return NULL;
    unary_record(op, a, out, prm, nprm, self != NULL);
    return out;
}

mt_tensor *mt_unary(int op, mt_tensor *a) { return unary_impl(op, a, NULL, 0, NULL); }

static mt_tensor *unary_inplace(int op, mt_tensor *a, const double *prm, int nprm) {
    if (!a) return NULL;
    if (mt_check_inplace(a) < 0) return NULL;
    bool identity;
    int ct = unary_compute_dtype(op, a, &identity);
    if (ct < 0) return NULL;
    if (ct == (int)a->dtype && !identity && mt_unary_decls[op].kind != MT_K_PRED && !mt_inplace_needs_history(a, NULL)) {
        /* the kernel reads and writes each element in place */
        if (mt_backend_of(a)->unary(op, a, a, prm) < 0) return NULL;
        mt_bump_version(a);
        return mt_incref(a);
    }
    return mt_commit_inplace(a, unary_impl(op, a, prm, nprm, a));
}
mt_tensor *mt_unary_(int op, mt_tensor *a) { return unary_inplace(op, a, NULL, 0); }

mt_tensor *mt_unary_p(int op, mt_tensor *a, const double *prm, int nprm, bool inplace) {
    return inplace ? unary_inplace(op, a, prm, nprm) : unary_impl(op, a, prm, nprm, NULL);
}

mt_tensor *mt_clamp(mt_tensor *a, const mt_scalar *lo, const mt_scalar *hi, bool inplace) {
    if (!a) return NULL;
    if (!lo && !hi) return mt_error(MT_ERR_RUNTIME, "torch.clamp: At least one of 'min' or 'max' must not be None");
    /* float bounds on an integer tensor give a float result */
    mt_dtype rt = a->dtype;
    if (lo) rt = mt_promote_types(rt, mt_result_type2(a, NULL, NULL, lo));
    if (hi) rt = mt_promote_types(rt, mt_result_type2(a, NULL, NULL, hi));
    if (rt == MT_BOOL) return not_impl_dtype("clamp", a, MT_BOOL);
    mt_scalar vlo, vhi; /* the bounds in the result dtype: an integer bound must fit it */
    if ((lo && mt_scalar_to(*lo, rt, &vlo) < 0) || (hi && mt_scalar_to(*hi, rt, &vhi) < 0)) return NULL;
    double params[4] = {lo != NULL, lo ? (mt_is_integral(rt) ? (double)vlo.i : vlo.f) : 0,
                        hi != NULL, hi ? (mt_is_integral(rt) ? (double)vhi.i : vhi.f) : 0};
    /* min(max(x, lo), hi): with lo > hi every value becomes hi (the node keeps the bounds as given,
       so the gradient is zero everywhere, as PyTorch's) */
    double kparams[4] = {params[0], params[1], params[2], params[3]};
    if (lo && hi && params[1] > params[3]) kparams[1] = params[3];
    if (inplace) {
        if (mt_check_inplace(a) < 0) return NULL;
        if (rt != a->dtype)
            return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s", mt_type_name(rt),
                            mt_type_name(a->dtype));
    }
    mt_tensor *in = mt_cast(a, rt);
    if (!in) return NULL;
    mt_tensor *out = mt_empty_like(in);
    if (out && mt_backend_of(in)->unary(MT_U_CLAMP, out, in, kparams) < 0) { mt_decref(out); out = NULL; }
    /* a NaN bound makes every value NaN, as min(max(x, lo), hi) does in PyTorch */
    if (out && mt_is_floating(rt) && ((lo && params[1] != params[1]) || (hi && params[3] != params[3])) &&
        mt_fill_(out, mt_sf(NAN)) < 0) { mt_decref(out); out = NULL; }
    mt_decref(in);
    if (!out) return NULL;
    unary_record(MT_U_CLAMP, a, out, params, 4, false);
    if (inplace) return mt_commit_inplace(a, out);
    return out;
}

/* clamp(a, lo, hi) with tensor bounds = minimum(maximum(a, lo), hi) in the promoted dtype, with
   torch's gradient (clamp_backward_min_max): a where lo <= a <= hi; lo where a < lo and lo < hi;
   hi where a > hi or hi < lo (with one bound: a where inside it, the bound where outside) */
static mt_tensor *grad_like(mt_tensor *raw, const mt_tensor *like) { /* raw summed to like's shape and dtype */
    mt_tensor *s = raw ? mt_sum_to(raw, like->shape, like->ndim) : NULL;
    if (s && s->dtype != like->dtype) { mt_tensor *c = mt_cast(s, like->dtype); mt_decref(s); s = c; }
    return s;
}
static int clamp_t_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    bool has_lo = n->iargs[1], has_hi = n->iargs[2];
    mt_tensor *g = go[0], *a = mt_node_saved(n, 0), *lo = NULL, *hi = NULL;
    if (!a || (has_lo && !(lo = mt_node_saved(n, 1))) || (has_hi && !(hi = mt_node_saved(n, 2)))) return -1;
    mt_tensor *zero = P(mt_full(NULL, 0, mt_sf(0.0), g->dtype, g->storage->device));
    mt_tensor *inside = lo && hi ? AND(B_(GE, a, lo), B_(LE, a, hi)) : lo ? B_(GE, a, lo) : B_(LE, a, hi);
    mt_tensor *parts[3] = {WHERE(inside, g, zero), NULL, NULL}, *likes[3] = {a, lo, hi};
    if (lo) parts[1] = WHERE(hi ? AND(B_(LT, a, lo), B_(LT, lo, hi)) : B_(LT, a, lo), g, zero);
    if (hi) parts[2] = WHERE(lo ? OR(B_(GT, a, hi), B_(LT, hi, lo)) : B_(GT, a, hi), g, zero);
    for (int j = 0, k = 0; j < 3; j++) {
        if (!likes[j]) continue;
        if (mt_node_needs(n, k) && !(gi[k] = grad_like(parts[j], likes[j]))) return -1;
        k++;
    }
    return 0;
}
static const mt_node_vt clamp_t_vt = {"ClampBackward0", clamp_t_backward, NULL, true};

mt_tensor *mt_clamp_t(mt_tensor *a, mt_tensor *lo, mt_tensor *hi, bool inplace) {
    if (!a) return NULL;
    if (!lo && !hi) return mt_error(MT_ERR_RUNTIME, "torch.clamp: At least one of 'min' or 'max' must not be None");
    if ((lo && mt_check_same_device(a, lo) < 0) || (hi && mt_check_same_device(a, hi) < 0)) return NULL;
    mt_dtype rt = lo ? mt_result_type2(a, NULL, lo, NULL) : a->dtype;
    if (hi) rt = mt_promote_types(rt, mt_result_type2(a, NULL, hi, NULL));
    if (rt == MT_BOOL) return not_impl_dtype("clamp", a, MT_BOOL);
    if (inplace) {
        if (mt_check_inplace(a) < 0 || mt_check_no_partial_overlap(a, lo) < 0 || mt_check_no_partial_overlap(a, hi) < 0)
            return NULL;
        if (rt != a->dtype && category(rt) > category(a->dtype))
            return mt_error(MT_ERR_RUNTIME, "result type %s can't be cast to the desired output type %s", mt_type_name(rt),
                            mt_type_name(a->dtype));
    }
    int mark = mt_pool_mark();
    mt_tensor *r = mt_cast(a, rt);
    bool grad_was = mt_grad_enabled;
    mt_grad_enabled = false; /* one ClampBackward0 node below, not the maximum / minimum nodes */
    if (r && lo) { mt_tensor *m = mt_binary(MT_B_MAXIMUM, r, P(mt_cast(lo, rt))); mt_decref(r); r = m; }
    if (r && hi) { mt_tensor *m = mt_binary(MT_B_MINIMUM, r, P(mt_cast(hi, rt))); mt_decref(r); r = m; }
    mt_grad_enabled = grad_was;
    mt_pool_drain(mark);
    if (!r) return NULL;
    mt_tensor *ins[3] = {a, lo ? lo : hi, lo ? hi : NULL};
    mt_node *n = mt_autograd_record(&clamp_t_vt, r, 1 + (lo != NULL) + (hi != NULL), ins);
    if (n) {
        n->iargs[1] = lo != NULL;
        n->iargs[2] = hi != NULL;
        mt_node_save(n, 0, a, false);
        if (lo) mt_node_save(n, 1, lo, false);
        if (hi) mt_node_save(n, 2, hi, false);
    }
    return inplace ? mt_commit_inplace(a, r) : r;
}

/* ====================== binary ====================== */
/* iargs: [0] op, [1] flags (bit0 scalar operand, bit1 scalar first), [2] saved-slot mask (slot 0 a,
   1 b, 2 the output), [3] compute dtype */
static int binary_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    int op = (int)n->iargs[0];
    bool scalar = n->iargs[1] & 1, sfirst = n->iargs[1] & 2;
    mt_tensor *g = go[0], *a = NULL, *b = NULL, *y = NULL, *ga = NULL, *gb = NULL;
    mt_tensor **slot[3] = {&a, &b, &y};
    for (int k = 0; k < 3; k++)
        if ((n->iargs[2] >> k) & 1 && !(*slot[k] = mt_node_saved(n, k))) return -1;
    if (scalar) { /* the scalar operand as a 0-d tensor of the compute dtype (converted as a cast: 1e20 is inf in
                     float16, as in torch's backward) */
        mt_dtype ct = (mt_dtype)n->iargs[3];
        mt_tensor *s = mt_is_narrow(ct) ? P(mt_cast(P(mt_full(NULL, 0, n->scalar, n->scalar.dtype, g->storage->device)), ct))
                                        : P(mt_full(NULL, 0, n->scalar, ct, g->storage->device));
        if (!s) return -1;
        if (sfirst) a = s;
        else b = s;
    }
    bool need_a = scalar ? !sfirst && mt_node_needs(n, 0) : mt_node_needs(n, 0);
    bool need_b = scalar ? sfirst && mt_node_needs(n, 0) : mt_node_needs(n, 1);
    switch (op) {
#define CASE_B(ID, name, kind, da_uses, db_uses, var, node, node_s, node_sf, da, db) \
    case MT_B_##ID: if (need_a) ga = da; if (need_b) gb = db; break;
        MT_BINARY_OPS(CASE_B)
#undef CASE_B
    default: break;
    }
    if ((need_a && !ga) || (need_b && !gb)) {
        if (mt_err_kind() == MT_ERR_NONE)
            mt_error(MT_ERR_RUNTIME, "derivative of %s reads an operand its declaration does not save",
                     mt_binary_decls[op].name);
        return -1;
    }
    if (scalar) {
        gi[0] = mt_node_grad_for(n, 0, mt_incref(sfirst ? gb : ga));
        return gi[0] ? 0 : -1;
    }
    gi[0] = ga ? mt_node_grad_for(n, 0, mt_incref(ga)) : NULL;
    gi[1] = gb ? mt_node_grad_for(n, 1, mt_incref(gb)) : NULL;
    if ((ga && !gi[0]) || (gb && !gi[1])) return -1;
    return 0;
}

/* one node type per operand form; a form without its own torch name uses the tensor-tensor one */
#define VT_B(ID, name, kind, da_uses, db_uses, var, node, node_s, node_sf, da, db) {node, binary_backward, NULL, true},
static const mt_node_vt binary_vts[MT_NUM_BINARY] = {MT_BINARY_OPS(VT_B)};
#undef VT_B
#define VT_B(ID, name, kind, da_uses, db_uses, var, node, node_s, node_sf, da, db) \
    {(node_s) ? (node_s) : (node), binary_backward, NULL, true},
static const mt_node_vt binary_vts_s[MT_NUM_BINARY] = {MT_BINARY_OPS(VT_B)};
#undef VT_B
#define VT_B(ID, name, kind, da_uses, db_uses, var, node, node_s, node_sf, da, db) \
    {(node_sf) ? (node_sf) : (node), binary_backward, NULL, true},
static const mt_node_vt binary_vts_sf[MT_NUM_BINARY] = {MT_BINARY_OPS(VT_B)};
#undef VT_B

/* The compute dtype of a binary op (-1 with the error set). */
static int binary_compute_dtype(int op, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s) {
    const mt_ew_decl *dc = &mt_binary_decls[op];
    mt_dtype ct = b ? mt_result_type2(a, NULL, b, NULL) : mt_result_type2(a, NULL, NULL, s);
    bool fl = mt_is_floating(ct);
    if (op == MT_B_SUB && ct == MT_BOOL) {
        mt_error(MT_ERR_RUNTIME, "Subtraction, the `-` operator, with two bool tensors is not supported. "
                                 "Use the `^` or `logical_xor()` operator instead.");
        return -1;
    }
    if (op == MT_B_SUB && (a->dtype == MT_BOOL || (b && b->dtype == MT_BOOL) || (!b && s->dtype == MT_BOOL))) {
        mt_error(MT_ERR_RUNTIME, "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                                 "trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        return -1;
    }
    switch (dc->kind) {
    case MT_K_ARITH:
        if (ct == MT_BOOL && (op == MT_B_FLOOR_DIVIDE || op == MT_B_REMAINDER || op == MT_B_FMOD || (op == MT_B_POW && b)))
            break; /* (a bool tensor to a bool scalar power is defined, as in torch) */
        return ct;
    case MT_K_PRED: return ct;
    case MT_K_FLOAT: return fl ? (int)ct : MT_FLOAT32;
    case MT_K_FLOATONLY: if (!fl) break; return ct;
    case MT_K_INTEGER: if (fl) break; return ct;
    case MT_K_INTONLY: if (fl || ct == MT_BOOL) break; return ct;
    case MT_K_SAMEDT:
        if (b && a->dtype != b->dtype) {
            mt_error(MT_ERR_RUNTIME, "%s is not yet implemented for tensors with different dtypes.", dc->name);
            return -1;
        }
        return ct;
    default: break;
    }
    not_impl_dtype(dc->name, a, ct);
    return -1;
}

/* Shared by the out-of-place and in-place forms. b == NULL: scalar operand s. alpha_ct >= 0: the compute dtype,
   given by mt_add_alpha, whose b (alpha * other) is float32 when that is float16 / bfloat16. */
static mt_tensor *binary_impl(int op, mt_tensor *a, mt_tensor *b, const mt_scalar *s, bool sfirst, mt_tensor *self,
                              int alpha_ct) {
    if (!a) return NULL;
    if (mt_check_same_device(a, b) < 0) return NULL;
    const mt_ew_decl *dc = &mt_binary_decls[op];
    int cti = alpha_ct >= 0 ? alpha_ct : binary_compute_dtype(op, a, b, s);
    if (cti < 0) return NULL;
    mt_dtype ct = (mt_dtype)cti, od = dc->kind == MT_K_PRED ? MT_BOOL : ct;
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
        if (!mt_is_floating(ct)) { sv.i = s->dtype == MT_FLOAT64 ? (int64_t)s->f : s->i; sv.dtype = MT_INT64; }
        else { sv.f = s->dtype == MT_FLOAT64 ? s->f : (double)s->i; sv.dtype = MT_FLOAT64; }
        if (op == MT_B_POW && mt_is_integral(ct) && !sfirst && sv.i < 0)
            return mt_error(MT_ERR_RUNTIME, "Integers to negative integer powers are not allowed.");
    }
    bool grad = mt_grad_enabled && dc->node && (a->requires_grad || (b && b->requires_grad));
    /* b in float32, not rounded into a float16 / bfloat16 compute dtype (the narrow kernels compute in float32):
       alpha * other of mt_add_alpha, and a 0-d b of another dtype in torch's CPU mul and divisions, which read it
       in float as they do a Python number (narrow.c's opmath_scalar; a 0-d first operand is rounded) */
    bool b_wide = b && mt_is_narrow(ct) && mt_is_floating(ct) && a->storage->device.type == MT_CPU &&
                  (alpha_ct >= 0 || (b->ndim == 0 && b->dtype != ct &&
                                     (op == MT_B_MUL || op == MT_B_DIV || op == MT_B_FLOOR_DIVIDE)));
    mt_tensor *ca = mt_cast(a, ct), *cb = b ? mt_cast(b, b_wide ? MT_FLOAT32 : ct) : NULL;
    if (!ca || (b && !cb)) { mt_decref(ca); mt_decref(cb); return NULL; }
    mt_tensor *out;
    /* fast path: in place into self when no history is needed and the operands' dtype already matches */
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
        const mt_node_vt *vt = b ? &binary_vts[op] : sfirst ? &binary_vts_sf[op] : &binary_vts_s[op];
        mt_tensor *ins[2] = {a, b};
        mt_node *n = mt_autograd_record(vt, out, b ? 2 : 1, ins);
        if (n) {
            n->iargs[0] = op;
            n->iargs[1] = (b ? 0 : 1) | (sfirst ? 2 : 0);
            n->iargs[3] = ct;
            n->scalar = sv;
            mt_node_set_meta(n, 0, a);
            if (b) mt_node_set_meta(n, 1, b);
            /* the operands in the derivative's positions: a op b (a scalar one is NULL here) */
            mt_tensor *pa = b || !sfirst ? a : NULL, *pb = b ? b : sfirst ? a : NULL;
            int uses = ((pa && pa->requires_grad) ? dc->saves & 0xf : 0) | ((pb && pb->requires_grad) ? dc->saves >> 4 : 0);
            int mask = 0;
            if ((uses & U_A) && pa) { mt_node_save(n, 0, pa, false); mask |= 1; }
            if ((uses & U_B) && pb) { mt_node_save(n, 1, pb, false); mask |= 2; }
            if (uses & U_Y) { mt_node_save(n, 2, out, true); mask |= 4; }
            n->iargs[2] = mask;
        }
    }
    if (self) return mt_commit_inplace(self, out);
    return out;
}

mt_tensor *mt_binary(int op, mt_tensor *a, mt_tensor *b) {
    if (!a || !b) return NULL;
    return binary_impl(op, a, b, NULL, false, NULL, -1);
}
mt_tensor *mt_binary_s(int op, mt_tensor *a, mt_scalar s, bool scalar_first) {
    return binary_impl(op, a, NULL, &s, scalar_first, NULL, -1);
}
mt_tensor *mt_binary_(int op, mt_tensor *self, mt_tensor *other, const mt_scalar *s) {
    if (!self || (!other && !s)) return NULL;
    if (mt_check_inplace(self) < 0 || mt_check_no_partial_overlap(self, other) < 0) return NULL;
    return binary_impl(op, self, other, s, false, self, -1);
}

/* add/sub(a, other, alpha): a +- alpha * other in the dtype of a +- other, other the tensor b or (b NULL) the
   number s. torch converts alpha and a number other into that dtype; with float16 / bfloat16 its vectorized
   kernel takes the sum in float32 (fmadd) and rounds once, which alpha * other in float32 (exact: a product of two
   narrow values) gives here. (torch's scalar path, for tensors under 32 elements, rounds alpha * other into the
   dtype first; this follows the vectorized one.) */
mt_tensor *mt_add_alpha(int op, mt_tensor *a, mt_tensor *b, const mt_scalar *s, mt_scalar alpha, bool inplace) {
    if (!a || (!b && !s)) return NULL;
    if (inplace && (mt_check_inplace(a) < 0 || mt_check_no_partial_overlap(a, b) < 0)) return NULL;
    int rti = binary_compute_dtype(op, a, b, s); /* (with its errors: bool subtraction) */
    if (rti < 0) return NULL;
    mt_dtype rt = (mt_dtype)rti;
    bool nf = mt_is_narrow(rt) && mt_is_floating(rt);
    double al = alpha.dtype == MT_FLOAT64 ? alpha.f : (double)alpha.i;
    if (nf) alpha = mt_sf(in_float_dtype(rt, al));
    int mark = mt_pool_mark();
    /* a number converted unchecked, as torch's wrapped number (300 wraps in int8, 1e6 is inf in float16) */
    mt_tensor *o = b ? P(mt_to_dtype(b, rt)) : P(mt_cast(P(mt_full(NULL, 0, *s, s->dtype, a->storage->device)), rt));
    if (nf) o = P(mt_to_dtype(o, MT_FLOAT32));
    mt_tensor *scaled = o ? mt_binary_s(MT_B_MUL, o, alpha, false) : NULL;
    mt_pool_drain(mark);
    mt_tensor *r = scaled ? binary_impl(op, a, scaled, NULL, false, inplace ? a : NULL, rt) : NULL;
    mt_decref(scaled);
    return r;
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
static const mt_node_vt where_vt = {"WhereBackward0", where_backward, NULL, true};

mt_tensor *mt_where_scalar(const mt_scalar *s, mt_dtype rt, mt_device dev) {
    mt_scalar v;
    /* c10's checked conversion (1e39 does not fit float32, 300 not int8), except that an integer goes into
       float16 / bfloat16 unchecked (-2^31 - 1 becomes -inf there, as in torch) */
    if (!(s->dtype != MT_FLOAT64 && mt_is_narrow(rt) && mt_is_floating(rt))) {
        if (mt_scalar_to(*s, rt, &v) < 0) return NULL;
        return mt_full(NULL, 0, v, rt, dev);
    }
    mt_tensor *d = mt_full(NULL, 0, *s, MT_FLOAT64, dev), *r = d ? mt_cast(d, rt) : NULL;
    mt_decref(d);
    return r;
}

mt_tensor *mt_where(mt_tensor *cond, mt_tensor *a, mt_tensor *b) {
    if (!cond || !a || !b) return NULL;
    if (mt_check_same_device(cond, a) < 0 || mt_check_same_device(cond, b) < 0) return NULL;
    /* a uint8 condition is cond != 0 (deprecated in torch; the bindings give its UserWarning) */
    if (cond->dtype != MT_BOOL && cond->dtype != MT_UINT8)
        return mt_error(MT_ERR_RUNTIME, "where expected condition to be a boolean tensor, but got a tensor with dtype %s",
                        mt_type_name(cond->dtype));
    mt_dtype ct = mt_result_type2(a, NULL, b, NULL);
    int64_t s1[MT_MAX_DIMS], shape[MT_MAX_DIMS];
    int n1, nd;
    if (mt_broadcast_shapes(cond->shape, cond->ndim, a->shape, a->ndim, s1, &n1) < 0) return NULL;
    if (mt_broadcast_shapes(s1, n1, b->shape, b->ndim, shape, &nd) < 0) return NULL;
    mt_tensor *bc = cond->dtype == MT_BOOL ? mt_incref(cond) : mt_cast(cond, MT_BOOL);
    mt_tensor *ca = mt_cast(a, ct), *cb = mt_cast(b, ct);
    mt_tensor *out = bc && ca && cb ? mt_empty(shape, nd, ct, a->storage->device) : NULL;
    if (out && mt_backend_of(out)->where(out, bc, ca, cb) < 0) { mt_decref(out); out = NULL; }
    mt_decref(ca);
    mt_decref(cb);
    if (!out) { mt_decref(bc); return NULL; }
    mt_tensor *ins[3] = {cond, a, b};
    mt_node *n = mt_autograd_record(&where_vt, out, 3, ins);
    if (n) {
        mt_node_save(n, 0, bc, false);
        mt_node_set_meta(n, 0, a);
        mt_node_set_meta(n, 1, b);
    }
    mt_decref(bc);
    return out;
}
