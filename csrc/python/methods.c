/* Tensor methods. Most take the tensor as self; minitorch/__init__.py re-exports
 * many of them as functions (minitorch.exp(x) is TensorBase.exp). */
#include "py.h"
#include "../core/random.h"
#include "../core/half.h"

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL MT_ARRAY_API
#include <numpy/arrayobject.h>

#include <math.h>
#include <string.h>

PyObject *mt_py_item(PyObject *self, PyObject *unused);

#define KW (PyCFunction)(void (*)(void))

#define SELF T(self)

/* ---------------- elementwise, generated from the declarations (ops/elementwise_ops.h) ----------------
 * Each declared op gets a method and an in-place method here; the variants column decides which
 * of them the Tensor type exposes (mt_py_build_methods), and ops marked C have hand-written
 * bindings in the table below (extra arguments). */
typedef struct { const char *name, *name_; PyCFunction fn, fn_; } ew_binding;

#define MU(ID, name, ...)                                                                                   \
    static PyObject *mu_##name(PyObject *self, PyObject *u) { (void)u; return mt_py_wrap(mt_unary(MT_U_##ID, SELF)); } \
    static PyObject *mu_##name##_(PyObject *self, PyObject *u) { (void)u; return mt_py_wrap(mt_unary_(MT_U_##ID, SELF)); }
MT_UNARY_OPS(MU)
#undef MU
#define MU(ID, name, ...) {#name, #name "_", mu_##name, mu_##name##_},
static const ew_binding unary_bindings[MT_NUM_UNARY] = {MT_UNARY_OPS(MU)};
#undef MU

static int opt_scalar(PyObject *o, mt_scalar *s, mt_scalar **p) {
    if (!o || o == Py_None) { *p = NULL; return 0; }
    *p = s;
    if (PyTensor_Check(o)) {
        PyObject *v = mt_py_item(o, NULL);
        if (!v) return -1;
        int rc = mt_py_scalar(v, s);
        Py_DECREF(v);
        return rc;
    }
    return mt_py_scalar(o, s);
}

static PyObject *clamp_impl(PyObject *self, PyObject *args, PyObject *kw, bool inplace) {
    static char *kws[] = {"min", "max", NULL};
    PyObject *lo = NULL, *hi = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO", kws, &lo, &hi)) return NULL;
    if (lo == Py_None) lo = NULL;
    if (hi == Py_None) hi = NULL;
    if ((lo && PyTensor_Check(lo)) || (hi && PyTensor_Check(hi))) { /* tensor bounds: broadcast, promoted */
        if ((lo && !PyTensor_Check(lo)) || (hi && !PyTensor_Check(hi))) {
            PyErr_SetString(PyExc_TypeError, "clamp(): min and max must both be Tensors or both be numbers");
            return NULL;
        }
        return mt_py_wrap(mt_clamp_t(SELF, lo ? T(lo) : NULL, hi ? T(hi) : NULL, inplace));
    }
    mt_scalar slo, shi, *plo, *phi;
    if (opt_scalar(lo, &slo, &plo) < 0 || opt_scalar(hi, &shi, &phi) < 0) return NULL;
    return mt_py_wrap(mt_clamp(SELF, plo, phi, inplace));
}
static PyObject *m_clamp(PyObject *self, PyObject *args, PyObject *kw) { return clamp_impl(self, args, kw, false); }
static PyObject *m_clamp_(PyObject *self, PyObject *args, PyObject *kw) { return clamp_impl(self, args, kw, true); }

static PyObject *logit_impl(PyObject *self, PyObject *args, PyObject *kw, bool inplace) {
    static char *kws[] = {"eps", NULL};
    PyObject *eps = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kws, &eps)) return NULL;
    double prm[2] = {eps != Py_None, 0};
    if (eps != Py_None && (prm[1] = PyFloat_AsDouble(eps)) == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_unary_p(MT_U_LOGIT, SELF, prm, 2, inplace));
}
static PyObject *m_logit(PyObject *s, PyObject *a, PyObject *k) { return logit_impl(s, a, k, false); }
static PyObject *m_logit_(PyObject *s, PyObject *a, PyObject *k) { return logit_impl(s, a, k, true); }

static PyObject *nan_to_num_impl(PyObject *self, PyObject *args, PyObject *kw, bool inplace) {
    static char *kws[] = {"nan", "posinf", "neginf", NULL};
    PyObject *o[3] = {Py_None, Py_None, Py_None};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO", kws, &o[0], &o[1], &o[2])) return NULL;
    /* the defaults: 0, and the largest / lowest finite value of the tensor's dtype */
    double big = mt_float_max(SELF->dtype);
    double prm[3] = {0.0, big, -big};
    for (int i = 0; i < 3; i++)
        if (o[i] != Py_None && (prm[i] = PyFloat_AsDouble(o[i])) == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_unary_p(MT_U_NAN_TO_NUM, SELF, prm, 3, inplace));
}
static PyObject *m_nan_to_num(PyObject *s, PyObject *a, PyObject *k) { return nan_to_num_impl(s, a, k, false); }
static PyObject *m_nan_to_num_(PyObject *s, PyObject *a, PyObject *k) { return nan_to_num_impl(s, a, k, true); }

/* the activations (MT_ACTIVATION_OPS): their parameters positionally, each a number, defaulting as torch's
   functionals do; minitorch/nn/_functional_*.py pass them all */
static PyObject *act_impl(int op, int nmax, const double *dflt, PyObject *self, PyObject *args, bool inplace) {
    Py_ssize_t na = PyTuple_GET_SIZE(args);
    if (na > nmax) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", mt_unary_decls[op].name, nmax, na);
        return NULL;
    }
    double prm[4] = {dflt[0], dflt[1], dflt[2], dflt[3]};
    for (Py_ssize_t i = 0; i < na; i++)
        if ((prm[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(args, i))) == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_unary_p(op, SELF, prm, 4, inplace));
}
#define ACT(name, OP, N, ...)                                                                                   \
    static const double dflt_##name[4] = {__VA_ARGS__};                                                         \
    static PyObject *m_##name(PyObject *s, PyObject *a) { return act_impl(MT_U_##OP, N, dflt_##name, s, a, false); } \
    static PyObject *m_##name##_(PyObject *s, PyObject *a) { return act_impl(MT_U_##OP, N, dflt_##name, s, a, true); }
ACT(_leaky_relu, LEAKY_RELU, 1, 0.01)
ACT(_elu, ELU, 4, 1.0, 1.0, 1.0, 1.0)
ACT(_celu, CELU, 4, 1.0, 1.0, 1.0, 1.0)
ACT(_silu, SILU, 0, 0)
ACT(_mish, MISH, 0, 0)
ACT(_softplus, SOFTPLUS, 2, 1.0, 20.0)
ACT(_hardtanh, HARDTANH, 2, -1.0, 1.0)
ACT(_hardswish, HARDSWISH, 0, 0)
ACT(_hardsigmoid, HARDSIGMOID, 0, 0)
ACT(_log_sigmoid, LOG_SIGMOID, 0, 0)
ACT(_softshrink, SOFTSHRINK, 1, 0.5)
ACT(_hardshrink, HARDSHRINK, 1, 0.5)
ACT(_threshold, THRESHOLD, 2, 0.0, 0.0)
#undef ACT

/* ---------------- binary ---------------- */
static PyObject *binary_any(int op, PyObject *self, PyObject *other, bool inplace) {
    if (PyTensor_Check(other)) return mt_py_wrap(inplace ? mt_binary_(op, SELF, T(other), NULL) : mt_binary(op, SELF, T(other)));
    mt_scalar s;
    if (!(mt_binary_decls[op].variants & MT_V_S)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'other' (position 1) must be Tensor, not %s", mt_binary_decls[op].name,
                     Py_TYPE(other)->tp_name);
        return NULL;
    }
    if (!mt_py_is_scalar(other)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'other' must be Tensor or Number, not %s", mt_binary_decls[op].name,
                     Py_TYPE(other)->tp_name);
        return NULL;
    }
    if (mt_py_scalar(other, &s) < 0) return NULL;
    return mt_py_wrap(inplace ? mt_binary_(op, SELF, NULL, &s) : mt_binary_s(op, SELF, s, false));
}

/* add/sub with alpha: mt_add_alpha */
static PyObject *addsub(int op, PyObject *self, PyObject *args, PyObject *kw, bool inplace) {
    static char *kws[] = {"other", "alpha", NULL};
    PyObject *other, *alpha = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O", kws, &other, &alpha)) return NULL;
    if (alpha && PyLong_Check(alpha)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(alpha, &overflow);
        if (overflow) { PyErr_SetString(PyExc_OverflowError, "int too big to convert"); return NULL; }
        if (v == -1 && PyErr_Occurred()) return NULL;
        if (v == 1) alpha = NULL;
    }
    if (!alpha) return binary_any(op, self, other, inplace);
    if (PyFloat_Check(alpha) && !mt_is_floating(SELF->dtype) &&
        (PyTensor_Check(other) ? !mt_is_floating(T(other)->dtype) : !PyFloat_Check(other))) {
        PyErr_SetString(PyExc_RuntimeError, "For integral input tensors, argument alpha must not be a floating point number.");
        return NULL;
    }
    mt_scalar a, s;
    if (mt_py_scalar(alpha, &a) < 0) return NULL;
    if (mt_py_is_scalar(other)) {
        if (mt_py_scalar(other, &s) < 0) return NULL;
        return mt_py_wrap(mt_add_alpha(op, SELF, NULL, &s, a, inplace));
    }
    mt_tensor *o = mt_py_as_tensor(other, SELF);
    if (!o) return NULL;
    PyObject *r = mt_py_wrap(mt_add_alpha(op, SELF, o, NULL, a, inplace));
    mt_decref(o);
    return r;
}
static PyObject *m_add(PyObject *s, PyObject *a, PyObject *k) { return addsub(MT_B_ADD, s, a, k, false); }
static PyObject *m_add_(PyObject *s, PyObject *a, PyObject *k) { return addsub(MT_B_ADD, s, a, k, true); }
static PyObject *m_sub(PyObject *s, PyObject *a, PyObject *k) { return addsub(MT_B_SUB, s, a, k, false); }
static PyObject *m_sub_(PyObject *s, PyObject *a, PyObject *k) { return addsub(MT_B_SUB, s, a, k, true); }

static PyObject *div_impl(PyObject *self, PyObject *args, PyObject *kw, bool inplace) {
    static char *kws[] = {"other", "rounding_mode", NULL};
    PyObject *other;
    const char *mode = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|z", kws, &other, &mode)) return NULL;
    if (!mode) return binary_any(MT_B_DIV, self, other, inplace);
    if (!strcmp(mode, "floor")) return binary_any(MT_B_FLOOR_DIVIDE, self, other, inplace);
    if (!strcmp(mode, "trunc")) {
        PyObject *q = binary_any(MT_B_DIV, self, other, false);
        if (!q) return NULL;
        mt_tensor *t = mt_unary(MT_U_TRUNC, T(q));
        Py_DECREF(q);
        if (t && !mt_is_floating(SELF->dtype) && (!PyTensor_Check(other) || !mt_is_floating(T(other)->dtype)) &&
            !PyFloat_Check(other)) {
            mt_tensor *c = mt_to_dtype(t, mt_promote_types(SELF->dtype, PyTensor_Check(other) ? T(other)->dtype : MT_INT64));
            mt_decref(t);
            t = c;
        }
        if (inplace && t) { mt_tensor *r = mt_copy_(SELF, t); mt_decref(t); return mt_py_wrap(r); }
        return mt_py_wrap(t);
    }
    PyErr_Format(PyExc_ValueError, "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '%s'", mode);
    return NULL;
}
static PyObject *m_div(PyObject *s, PyObject *a, PyObject *k) { return div_impl(s, a, k, false); }
static PyObject *m_div_(PyObject *s, PyObject *a, PyObject *k) { return div_impl(s, a, k, true); }

#define MB(ID, name, ...)                                                                                   \
    static PyObject *mb_##name(PyObject *self, PyObject *o) { return binary_any(MT_B_##ID, self, o, false); } \
    static PyObject *mb_##name##_(PyObject *self, PyObject *o) { return binary_any(MT_B_##ID, self, o, true); }
MT_BINARY_OPS(MB)
#undef MB
#define MB(ID, name, ...) {#name, #name "_", mb_##name, mb_##name##_},
static const ew_binding binary_bindings[MT_NUM_BINARY] = {MT_BINARY_OPS(MB)};
#undef MB

static PyObject *m_rsub(PyObject *self, PyObject *o) {
    mt_scalar s;
    if (PyTensor_Check(o)) return mt_py_wrap(mt_binary(MT_B_SUB, T(o), SELF));
    if (mt_py_scalar(o, &s) < 0) return NULL;
    return mt_py_wrap(mt_binary_s(MT_B_SUB, SELF, s, true));
}

int mt_py_where_cond_warn(const mt_tensor *c) {
    static bool warned;
    if (!c || c->dtype != MT_UINT8 || warned) return 0;
    warned = true;
    return PyErr_WarnEx(PyExc_UserWarning, "where received a uint8 condition tensor. This behavior is deprecated and "
                        "will be removed in a future version of PyTorch. Use a boolean condition instead.", 1);
}

static PyObject *m_where(PyObject *self, PyObject *args) {
    PyObject *cond, *other;
    if (!PyArg_ParseTuple(args, "OO", &cond, &other)) return NULL;
    mt_tensor *c = mt_py_as_tensor(cond, NULL), *o = NULL;
    if (mt_py_where_cond_warn(c) < 0) { mt_decref(c); return NULL; }
    if (c && mt_py_is_scalar(other)) { /* a Python number: in the result dtype, checked as torch's */
        mt_scalar s;
        if (mt_py_scalar(other, &s) == 0) o = mt_where_scalar(&s, mt_result_type2(SELF, NULL, NULL, &s), SELF->storage->device);
        if (!o && !PyErr_Occurred()) mt_py_raise();
    } else if (c) {
        o = mt_py_as_tensor(other, SELF);
    }
    PyObject *r = o ? mt_py_wrap(mt_where(c, SELF, o)) : NULL;
    mt_decref(c);
    mt_decref(o);
    return r;
}

/* ---------------- conversion / info ---------------- */
/* a dim argument: an int (or an object with __index__), else torch's TypeError */
static int dim_arg(const char *fn, PyObject *o, long long *d) {
    if (PyBool_Check(o) || !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'dim' (position 1) must be int, not %s", fn, Py_TYPE(o)->tp_name);
        return -1;
    }
    *d = PyLong_AsLongLong(o);
    return *d == -1 && PyErr_Occurred() ? -1 : 0;
}

/* size(d) and stride(d) of a 0-d tensor are errors in PyTorch, unlike the dim of a reduction */
static int dim_of_dims(const mt_tensor *t, long long d) {
    if (t->ndim == 0) {
        PyErr_Format(PyExc_IndexError, "Dimension specified as %lld but tensor has no dimensions", d);
        return -1;
    }
    int w = mt_wrap_dim(d, t->ndim);
    if (w < 0) mt_py_raise();
    return w;
}

static PyObject *m_size(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dim", NULL};
    PyObject *dim = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kws, &dim)) return NULL;
    if (dim == Py_None) return mt_py_size(SELF->shape, SELF->ndim);
    long long d;
    if (dim_arg("size", dim, &d) < 0) return NULL;
    int w = dim_of_dims(SELF, d);
    return w < 0 ? NULL : PyLong_FromLongLong(SELF->shape[w]);
}
static PyObject *m_stride(PyObject *self, PyObject *args) {
    PyObject *dim = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &dim)) return NULL;
    if (dim == Py_None) {
        PyObject *t = PyTuple_New(SELF->ndim);
        for (int i = 0; i < SELF->ndim; i++) PyTuple_SET_ITEM(t, i, PyLong_FromLongLong(SELF->strides[i]));
        return t;
    }
    long long d;
    if (dim_arg("stride", dim, &d) < 0) return NULL;
    int w = dim_of_dims(SELF, d);
    return w < 0 ? NULL : PyLong_FromLongLong(SELF->strides[w]);
}
static PyObject *m_dim(PyObject *self, PyObject *u) { (void)u; return PyLong_FromLong(SELF->ndim); }
static PyObject *m_numel(PyObject *self, PyObject *u) { (void)u; return PyLong_FromLongLong(mt_numel(SELF)); }
static PyObject *m_element_size(PyObject *self, PyObject *u) { (void)u; return PyLong_FromSize_t(mt_dtype_sizes[SELF->dtype]); }
static PyObject *m_storage_offset(PyObject *self, PyObject *u) { (void)u; return PyLong_FromLongLong(SELF->offset); }
static PyObject *m_data_ptr(PyObject *self, PyObject *u) { (void)u; return PyLong_FromVoidPtr(mt_data(SELF)); }
static PyObject *m_is_contiguous(PyObject *self, PyObject *u) { (void)u; return PyBool_FromLong(mt_is_contiguous(SELF)); }
static PyObject *m_is_floating_point(PyObject *self, PyObject *u) { (void)u; return PyBool_FromLong(mt_is_floating(SELF->dtype)); }
static PyObject *m_contiguous(PyObject *self, PyObject *u) {
    (void)u;
    if (mt_is_contiguous(SELF)) { Py_INCREF(self); return self; }
    return mt_py_wrap(mt_contiguous_ag(SELF));
}
static PyObject *m_clone(PyObject *self, PyObject *args, PyObject *kw) { (void)args; (void)kw; return mt_py_wrap(mt_clone(SELF)); }
static PyObject *m_detach(PyObject *self, PyObject *u) { (void)u; return mt_py_wrap(mt_detach(SELF)); }
static PyObject *m_detach_(PyObject *self, PyObject *u) {
    (void)u;
    if (SELF->base && SELF->grad_fn) {
        PyErr_SetString(PyExc_RuntimeError, "Can't detach views in-place. Use detach() instead.");
        return NULL;
    }
    mt_node_decref(SELF->grad_fn);
    SELF->grad_fn = NULL;
    SELF->requires_grad = false;
    Py_INCREF(self);
    return self;
}
static PyObject *m_requires_grad_(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"requires_grad", NULL};
    int b = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", kws, &b)) return NULL;
    PyObject *v = PyBool_FromLong(b);
    int rc = PyObject_SetAttrString(self, "requires_grad", v);
    Py_DECREF(v);
    if (rc < 0) return NULL;
    Py_INCREF(self);
    return self;
}
static PyObject *m_is_inference(PyObject *self, PyObject *u) { (void)u; return PyBool_FromLong(SELF->storage->inference); }
static PyObject *m_retain_grad(PyObject *self, PyObject *u) {
    (void)u;
    if (mt_retain_grad(SELF) < 0) return mt_py_raise();
    Py_RETURN_NONE;
}

static void numpy_capsule_free(PyObject *cap) {
    mt_tensor *t = PyCapsule_GetPointer(cap, "minitorch.tensor");
    mt_decref(t);
}
/* zero-copy view of a CPU tensor's memory; the array keeps the storage alive */
static PyObject *m_numpy(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"force", NULL};
    int force = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", kws, &force)) return NULL;
    mt_tensor *t = SELF;
    if (t->storage->device.type != MT_CPU) {
        if (!force) {
            PyErr_SetString(PyExc_TypeError, "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy "
                                             "the tensor to host memory first.");
            return NULL;
        }
        t = mt_to_device_raw(t, mt_cpu(), t->dtype);
        if (!t) return mt_py_raise();
    } else if (t->requires_grad && !force) {
        PyErr_SetString(PyExc_RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
        return NULL;
    } else {
        mt_incref(t);
    }
    static const int npy[MT_NUM_DTYPES] = {NPY_BOOL, NPY_INT32, NPY_INT64, NPY_FLOAT32, NPY_FLOAT64,
                                           NPY_UINT8, NPY_INT8, NPY_INT16, NPY_FLOAT16, -1};
    if (npy[t->dtype] < 0) { /* NumPy has no bfloat16 */
        mt_decref(t);
        PyErr_Format(PyExc_TypeError, "Got unsupported ScalarType %s", mt_type_name(t->dtype));
        return NULL;
    }
    npy_intp dims[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        dims[i] = t->shape[i];
        strides[i] = t->strides[i] * (npy_intp)mt_dtype_sizes[t->dtype];
    }
    PyObject *arr = PyArray_New(&PyArray_Type, t->ndim, dims, npy[t->dtype], strides, mt_data(t), 0, NPY_ARRAY_WRITEABLE, NULL);
    if (!arr) { mt_decref(t); return NULL; }
    PyObject *cap = PyCapsule_New(t, "minitorch.tensor", numpy_capsule_free);
    if (!cap) { mt_decref(t); Py_DECREF(arr); return NULL; }
    if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) { Py_DECREF(arr); return NULL; }
    return arr;
}

static PyObject *tolist_rec(const char *p, const mt_tensor *t, int d) {
    if (d == t->ndim) {
        switch (t->dtype) {
        case MT_BOOL: return PyBool_FromLong(*(const bool *)p);
        case MT_INT32: return PyLong_FromLong(*(const int32_t *)p);
        case MT_INT64: return PyLong_FromLongLong(*(const int64_t *)p);
        case MT_FLOAT32: return PyFloat_FromDouble(*(const float *)p);
        case MT_FLOAT64: return PyFloat_FromDouble(*(const double *)p);
        case MT_UINT8: return PyLong_FromLong(*(const uint8_t *)p);
        case MT_INT8: return PyLong_FromLong(*(const int8_t *)p);
        case MT_INT16: return PyLong_FromLong(*(const int16_t *)p);
        case MT_FLOAT16: return PyFloat_FromDouble(mt_f16_to_f32(*(const uint16_t *)p));
        case MT_BFLOAT16: return PyFloat_FromDouble(mt_bf16_to_f32(*(const uint16_t *)p));
        default: break;
        }
        PyErr_SetString(PyExc_RuntimeError, "tolist: unknown dtype");
        return NULL;
    }
    PyObject *l = PyList_New(t->shape[d]);
    if (!l) return NULL;
    int64_t step = t->strides[d] * (int64_t)mt_dtype_sizes[t->dtype];
    for (int64_t i = 0; i < t->shape[d]; i++) {
        PyObject *v = tolist_rec(p + i * step, t, d + 1);
        if (!v) { Py_DECREF(l); return NULL; }
        PyList_SET_ITEM(l, i, v);
    }
    return l;
}
static PyObject *m_tolist(PyObject *self, PyObject *u) {
    (void)u;
    mt_tensor *t = SELF->storage->device.type == MT_CPU ? mt_incref(SELF) : mt_to_device_raw(SELF, mt_cpu(), SELF->dtype);
    if (!t) return mt_py_raise();
    PyObject *r = tolist_rec(mt_data(t), t, 0);
    mt_decref(t);
    return r;
}

/* _to(dtype=None, device=None, copy=False): the core of Tensor.to/.cuda/.cpu/.float(...) */
static PyObject *m__to(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dtype", "device", "copy", NULL};
    PyObject *dt = Py_None, *dev = Py_None;
    int copy = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOp", kws, &dt, &dev, &copy)) return NULL;
    mt_dtype d = SELF->dtype;
    mt_device device = SELF->storage->device;
    if (dt != Py_None && mt_py_dtype(dt, &d) < 0) return NULL;
    if (dev != Py_None && mt_py_device(dev, &device) < 0) return NULL;
    if (!copy && d == SELF->dtype && mt_same_device(device, SELF->storage->device)) { Py_INCREF(self); return self; }
    if (copy && d == SELF->dtype && mt_same_device(device, SELF->storage->device)) return mt_py_wrap(mt_clone(SELF));
    return mt_py_wrap(mt_to_device(SELF, device, d));
}

/* ---------------- fills / in place ---------------- */
static PyObject *m_fill_(PyObject *self, PyObject *v) {
    mt_scalar s;
    if (PyTensor_Check(v)) {
        if (T(v)->ndim != 0) {
            PyErr_Format(PyExc_RuntimeError, "fill_ only supports 0-dimension value tensor but got tensor with %d dimensions.", T(v)->ndim);
            return NULL;
        }
        PyObject *it = mt_py_item(v, NULL);
        if (!it) return NULL;
        int rc = mt_py_scalar(it, &s);
        Py_DECREF(it);
        if (rc < 0) return NULL;
    } else if (mt_py_scalar(v, &s) < 0) return NULL;
    return mt_py_wrap(mt_fill_inplace(SELF, s));
}
static PyObject *m_zero_(PyObject *self, PyObject *u) { (void)u; return mt_py_wrap(mt_fill_inplace(SELF, mt_si(0))); }
static PyObject *m_copy_(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"src", "non_blocking", NULL};
    PyObject *src;
    int nb = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kws, &src, &nb)) return NULL;
    mt_tensor *s = mt_py_as_tensor(src, SELF);
    if (!s) return NULL;
    PyObject *r = mt_py_wrap(mt_copy_(SELF, s));
    mt_decref(s);
    return r;
}
static PyObject *random_fill(PyObject *self, int kind, double a, double b, PyObject *gen) {
    int err;
    mt_generator *g = mt_py_generator(gen, SELF->storage->device, &err);
    if (err) return NULL;
    if (mt_check_inplace(SELF) < 0) return mt_py_raise();
    if (mt_random_(SELF, kind, a, b, g) < 0) return mt_py_raise();
    Py_INCREF(self);
    return self;
}
static PyObject *m_normal_(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"mean", "std", "generator", NULL};
    double mean = 0, std = 1;
    PyObject *gen = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|ddO", kws, &mean, &std, &gen)) return NULL;
    return random_fill(self, MT_RAND_NORMAL, mean, std, gen);
}
static PyObject *m_uniform_(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"from", "to", "generator", NULL};
    double lo = 0, hi = 1;
    PyObject *gen = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|ddO", kws, &lo, &hi, &gen)) return NULL;
    return random_fill(self, MT_RAND_UNIFORM, lo, hi, gen);
}
static PyObject *m__randint_(PyObject *self, PyObject *args) {
    long long lo, hi;
    PyObject *gen = NULL;
    if (!PyArg_ParseTuple(args, "LL|O", &lo, &hi, &gen)) return NULL;
    return random_fill(self, MT_RAND_INT, (double)lo, (double)hi, gen);
}

/* ---------------- shape ---------------- */
static PyObject *m_view(PyObject *self, PyObject *args) {
    int64_t s[MT_MAX_DIMS];
    if (PyTuple_GET_SIZE(args) == 1) {
        mt_dtype d;
        PyObject *a0 = PyTuple_GET_ITEM(args, 0);
        if (!PyLong_Check(a0) && !PyTuple_Check(a0) && !PyList_Check(a0) && mt_py_dtype(a0, &d) == 0) {
            PyErr_SetString(PyExc_NotImplementedError, "view(dtype) is not supported by minitorch");
            return NULL;
        }
        PyErr_Clear();
    }
    int n = mt_py_shape_args(args, 0, s, "view");
    if (n < 0) return NULL;
    return mt_py_wrap(mt_view(SELF, s, n));
}
/* methods taking a shape as varargs or one sequence: x.reshape(2, 3) == x.reshape((2, 3)) */
#define SHAPE_METHOD(name, fn)                                       \
    static PyObject *m_##name(PyObject *self, PyObject *args) {      \
        int64_t s[MT_MAX_DIMS];                                      \
        int n = mt_py_shape_args(args, 0, s, #name);                 \
        if (n < 0) return NULL;                                      \
        return mt_py_wrap(fn(SELF, s, n));                           \
    }
SHAPE_METHOD(reshape, mt_reshape)
SHAPE_METHOD(expand, mt_expand)
SHAPE_METHOD(repeat, mt_repeat)
SHAPE_METHOD(permute, mt_permute)
static PyObject *m_view_as(PyObject *self, PyObject *o) {
    if (!PyTensor_Check(o)) { PyErr_SetString(PyExc_TypeError, "view_as(): argument 'other' must be Tensor"); return NULL; }
    return mt_py_wrap(mt_view(SELF, T(o)->shape, T(o)->ndim));
}
static PyObject *m_reshape_as(PyObject *self, PyObject *o) {
    if (!PyTensor_Check(o)) { PyErr_SetString(PyExc_TypeError, "reshape_as(): argument 'other' must be Tensor"); return NULL; }
    return mt_py_wrap(mt_reshape(SELF, T(o)->shape, T(o)->ndim));
}
static PyObject *m_expand_as(PyObject *self, PyObject *o) {
    if (!PyTensor_Check(o)) { PyErr_SetString(PyExc_TypeError, "expand_as(): argument 'other' must be Tensor"); return NULL; }
    return mt_py_wrap(mt_expand(SELF, T(o)->shape, T(o)->ndim));
}
static PyObject *m_transpose(PyObject *self, PyObject *args) {
    long long a, b;
    if (!PyArg_ParseTuple(args, "LL", &a, &b)) return NULL;
    return mt_py_wrap(mt_transpose(SELF, a, b));
}
static PyObject *m_t(PyObject *self, PyObject *u) { (void)u; return mt_py_wrap(mt_t(SELF)); }
static PyObject *m_unsqueeze(PyObject *self, PyObject *d) {
    long long v = PyLong_AsLongLong(d);
    if (v == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_unsqueeze(SELF, v));
}
static PyObject *m_squeeze(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dim", NULL};
    PyObject *dim = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kws, &dim)) return NULL;
    if (dim == Py_None) return mt_py_wrap(mt_squeeze(SELF, NULL, -1));
    int64_t d[MT_MAX_DIMS];
    int n = mt_py_int_list(dim, d, MT_MAX_DIMS, "dim");
    if (n < 0) return NULL;
    return mt_py_wrap(mt_squeeze(SELF, d, n));
}
static PyObject *m_flatten(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"start_dim", "end_dim", NULL};
    long long s = 0, e = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|LL", kws, &s, &e)) return NULL;
    return mt_py_wrap(mt_flatten(SELF, s, e));
}
static PyObject *m_narrow(PyObject *self, PyObject *args) {
    long long d, s, l;
    if (!PyArg_ParseTuple(args, "LLL", &d, &s, &l)) return NULL;
    return mt_py_wrap(mt_narrow(SELF, d, s, l));
}
static PyObject *m_select(PyObject *self, PyObject *args) {
    long long d, i;
    if (!PyArg_ParseTuple(args, "LL", &d, &i)) return NULL;
    return mt_py_wrap(mt_select(SELF, d, i));
}
static PyObject *m__slice(PyObject *self, PyObject *args) {
    long long d, a, b, s;
    if (!PyArg_ParseTuple(args, "LLLL", &d, &a, &b, &s)) return NULL;
    return mt_py_wrap(mt_slice(SELF, d, a, b, s));
}

/* _split(sizes, dim, kind): the pieces of split/chunk/unbind as a tuple of views */
static PyObject *m__split(PyObject *self, PyObject *args) {
    PyObject *sizes;
    long long dim;
    int kind;
    if (!PyArg_ParseTuple(args, "O!Li", &PyList_Type, &sizes, &dim, &kind)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(sizes);
    int64_t *sz = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    mt_tensor **outs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(mt_tensor *));
    PyObject *r = NULL;
    if (!sz || !outs) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < n; i++) {
        sz[i] = PyLong_AsLongLong(PyList_GET_ITEM(sizes, i));
        if (sz[i] == -1 && PyErr_Occurred()) goto done;
    }
    if (mt_split(SELF, sz, (int)n, dim, kind, outs) < 0) { mt_py_raise(); goto done; }
    r = PyTuple_New(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = r ? mt_py_wrap(outs[i]) : (mt_decref(outs[i]), NULL);
        if (!o) { Py_CLEAR(r); continue; }
        PyTuple_SET_ITEM(r, i, o);
    }
done:
    PyMem_Free(sz);
    PyMem_Free(outs);
    return r;
}

/* ---------------- reductions ---------------- */
/* dim=None|int|tuple, keepdim, dtype; returns ndims (0 = all) or -1 */
static int parse_dims(PyObject *dim, int64_t *dims) {
    if (!dim || dim == Py_None) return 0;
    return mt_py_int_list(dim, dims, MT_MAX_DIMS, "dim");
}

static PyObject *reduce_method(int op, PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dim", "keepdim", "dtype", NULL};
    PyObject *dim = NULL, *dt = Py_None;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OpO", kws, &dim, &keepdim, &dt)) return NULL;
    int64_t dims[MT_MAX_DIMS];
    int nd = parse_dims(dim, dims);
    if (nd < 0) return NULL;
    int d = -1;
    if (dt != Py_None) {
        mt_dtype x;
        if (mt_py_dtype(dt, &x) < 0) return NULL;
        d = x;
    }
    if (nd == 0 && dim && dim != Py_None && (op == MT_RED_ANY || op == MT_RED_ALL)) {
        /* any/all over no dims reduce nothing: each element as a bool (sum, mean... reduce all) */
        if (d >= 0) return mt_py_wrap(mt_error(MT_ERR_RUNTIME, "%s(): dtype= is not supported", op == MT_RED_ANY ? "any" : "all"));
        if (SELF->dtype == MT_BOOL) return mt_py_wrap(mt_clone(SELF));
        mt_tensor *ne = mt_binary_s(MT_B_NE, SELF, mt_si(0), false);
        if (SELF->dtype != MT_UINT8) return mt_py_wrap(ne);
        mt_tensor *r = mt_cast(ne, MT_UINT8); /* uint8 stays uint8, as its reductions */
        mt_decref(ne);
        return mt_py_wrap(r);
    }
    return mt_py_wrap(mt_reduce(op, SELF, nd ? dims : NULL, nd, keepdim, 0, d));
}
static PyObject *m_sum(PyObject *self, PyObject *args, PyObject *kw) {
    if (!args || (PyTuple_GET_SIZE(args) == 0 && !kw)) return mt_py_wrap(mt_sum(SELF));
    return reduce_method(MT_RED_SUM, self, args, kw);
}
static PyObject *m_mean(PyObject *s, PyObject *a, PyObject *k) { return reduce_method(MT_RED_MEAN, s, a, k); }
static PyObject *m_all(PyObject *s, PyObject *a, PyObject *k) { return reduce_method(MT_RED_ALL, s, a, k); }
static PyObject *m_any(PyObject *s, PyObject *a, PyObject *k) { return reduce_method(MT_RED_ANY, s, a, k); }
static PyObject *m_logsumexp(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dim", "keepdim", NULL};
    PyObject *dim;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kws, &dim, &keepdim)) return NULL;
    int64_t dims[MT_MAX_DIMS];
    int nd = parse_dims(dim, dims);
    if (nd < 0) return NULL;
    return mt_py_wrap(mt_reduce(MT_RED_LOGSUMEXP, SELF, nd ? dims : NULL, nd, keepdim, 0, -1));
}
static PyObject *m_prod(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dim", "keepdim", "dtype", NULL};
    PyObject *dim = Py_None, *dt = Py_None;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OpO", kws, &dim, &keepdim, &dt)) return NULL;
    int d = -1;
    if (dt != Py_None) { mt_dtype x; if (mt_py_dtype(dt, &x) < 0) return NULL; d = x; }
    if (dim == Py_None) return mt_py_wrap(mt_reduce(MT_RED_PROD, SELF, NULL, 0, false, 0, d));
    int64_t dd = PyLong_AsLongLong(dim);
    if (dd == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_reduce(MT_RED_PROD, SELF, &dd, 1, keepdim, 0, d));
}

static PyObject *return_types; /* minitorch.return_types module, for (values, indices) */
static PyObject *make_pair(const char *name, mt_tensor *v, mt_tensor *i) {
    PyObject *pv = mt_py_wrap(v);
    PyObject *pi = pv ? mt_py_wrap(i) : (mt_decref(i), NULL);
    if (!pv || !pi) { Py_XDECREF(pv); Py_XDECREF(pi); return NULL; }
    if (!return_types) return_types = mt_py_import("return_types");
    PyObject *cls = return_types ? PyObject_GetAttrString(return_types, name) : NULL;
    PyObject *r = cls ? PyObject_CallFunctionObjArgs(cls, pv, pi, NULL) : NULL;
    Py_XDECREF(cls);
    Py_DECREF(pv);
    Py_DECREF(pi);
    return r;
}

static PyObject *maxmin(PyObject *self, PyObject *args, PyObject *kw, bool is_min) {
    static char *kws[] = {"dim", "keepdim", NULL};
    PyObject *dim = NULL;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Op", kws, &dim, &keepdim)) return NULL;
    if (!dim || dim == Py_None) return mt_py_wrap(mt_reduce(is_min ? MT_RED_MIN : MT_RED_MAX, SELF, NULL, 0, false, 0, -1));
    if (PyTensor_Check(dim)) return mt_py_wrap(mt_binary(is_min ? MT_B_MINIMUM : MT_B_MAXIMUM, SELF, T(dim)));
    long long d = PyLong_AsLongLong(dim);
    if (d == -1 && PyErr_Occurred()) return NULL;
    mt_tensor *v = NULL, *i = NULL;
    if (mt_max_dim(SELF, d, keepdim, is_min, &v, &i) < 0) return mt_py_raise();
    return make_pair(is_min ? "min" : "max", v, i);
}
static PyObject *m_max(PyObject *s, PyObject *a, PyObject *k) { return maxmin(s, a, k, false); }
static PyObject *m_min(PyObject *s, PyObject *a, PyObject *k) { return maxmin(s, a, k, true); }

static PyObject *argmaxmin(PyObject *self, PyObject *args, PyObject *kw, int op) {
    static char *kws[] = {"dim", "keepdim", NULL};
    PyObject *dim = Py_None;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Op", kws, &dim, &keepdim)) return NULL;
    if (dim == Py_None) return mt_py_wrap(mt_reduce(op, SELF, NULL, 0, keepdim, 0, -1));
    int64_t d = PyLong_AsLongLong(dim);
    if (d == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_reduce(op, SELF, &d, 1, keepdim, 0, -1));
}
/* amax/amin(dim=(), keepdim=False): values only, over one or several dims */
static PyObject *amaxmin(PyObject *self, PyObject *args, PyObject *kw, int op) {
    static char *kws[] = {"dim", "keepdim", NULL};
    PyObject *dim = NULL;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Op", kws, &dim, &keepdim)) return NULL;
    int64_t dims[MT_MAX_DIMS];
    int nd = parse_dims(dim, dims);
    if (nd < 0) return NULL;
    return mt_py_wrap(mt_reduce(op, SELF, nd ? dims : NULL, nd, keepdim, 0, -1));
}
static PyObject *m_amax(PyObject *s, PyObject *a, PyObject *k) { return amaxmin(s, a, k, MT_RED_MAX); }
static PyObject *m_amin(PyObject *s, PyObject *a, PyObject *k) { return amaxmin(s, a, k, MT_RED_MIN); }
static PyObject *m_argmax(PyObject *s, PyObject *a, PyObject *k) { return argmaxmin(s, a, k, MT_RED_ARGMAX); }
static PyObject *m_argmin(PyObject *s, PyObject *a, PyObject *k) { return argmaxmin(s, a, k, MT_RED_ARGMIN); }

static PyObject *var_std(PyObject *self, PyObject *args, PyObject *kw, bool is_std) {
    static char *kws[] = {"dim", "unbiased", "keepdim", "correction", NULL};
    PyObject *dim = Py_None, *unbiased = Py_None, *corr = Py_None;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOpO", kws, &dim, &unbiased, &keepdim, &corr)) return NULL;
    if (PyBool_Check(dim)) { unbiased = dim; dim = Py_None; } /* x.var(False) */
    double c = 1;
    if (unbiased != Py_None) c = PyObject_IsTrue(unbiased) ? 1 : 0;
    if (corr != Py_None) { c = PyFloat_AsDouble(corr); if (c == -1 && PyErr_Occurred()) return NULL; }
    int64_t dims[MT_MAX_DIMS];
    int nd = parse_dims(dim, dims);
    if (nd < 0) return NULL;
    if (is_std) return mt_py_wrap(mt_std(SELF, nd ? dims : NULL, nd, keepdim, c));
    return mt_py_wrap(mt_var(SELF, nd ? dims : NULL, nd, keepdim, c));
}
static PyObject *m_var(PyObject *s, PyObject *a, PyObject *k) { return var_std(s, a, k, false); }
static PyObject *m_std(PyObject *s, PyObject *a, PyObject *k) { return var_std(s, a, k, true); }

static PyObject *m_norm(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"p", "dim", "keepdim", "dtype", NULL};
    PyObject *p = Py_None, *dim = Py_None, *dt = Py_None;
    int keepdim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOpO", kws, &p, &dim, &keepdim, &dt)) return NULL;
    double pv = 2;
    if (p != Py_None) {
        if (PyUnicode_Check(p)) {
            if (strcmp(PyUnicode_AsUTF8(p), "fro")) { PyErr_SetString(PyExc_NotImplementedError, "norm: only p='fro' is supported among string norms"); return NULL; }
        } else {
            pv = PyFloat_AsDouble(p);
            if (pv == -1 && PyErr_Occurred()) return NULL;
        }
    }
    int64_t dims[MT_MAX_DIMS];
    int nd = parse_dims(dim, dims);
    if (nd < 0) return NULL;
    if ((p == Py_None || PyUnicode_Check(p)) && nd > 2) {
        /* the default p is 'fro', a matrix norm: over more than two dims it is an error, as in PyTorch */
        char buf[256] = "";
        for (int k = 0; k < nd; k++) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " %lld", (long long)dims[k]);
        PyErr_Format(PyExc_RuntimeError, "linalg.matrix_norm: dim must be a 2-tuple. Got%s", buf);
        return NULL;
    }
    int d = -1;
    if (dt != Py_None) {
        mt_dtype x;
        if (mt_py_dtype(dt, &x) < 0) return NULL;
        d = x;
    }
    return mt_py_wrap(mt_reduce(MT_RED_NORM, SELF, nd ? dims : NULL, nd, keepdim, pv, d));
}

static PyObject *softmax_method(PyObject *self, PyObject *args, PyObject *kw, bool log) {
    static char *kws[] = {"dim", "dtype", NULL};
    PyObject *dim = Py_None, *dt = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO", kws, &dim, &dt)) return NULL;
    if (dim == Py_None) {
        PyErr_SetString(PyExc_TypeError, "softmax() missing 1 required positional arguments: \"dim\"");
        return NULL;
    }
    long long d = PyLong_AsLongLong(dim);
    if (d == -1 && PyErr_Occurred()) return NULL;
    mt_tensor *in = mt_incref(SELF);
    if (dt != Py_None) {
        mt_dtype x;
        if (mt_py_dtype(dt, &x) < 0) { mt_decref(in); return NULL; }
        mt_tensor *c = mt_to_dtype(in, x);
        mt_decref(in);
        in = c;
    }
    PyObject *r = mt_py_wrap(mt_softmax(in, d, log));
    mt_decref(in);
    return r;
}
static PyObject *m_softmax(PyObject *s, PyObject *a, PyObject *k) { return softmax_method(s, a, k, false); }
static PyObject *m_log_softmax(PyObject *s, PyObject *a, PyObject *k) { return softmax_method(s, a, k, true); }

/* ---------------- scans and triangles (ops/scan.c) ---------------- */
/* an int argument: an int (or an object with __index__, not a bool), else torch's TypeError */
static int int_arg(const char *fn, const char *arg, PyObject *o, long long *v) {
    if (PyBool_Check(o) || !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' (position 1) must be int, not %s", fn, arg, Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *i = PyNumber_Index(o);
    if (!i) return -1;
    *v = PyLong_AsLongLong(i);
    Py_DECREF(i);
    return *v == -1 && PyErr_Occurred() ? -1 : 0;
}
static int missing_dim(const char *fn) {
    PyErr_Format(PyExc_TypeError, "%s() missing 1 required positional arguments: \"dim\"", fn);
    return -1;
}

/* cumsum(dim, *, dtype=None), cumprod, their in-place forms, logcumsumexp(dim) (no dtype) */
static PyObject *cumulative(int op, const char *fn, PyObject *self, PyObject *args, PyObject *kw, bool inplace) {
    static char *kws[] = {"dim", "dtype", NULL};
    static char *kws1[] = {"dim", NULL};
    PyObject *dim = NULL, *dt = Py_None;
    if (op == MT_SCAN_LOGSUMEXP ? !PyArg_ParseTupleAndKeywords(args, kw, "|O", kws1, &dim)
                                : !PyArg_ParseTupleAndKeywords(args, kw, "|O$O", kws, &dim, &dt))
        return NULL;
    long long d;
    if (!dim) return missing_dim(fn), NULL;
    if (int_arg(fn, "dim", dim, &d) < 0) return NULL;
    int dtn = -1;
    if (dt != Py_None) {
        mt_dtype x;
        if (mt_py_dtype(dt, &x) < 0) return NULL;
        dtn = x;
    }
    return mt_py_wrap(mt_cumulative(op, SELF, d, dtn, inplace));
}
static PyObject *m_cumsum(PyObject *s, PyObject *a, PyObject *k) { return cumulative(MT_SCAN_SUM, "cumsum", s, a, k, false); }
static PyObject *m_cumsum_(PyObject *s, PyObject *a, PyObject *k) { return cumulative(MT_SCAN_SUM, "cumsum_", s, a, k, true); }
static PyObject *m_cumprod(PyObject *s, PyObject *a, PyObject *k) { return cumulative(MT_SCAN_PROD, "cumprod", s, a, k, false); }
static PyObject *m_cumprod_(PyObject *s, PyObject *a, PyObject *k) { return cumulative(MT_SCAN_PROD, "cumprod_", s, a, k, true); }
static PyObject *m_logcumsumexp(PyObject *s, PyObject *a, PyObject *k) {
    return cumulative(MT_SCAN_LOGSUMEXP, "logcumsumexp", s, a, k, false);
}

static PyObject *cummaxmin(PyObject *self, PyObject *args, PyObject *kw, bool is_min) {
    static char *kws[] = {"dim", NULL};
    const char *fn = is_min ? "cummin" : "cummax";
    PyObject *dim = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kws, &dim)) return NULL;
    long long d;
    if (!dim) return missing_dim(fn), NULL;
    if (int_arg(fn, "dim", dim, &d) < 0) return NULL;
    mt_tensor *v = NULL, *i = NULL;
    if (mt_cummaxmin(SELF, d, is_min, &v, &i) < 0) return mt_py_raise();
    return make_pair(fn, v, i);
}
static PyObject *m_cummax(PyObject *s, PyObject *a, PyObject *k) { return cummaxmin(s, a, k, false); }
static PyObject *m_cummin(PyObject *s, PyObject *a, PyObject *k) { return cummaxmin(s, a, k, true); }

/* tril(diagonal=0), triu, tril_, triu_ */
static PyObject *tri_method(PyObject *self, PyObject *args, PyObject *kw, bool upper, bool inplace) {
    static char *kws[] = {"diagonal", NULL};
    PyObject *diag = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kws, &diag)) return NULL;
    long long k = 0;
    if (diag && int_arg(upper ? "triu" : "tril", "diagonal", diag, &k) < 0) return NULL;
    return mt_py_wrap(mt_tri(SELF, k, upper, inplace));
}
static PyObject *m_tril(PyObject *s, PyObject *a, PyObject *k) { return tri_method(s, a, k, false, false); }
static PyObject *m_tril_(PyObject *s, PyObject *a, PyObject *k) { return tri_method(s, a, k, false, true); }
static PyObject *m_triu(PyObject *s, PyObject *a, PyObject *k) { return tri_method(s, a, k, true, false); }
static PyObject *m_triu_(PyObject *s, PyObject *a, PyObject *k) { return tri_method(s, a, k, true, true); }

/* ---------------- matmul ---------------- */
#define MAT2(name, fn)                                                                        \
    static PyObject *m_##name(PyObject *self, PyObject *o) {                                  \
        if (!PyTensor_Check(o)) {                                                             \
            PyErr_Format(PyExc_TypeError, #name "(): argument 'other' (position 1) must be Tensor, not %s", \
                         Py_TYPE(o)->tp_name);                                                \
            return NULL;                                                                      \
        }                                                                                     \
        return mt_py_wrap(fn(SELF, T(o)));                                                    \
    }
MAT2(matmul, mt_matmul)
MAT2(mm, mt_mm)
MAT2(bmm, mt_bmm)
MAT2(dot, mt_dot)
MAT2(outer, mt_outer)
static PyObject *m_addmm(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"mat1", "mat2", "beta", "alpha", NULL};
    PyObject *a, *b;
    double beta = 1, alpha = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!|dd", kws, &PyTensorBase_Type, &a, &PyTensorBase_Type, &b, &beta, &alpha))
        return NULL;
    return mt_py_wrap(mt_addmm(SELF, T(a), T(b), beta, alpha));
}

/* ---------------- indexing ops ---------------- */
static int index_arg(PyObject *o, mt_tensor **out) {
    if (!PyTensor_Check(o)) {
        PyErr_Format(PyExc_TypeError, "argument 'index' must be Tensor, not %s", Py_TYPE(o)->tp_name);
        return -1;
    }
    *out = T(o);
    return 0;
}
static PyObject *m_index_select(PyObject *self, PyObject *args) {
    long long d;
    PyObject *i;
    mt_tensor *ti;
    if (!PyArg_ParseTuple(args, "LO", &d, &i) || index_arg(i, &ti) < 0) return NULL;
    return mt_py_wrap(mt_index_select(SELF, d, ti));
}
static PyObject *m_gather(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"dim", "index", NULL};
    long long d;
    PyObject *i;
    mt_tensor *ti;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "LO", kws, &d, &i) || index_arg(i, &ti) < 0) return NULL;
    return mt_py_wrap(mt_gather(SELF, d, ti));
}
static PyObject *scatter_impl(PyObject *self, PyObject *args, PyObject *kw, bool inplace, bool add) {
    static char *kws[] = {"dim", "index", "src", "value", "reduce", NULL};
    long long d;
    PyObject *i, *src = NULL, *value = NULL;
    const char *reduce = NULL;
    mt_tensor *ti;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "LO|OOz", kws, &d, &i, &src, &value, &reduce) || index_arg(i, &ti) < 0)
        return NULL;
    if (reduce) {
        if (!strcmp(reduce, "add")) add = true;
        else { PyErr_SetString(PyExc_NotImplementedError, "scatter: only reduce='add' is supported"); return NULL; }
    }
    if (!src) src = value;
    if (!src) { PyErr_SetString(PyExc_TypeError, "scatter() missing required argument 'src'"); return NULL; }
    if (PyTensor_Check(src)) return mt_py_wrap(mt_scatter(SELF, d, ti, T(src), NULL, inplace, add));
    mt_scalar s;
    if (mt_py_scalar(src, &s) < 0) return NULL;
    return mt_py_wrap(mt_scatter(SELF, d, ti, NULL, &s, inplace, add));
}
static PyObject *m_scatter(PyObject *s, PyObject *a, PyObject *k) { return scatter_impl(s, a, k, false, false); }
static PyObject *m_scatter_(PyObject *s, PyObject *a, PyObject *k) { return scatter_impl(s, a, k, true, false); }
static PyObject *m_scatter_add(PyObject *s, PyObject *a, PyObject *k) { return scatter_impl(s, a, k, false, true); }
static PyObject *m_scatter_add_(PyObject *s, PyObject *a, PyObject *k) { return scatter_impl(s, a, k, true, true); }
static PyObject *masked_fill_impl(PyObject *self, PyObject *args, bool inplace) {
    PyObject *mask, *v;
    if (!PyArg_ParseTuple(args, "OO", &mask, &v)) return NULL;
    if (!PyTensor_Check(mask)) { PyErr_SetString(PyExc_TypeError, "masked_fill(): argument 'mask' must be Tensor"); return NULL; }
    mt_scalar s;
    if (PyTensor_Check(v)) {
        PyObject *it = mt_py_item(v, NULL);
        if (!it) return NULL;
        int rc = mt_py_scalar(it, &s);
        Py_DECREF(it);
        if (rc < 0) return NULL;
    } else if (mt_py_scalar(v, &s) < 0) return NULL;
    return mt_py_wrap(mt_masked_fill(SELF, T(mask), s, inplace));
}
static PyObject *m_masked_fill(PyObject *s, PyObject *a) { return masked_fill_impl(s, a, false); }
static PyObject *m_masked_fill_(PyObject *s, PyObject *a) { return masked_fill_impl(s, a, true); }

/* ---------------- autograd ---------------- */
static PyObject *m_backward(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kws[] = {"gradient", "retain_graph", "create_graph", "inputs", NULL};
    PyObject *grad = Py_None, *retain = Py_None, *create = Py_False, *inputs = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOO", kws, &grad, &retain, &create, &inputs)) return NULL;
    int create_graph = PyObject_IsTrue(create);
    if (create_graph < 0) return NULL;
    if (inputs != Py_None) { /* rare: minitorch.autograd.backward does it through autograd.grad */
        PyObject *ag = mt_py_import("autograd");
        PyObject *fn = ag ? PyObject_GetAttrString(ag, "backward") : NULL;
        Py_XDECREF(ag);
        PyObject *a = fn ? Py_BuildValue("(OOOO)", self, grad, retain, create) : NULL;
        PyObject *k = a ? Py_BuildValue("{s:O}", "inputs", inputs) : NULL;
        PyObject *r = k ? PyObject_Call(fn, a, k) : NULL;
        Py_XDECREF(fn);
        Py_XDECREF(a);
        Py_XDECREF(k);
        return r;
    }
    mt_tensor *t = SELF, *g;
    if (!t->requires_grad) {
        PyErr_SetString(PyExc_RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn");
        return NULL;
    }
    if (grad == Py_None) {
        if (mt_numel(t) != 1) {
            PyErr_SetString(PyExc_RuntimeError, "grad can be implicitly created only for scalar outputs");
            return NULL;
        }
        g = mt_full(t->shape, t->ndim, mt_sf(1.0), t->dtype, t->storage->device);
    } else {
        g = mt_py_as_tensor(grad, t);
        if (!g) return NULL;
        if (g->ndim != t->ndim || memcmp(g->shape, t->shape, sizeof(int64_t) * t->ndim)) {
            PyErr_Format(PyExc_RuntimeError, "Mismatch in shape: grad_output[0] has a shape of torch.Size(%s) and output[0] has a shape of torch.Size(%s).",
                         mt_shape_str(g->shape, g->ndim), mt_shape_str(t->shape, t->ndim));
            mt_decref(g);
            return NULL;
        }
    }
    if (!g) return mt_py_raise();
    /* retain_graph defaults to create_graph, as torch */
    bool retain_graph = retain == Py_None ? create_graph : PyObject_IsTrue(retain);
    int rc = mt_backward(1, &t, &g, retain_graph, create_graph, 0, NULL, NULL, false);
    mt_decref(g);
    if (rc < 0) return mt_py_raise();
    Py_RETURN_NONE;
}

#define V(name) {#name, KW m_##name, METH_VARARGS | METH_KEYWORDS, NULL},
#define A(name) {#name, m_##name, METH_VARARGS, NULL},
#define N(name) {#name, m_##name, METH_NOARGS, NULL},
#define O(name) {#name, m_##name, METH_O, NULL},

/* the hand-written methods; mt_py_build_methods adds the declared elementwise ops */
static PyMethodDef hand_methods[] = {
    V(clamp) V(clamp_) V(logit) V(logit_) V(nan_to_num) V(nan_to_num_)
    A(_leaky_relu) A(_leaky_relu_) A(_elu) A(_elu_) A(_celu) A(_celu_) A(_silu) A(_silu_) A(_mish) A(_mish_)
    A(_softplus) A(_softplus_) A(_hardtanh) A(_hardtanh_) A(_hardswish) A(_hardswish_) A(_hardsigmoid) A(_hardsigmoid_)
    A(_log_sigmoid) A(_log_sigmoid_) A(_softshrink) A(_softshrink_) A(_hardshrink) A(_hardshrink_) A(_threshold)
    A(_threshold_)
    {"clip", KW m_clamp, METH_VARARGS | METH_KEYWORDS, NULL}, {"clip_", KW m_clamp_, METH_VARARGS | METH_KEYWORDS, NULL},
    V(add) V(add_) V(sub) V(sub_) V(div) V(div_)
    {"subtract", KW m_sub, METH_VARARGS | METH_KEYWORDS, NULL}, {"divide", KW m_div, METH_VARARGS | METH_KEYWORDS, NULL},
    {"true_divide", KW m_div, METH_VARARGS | METH_KEYWORDS, NULL},
    {"multiply", mb_mul, METH_O, NULL}, {"greater", mb_gt, METH_O, NULL}, {"less", mb_lt, METH_O, NULL},
    {"greater_equal", mb_ge, METH_O, NULL}, {"less_equal", mb_le, METH_O, NULL}, {"not_equal", mb_ne, METH_O, NULL},
    O(rsub) A(where)
    V(size) A(stride) N(dim) N(numel) N(element_size) N(storage_offset) N(data_ptr) N(is_contiguous)
    N(is_floating_point) N(contiguous) V(clone) N(detach) N(detach_) V(requires_grad_) N(retain_grad) N(is_inference)
    V(numpy) N(tolist) V(_to)
    {"item", mt_py_item, METH_NOARGS, NULL},
    {"nelement", m_numel, METH_NOARGS, NULL}, {"ndimension", m_dim, METH_NOARGS, NULL},
    O(fill_) N(zero_) V(copy_) V(normal_) V(uniform_) A(_randint_)
    A(view) A(reshape) A(expand) A(repeat) A(permute) O(view_as) O(reshape_as) O(expand_as) A(transpose) N(t)
    {"swapaxes", m_transpose, METH_VARARGS, NULL}, {"swapdims", m_transpose, METH_VARARGS, NULL},
    O(unsqueeze) V(squeeze) V(flatten) A(narrow) A(select) A(_slice) A(_split)
    V(sum) V(mean) V(prod) V(max) V(min) V(amax) V(amin) V(argmax) V(argmin) V(var) V(std) V(logsumexp) V(all) V(any) V(norm)
    V(softmax) V(log_softmax)
    V(cumsum) V(cumsum_) V(cumprod) V(cumprod_) V(logcumsumexp) V(cummax) V(cummin) V(tril) V(tril_) V(triu) V(triu_)
    O(matmul) O(mm) O(bmm) O(dot) O(outer) V(addmm)
    A(index_select) V(gather) V(scatter) V(scatter_) V(scatter_add) V(scatter_add_) A(masked_fill) A(masked_fill_)
    V(backward)
    {NULL, NULL, 0, NULL},
};

/* the declared elementwise ops, unary then binary, as one sequence of N_EW */
#define N_EW (MT_NUM_UNARY + MT_NUM_BINARY)
static const mt_ew_decl *ew_decl(int k) { return k < MT_NUM_UNARY ? &mt_unary_decls[k] : &mt_binary_decls[k - MT_NUM_UNARY]; }

PyMethodDef *mt_py_build_methods(void) {
    int n_hand = 0, n = 0;
    while (hand_methods[n_hand].ml_name) n_hand++;
    PyMethodDef *t = PyMem_Calloc((size_t)(2 * N_EW + n_hand + 1), sizeof *t);
    if (!t) return (PyMethodDef *)PyErr_NoMemory();
    for (int k = 0; k < N_EW; k++) {
        bool un = k < MT_NUM_UNARY;
        const mt_ew_decl *d = ew_decl(k);
        const ew_binding *b = un ? &unary_bindings[k] : &binary_bindings[k - MT_NUM_UNARY];
        if (d->variants & MT_V_C) continue; /* bound by hand */
        int flags = un ? METH_NOARGS : METH_O;
        if (d->variants & MT_V_M) t[n++] = (PyMethodDef){b->name, b->fn, flags, NULL};
        if (d->variants & MT_V_I) t[n++] = (PyMethodDef){b->name_, b->fn_, flags, NULL};
    }
    memcpy(t + n, hand_methods, sizeof *t * (size_t)(n_hand + 1));
    return t; /* lives as long as the type */
}

/* minitorch._C._ops: the declarations, for minitorch/__init__.py (the function list) and the tests */
PyObject *mt_py_op_manifest(void) {
    static const char *const kinds[] = MT_K_NAMES;
    PyObject *list = PyList_New(0);
    for (int k = 0; list && k < N_EW; k++) {
        bool un = k < MT_NUM_UNARY;
        const mt_ew_decl *d = ew_decl(k);
        char var[8];
        int nv = 0;
        if (d->variants & MT_V_F) var[nv++] = 'F';
        if (d->variants & MT_V_M) var[nv++] = 'M';
        if (d->variants & MT_V_I) var[nv++] = 'I';
        if (d->variants & MT_V_S) var[nv++] = 'S';
        if (d->variants & MT_V_C) var[nv++] = 'C';
        var[nv] = 0;
        PyObject *e = Py_BuildValue("{s:s,s:i,s:s,s:z,s:z,s:z,s:s,s:s,s:O}", "name", d->name, "arity", un ? 1 : 2,
                                    "kind", kinds[d->kind], "node", d->node, "node_scalar", d->node_scalar,
                                    "node_scalar_first", d->node_scalar_first, "variants", var, "derivative",
                                    d->derivative, "differentiable", mt_ew_has_derivative(d) ? Py_True : Py_False);
        if (!e || PyList_Append(list, e) < 0) { Py_XDECREF(e); Py_CLEAR(list); }
        else Py_DECREF(e);
    }
    if (!list) return NULL;
    PyObject *t = PyList_AsTuple(list);
    Py_DECREF(list);
    return t;
}
