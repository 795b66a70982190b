/* The TensorBase type: lifetime, conversions, errors, number protocol, attributes. */
#include "py.h"
#include "../core/half.h"

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL MT_ARRAY_API
#include <numpy/arrayobject.h>

#include <string.h>

PyTypeObject *mt_tensor_class;
PyObject *mt_size_class;
PyObject *mt_dtype_objs[MT_NUM_DTYPES];
PyObject *mt_device_class;

/* ---------------- errors ---------------- */
PyObject *mt_py_raise(void) {
    if (PyErr_Occurred()) return NULL; /* a Python error (from a custom Function) wins */
    PyObject *exc;
    switch (mt_err_kind()) {
    case MT_ERR_INDEX: exc = PyExc_IndexError; break;
    case MT_ERR_TYPE: exc = PyExc_TypeError; break;
    case MT_ERR_VALUE: exc = PyExc_ValueError; break;
    case MT_ERR_NOTIMPL: exc = PyExc_NotImplementedError; break;
    case MT_ERR_NONE: exc = PyExc_SystemError; break;
    default: exc = PyExc_RuntimeError; break;
    }
    PyErr_SetString(exc, mt_err_kind() == MT_ERR_NONE ? "minitorch: an op failed without an error message" : mt_err_msg());
    mt_err_clear();
    return NULL;
}
int mt_py_raise_int(void) { mt_py_raise(); return -1; }

/* ---------------- wrapping ---------------- */
PyObject *mt_py_wrap(mt_tensor *t) {
    if (mt_autograd_record_failed) { /* the op ran but its autograd node could not be made */
        mt_autograd_record_failed = false;
        mt_decref(t);
        return mt_py_raise();
    }
    if (!t) return mt_py_raise();
    if (t->pyobj) {
        PyObject *o = t->pyobj;
        Py_INCREF(o);
        mt_decref(t);
        return o;
    }
    PyTypeObject *tp = mt_tensor_class ? mt_tensor_class : &PyTensorBase_Type;
    PyObject *o = tp->tp_alloc(tp, 0);
    if (!o) { mt_decref(t); return NULL; }
    ((PyTensor *)o)->t = t;
    t->pyobj = o;
    return o;
}

/* For Python subclasses (minitorch.Tensor, Parameter) CPython's subtype_dealloc clears
 * the instance dict and drops the type reference around this call. */
static void tensor_dealloc(PyObject *self) {
    mt_tensor *t = T(self);
    if (t) {
        if (t->pyobj == self) t->pyobj = NULL;
        mt_decref(t);
    }
    Py_TYPE(self)->tp_free(self);
}

/* TensorBase(...) is not constructed directly: minitorch.tensor() and friends build tensors. */
static PyObject *tensor_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args; (void)kw;
    PyObject *o = type->tp_alloc(type, 0);
    if (!o) return NULL;
    mt_tensor *t = mt_empty((int64_t[]){0}, 1, MT_FLOAT32, mt_cpu());
    if (!t) { Py_DECREF(o); return mt_py_raise(); }
    ((PyTensor *)o)->t = t;
    t->pyobj = o;
    return o;
}

/* Parameter(data) and subclasses: a new Python object sharing data's storage (a detached alias). */
static PyObject *tensor_make_subclass(PyObject *cls, PyObject *args) {
    PyObject *data;
    int requires_grad = 0;
    if (!PyArg_ParseTuple(args, "O!|p", &PyTensorBase_Type, &data, &requires_grad)) return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyTensorBase_Type)) {
        PyErr_SetString(PyExc_TypeError, "_make_subclass: cls must be a subclass of Tensor");
        return NULL;
    }
    mt_tensor *t = mt_detach(T(data));
    if (!t) return mt_py_raise();
    t->requires_grad = requires_grad;
    PyTypeObject *tp = (PyTypeObject *)cls;
    PyObject *o = tp->tp_alloc(tp, 0);
    if (!o) { mt_decref(t); return NULL; }
    ((PyTensor *)o)->t = t;
    t->pyobj = o;
    return o;
}

/* ---------------- conversions ---------------- */
bool mt_py_is_scalar(PyObject *o) {
    return PyFloat_Check(o) || PyLong_Check(o) || PyBool_Check(o) ||
           (!PyTensor_Check(o) && (PyArray_IsScalar(o, Number) || PyArray_IsScalar(o, Bool)));
}

int mt_py_scalar(PyObject *o, mt_scalar *s) {
    if (PyBool_Check(o)) { *s = mt_sb(o == Py_True); return 0; }
    if (PyLong_Check(o)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow) {
            /* PyTorch reads [2**63, 2**64) as uint64, which no minitorch dtype holds: refused, where PyTorch
             * converts it to float (and wraps it silently in int64 arithmetic); beyond that, PyTorch's OverflowError */
            bool uint64 = false;
            if (overflow > 0) {
                (void)PyLong_AsUnsignedLongLong(o);
                uint64 = !PyErr_Occurred();
                PyErr_Clear();
            }
            if (uint64) PyErr_SetString(PyExc_RuntimeError, "value cannot be converted to type int64_t without overflow");
            else PyErr_SetString(PyExc_OverflowError, overflow > 0 ? "int too big to convert" : "can't convert negative int to unsigned");
            return -1;
        }
        *s = mt_si(v);
        return 0;
    }
    if (PyFloat_Check(o)) { *s = mt_sf(PyFloat_AS_DOUBLE(o)); return 0; }
    if (PyArray_IsScalar(o, Bool)) { *s = mt_sb(PyObject_IsTrue(o)); return 0; }
    if (PyArray_IsScalar(o, Integer)) {
        long long v = PyLong_AsLongLong(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        *s = mt_si(v);
        return 0;
    }
    if (PyArray_IsScalar(o, Floating)) {
        double v = PyFloat_AsDouble(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        *s = mt_sf(v);
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "expected a number, but got %s", Py_TYPE(o)->tp_name);
    return -1;
}

int mt_py_dtype(PyObject *o, mt_dtype *d) {
    for (int i = 0; i < MT_NUM_DTYPES; i++)
        if (o == mt_dtype_objs[i]) { *d = (mt_dtype)i; return 0; }
    if (o == (PyObject *)&PyFloat_Type) { *d = MT_FLOAT64; return 0; }
    if (o == (PyObject *)&PyLong_Type) { *d = MT_INT64; return 0; }
    if (o == (PyObject *)&PyBool_Type) { *d = MT_BOOL; return 0; }
    PyErr_Format(PyExc_TypeError, "dtype must be a minitorch dtype (e.g. minitorch.float32), not %s", Py_TYPE(o)->tp_name);
    return -1;
}
PyObject *mt_py_dtype_obj(mt_dtype d) { return mt_dtype_objs[d] ? mt_dtype_objs[d] : Py_None; }

int mt_py_device(PyObject *o, mt_device *d) {
    d->type = MT_CPU;
    d->index = 0;
    if (!o || o == Py_None) return 0;
    PyObject *typ = NULL, *idx = NULL;
    if (PyUnicode_Check(o) || PyLong_Check(o)) {
        if (!mt_device_class) { PyErr_SetString(PyExc_RuntimeError, "device class not registered"); return -1; }
        PyObject *dev = PyObject_CallOneArg(mt_device_class, o);
        if (!dev) return -1;
        int rc = mt_py_device(dev, d);
        Py_DECREF(dev);
        return rc;
    }
    typ = PyObject_GetAttrString(o, "type");
    idx = typ ? PyObject_GetAttrString(o, "index") : NULL;
    if (!typ || !idx) {
        Py_XDECREF(typ);
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "expected a device (str or minitorch.device), but got %s", Py_TYPE(o)->tp_name);
        return -1;
    }
    const char *ts = PyUnicode_Check(typ) ? PyUnicode_AsUTF8(typ) : "";
    if (!strcmp(ts, "cpu")) d->type = MT_CPU;
    else if (!strcmp(ts, "cuda")) d->type = MT_CUDA;
    else {
        PyErr_Format(PyExc_RuntimeError, "Expected one of cpu, cuda device type at start of device string: %s", ts);
        Py_DECREF(typ); Py_DECREF(idx);
        return -1;
    }
    d->index = idx == Py_None ? 0 : (int8_t)PyLong_AsLong(idx);
    Py_DECREF(typ);
    Py_DECREF(idx);
    if (d->type == MT_CUDA && !mt_backends[MT_CUDA]) {
        PyErr_SetString(PyExc_AssertionError, "Torch not compiled with CUDA enabled");
        return -1;
    }
    return 0;
}

PyObject *mt_py_device_obj(mt_device d) {
    if (!mt_device_class) return PyUnicode_FromString(d.type == MT_CUDA ? "cuda" : "cpu");
    if (d.type == MT_CPU) return PyObject_CallFunction(mt_device_class, "s", "cpu");
    return PyObject_CallFunction(mt_device_class, "si", "cuda", (int)d.index);
}

int mt_py_int_list(PyObject *o, int64_t *out, int max, const char *what) {
    if (PyLong_Check(o) || (PyTensor_Check(o) && T(o)->ndim == 0) || PyArray_IsScalar(o, Integer)) {
        long long v = PyLong_AsLongLong(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        out[0] = v;
        return 1;
    }
    if (!PyTuple_Check(o) && !PyList_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int or a tuple of ints, but got %s", what, Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    if (n > max) { PyErr_Format(PyExc_RuntimeError, "%s: too many dimensions (%zd)", what, n); return -1; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(o, i);
        if (PyFloat_Check(it) || !(PyLong_Check(it) || PyTensor_Check(it) || PyArray_IsScalar(it, Integer))) {
            PyErr_Format(PyExc_TypeError, "%s must be a tuple of ints, but got element of type %s", what, Py_TYPE(it)->tp_name);
            return -1;
        }
        long long v = PyLong_AsLongLong(it);
        if (v == -1 && PyErr_Occurred()) return -1;
        out[i] = v;
    }
    return (int)n;
}

/* x.view(2, 3) and x.view((2, 3)) alike */
int mt_py_shape_args(PyObject *args, int start, int64_t *out, const char *what) {
    Py_ssize_t n = PyTuple_GET_SIZE(args) - start;
    if (n == 1) {
        PyObject *a = PyTuple_GET_ITEM(args, start);
        if (PyTuple_Check(a) || PyList_Check(a)) return mt_py_int_list(a, out, MT_MAX_DIMS, what);
    }
    if (n > MT_MAX_DIMS) { PyErr_Format(PyExc_RuntimeError, "%s: too many dimensions", what); return -1; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PyTuple_GET_ITEM(args, start + i);
        if (PyFloat_Check(it) || !(PyLong_Check(it) || PyTensor_Check(it) || PyArray_IsScalar(it, Integer))) {
            PyErr_Format(PyExc_TypeError, "%s(): argument 'size' must be tuple of ints, but found element of type %s at pos %zd",
                         what, Py_TYPE(it)->tp_name, i);
            return -1;
        }
        long long v = PyLong_AsLongLong(it);
        if (v == -1 && PyErr_Occurred()) return -1;
        out[i] = v;
    }
    return (int)n;
}

PyObject *mt_py_size(const int64_t *shape, int ndim) {
    PyObject *t = PyTuple_New(ndim);
    if (!t) return NULL;
    for (int i = 0; i < ndim; i++) PyTuple_SET_ITEM(t, i, PyLong_FromLongLong(shape[i]));
    if (!mt_size_class) return t;
    PyObject *s = PyObject_CallOneArg(mt_size_class, t);
    Py_DECREF(t);
    return s;
}

static PyObject *tensor_fn; /* minitorch.tensor, for converting lists */

mt_tensor *mt_py_as_tensor(PyObject *o, const mt_tensor *like) {
    if (PyTensor_Check(o)) return mt_incref(T(o));
    if (mt_py_is_scalar(o)) {
        mt_scalar s;
        if (mt_py_scalar(o, &s) < 0) return NULL;
        mt_dtype d = s.dtype == MT_FLOAT64 ? MT_FLOAT32 : s.dtype;
        if (like && s.dtype == MT_FLOAT64 && mt_is_floating(like->dtype)) d = like->dtype;
        mt_tensor *t = mt_scalar_tensor(s, d, like ? like->storage->device : mt_cpu());
        if (!t) mt_py_raise();
        return t;
    }
    if (!tensor_fn) {
        PyObject *m = mt_py_import(NULL);
        if (!m) return NULL;
        tensor_fn = PyObject_GetAttrString(m, "tensor");
        Py_DECREF(m);
        if (!tensor_fn) return NULL;
    }
    PyObject *r = PyObject_CallOneArg(tensor_fn, o);
    if (!r) return NULL;
    if (!PyTensor_Check(r)) { Py_DECREF(r); PyErr_SetString(PyExc_TypeError, "expected a tensor"); return NULL; }
    mt_tensor *t = mt_incref(T(r));
    Py_DECREF(r);
    return t;
}

/* ---------------- number protocol ---------------- */
static PyObject *binop(int op, PyObject *a, PyObject *b) {
    mt_scalar s;
    if (PyTensor_Check(a)) {
        if (PyTensor_Check(b)) return mt_py_wrap(mt_binary(op, T(a), T(b)));
        if (!mt_py_is_scalar(b)) Py_RETURN_NOTIMPLEMENTED;
        if (mt_py_scalar(b, &s) < 0) return NULL;
        return mt_py_wrap(mt_binary_s(op, T(a), s, false));
    }
    if (!PyTensor_Check(b) || !mt_py_is_scalar(a)) Py_RETURN_NOTIMPLEMENTED;
    if (mt_py_scalar(a, &s) < 0) return NULL;
    return mt_py_wrap(mt_binary_s(op, T(b), s, true));
}
static PyObject *ibinop(int op, PyObject *a, PyObject *b) {
    mt_scalar s;
    if (PyTensor_Check(b)) return mt_py_wrap(mt_binary_(op, T(a), T(b), NULL));
    if (!mt_py_is_scalar(b)) Py_RETURN_NOTIMPLEMENTED;
    if (mt_py_scalar(b, &s) < 0) return NULL;
    return mt_py_wrap(mt_binary_(op, T(a), NULL, &s));
}
#define BINOP(name, OP)                                                            \
    static PyObject *nb_##name(PyObject *a, PyObject *b) { return binop(OP, a, b); } \
    static PyObject *nb_i##name(PyObject *a, PyObject *b) { return ibinop(OP, a, b); }
BINOP(add, MT_B_ADD)
BINOP(sub, MT_B_SUB)
BINOP(mul, MT_B_MUL)
BINOP(div, MT_B_DIV)
BINOP(floordiv, MT_B_FLOOR_DIVIDE)
BINOP(mod, MT_B_REMAINDER)
/* &, |, ^, <<, >> are bitwise, as in PyTorch (on bool tensors &, |, ^ are the logical ops) */
BINOP(and, MT_B_BITWISE_AND)
BINOP(or, MT_B_BITWISE_OR)
BINOP(xor, MT_B_BITWISE_XOR)
BINOP(lshift, MT_B_LSHIFT)
BINOP(rshift, MT_B_RSHIFT)

static PyObject *nb_pow(PyObject *a, PyObject *b, PyObject *mod) {
    (void)mod;
    return binop(MT_B_POW, a, b);
}
static PyObject *nb_ipow(PyObject *a, PyObject *b, PyObject *mod) {
    (void)mod;
    return ibinop(MT_B_POW, a, b);
}
static PyObject *nb_neg(PyObject *a) { return mt_py_wrap(mt_unary(MT_U_NEG, T(a))); }
static PyObject *nb_pos(PyObject *a) { Py_INCREF(a); return a; }
static PyObject *nb_abs(PyObject *a) { return mt_py_wrap(mt_unary(MT_U_ABS, T(a))); }
static PyObject *nb_invert(PyObject *a) {
    if (mt_is_floating(T(a)->dtype)) {
        PyErr_SetString(PyExc_TypeError, "~ (operator.invert) is only implemented on integer and Boolean-type tensors");
        return NULL;
    }
    return mt_py_wrap(mt_unary(MT_U_BITWISE_NOT, T(a)));
}
static PyObject *nb_matmul(PyObject *a, PyObject *b) {
    if (!PyTensor_Check(a) || !PyTensor_Check(b)) Py_RETURN_NOTIMPLEMENTED;
    return mt_py_wrap(mt_matmul(T(a), T(b)));
}

/* One-element tensors as Python numbers */
static int scalar_value(PyObject *self, const char *what, mt_scalar *out) {
    mt_tensor *t = T(self);
    *out = mt_si(0);
    if (mt_numel(t) != 1) {
        if (!strcmp(what, "bool"))
            PyErr_Format(PyExc_RuntimeError, "Boolean value of Tensor with %s values is ambiguous",
                         mt_numel(t) == 0 ? "no" : "more than one");
        else
            PyErr_Format(PyExc_RuntimeError, "a Tensor with %lld elements cannot be converted to Scalar", (long long)mt_numel(t));
        return -1;
    }
    mt_tensor *c = t;
    if (t->storage->device.type != MT_CPU) {
        c = mt_to_device_raw(t, mt_cpu(), t->dtype);
        if (!c) return mt_py_raise_int();
    }
    void *p = mt_data(c);
    switch (c->dtype) {
    case MT_BOOL: *out = mt_sb(*(bool *)p); break;
    case MT_INT32: *out = mt_si(*(int32_t *)p); break;
    case MT_INT64: *out = mt_si(*(int64_t *)p); break;
    case MT_FLOAT32: *out = mt_sf(*(float *)p); break;
    case MT_FLOAT64: *out = mt_sf(*(double *)p); break;
    case MT_UINT8: *out = mt_si(*(uint8_t *)p); break;
    case MT_INT8: *out = mt_si(*(int8_t *)p); break;
    case MT_INT16: *out = mt_si(*(int16_t *)p); break;
    case MT_FLOAT16: *out = mt_sf(mt_f16_to_f32(*(uint16_t *)p)); break;
    case MT_BFLOAT16: *out = mt_sf(mt_bf16_to_f32(*(uint16_t *)p)); break;
    default: break;
    }
    if (c != t) mt_decref(c);
    return 0;
}
static PyObject *scalar_to_py(mt_scalar s) {
    if (s.dtype == MT_BOOL) return PyBool_FromLong(s.i != 0);
    if (s.dtype == MT_INT64) return PyLong_FromLongLong(s.i);
    return PyFloat_FromDouble(s.f);
}
static int nb_bool(PyObject *self) {
    mt_scalar s;
    if (scalar_value(self, "bool", &s) < 0) return -1;
    return s.dtype == MT_FLOAT64 ? s.f != 0 : s.i != 0;
}
static PyObject *nb_float(PyObject *self) {
    mt_scalar s;
    if (scalar_value(self, "float", &s) < 0) return NULL;
    return PyFloat_FromDouble(s.dtype == MT_FLOAT64 ? s.f : (double)s.i);
}
static PyObject *nb_int(PyObject *self) {
    mt_scalar s;
    if (scalar_value(self, "int", &s) < 0) return NULL;
    if (s.dtype == MT_FLOAT64) return PyLong_FromDouble(s.f);
    return PyLong_FromLongLong(s.i);
}
static PyObject *nb_index(PyObject *self) {
    if (!mt_is_integral(T(self)->dtype) && T(self)->dtype != MT_BOOL) {
        PyErr_SetString(PyExc_TypeError, "only integer tensors of a single element can be converted to an index");
        return NULL;
    }
    if (mt_numel(T(self)) != 1) {
        PyErr_SetString(PyExc_TypeError, "only integer tensors of a single element can be converted to an index");
        return NULL;
    }
    return nb_int(self);
}

PyObject *mt_py_item(PyObject *self, PyObject *unused) {
    (void)unused;
    mt_scalar s;
    if (scalar_value(self, "item", &s) < 0) return NULL;
    return scalar_to_py(s);
}

static PyNumberMethods tensor_as_number = {
    .nb_add = nb_add, .nb_subtract = nb_sub, .nb_multiply = nb_mul, .nb_remainder = nb_mod,
    .nb_power = nb_pow, .nb_negative = nb_neg, .nb_positive = nb_pos, .nb_absolute = nb_abs,
    .nb_bool = nb_bool, .nb_invert = nb_invert, .nb_and = nb_and, .nb_xor = nb_xor, .nb_or = nb_or,
    .nb_lshift = nb_lshift, .nb_rshift = nb_rshift, .nb_inplace_lshift = nb_ilshift, .nb_inplace_rshift = nb_irshift,
    .nb_int = nb_int, .nb_float = nb_float, .nb_inplace_add = nb_iadd, .nb_inplace_subtract = nb_isub,
    .nb_inplace_multiply = nb_imul, .nb_inplace_remainder = nb_imod, .nb_inplace_power = nb_ipow,
    .nb_inplace_and = nb_iand, .nb_inplace_xor = nb_ixor, .nb_inplace_or = nb_ior,
    .nb_floor_divide = nb_floordiv, .nb_true_divide = nb_div, .nb_inplace_floor_divide = nb_ifloordiv,
    .nb_inplace_true_divide = nb_idiv, .nb_index = nb_index, .nb_matrix_multiply = nb_matmul,
};

static PyObject *tensor_richcompare(PyObject *a, PyObject *b, int op) {
    static const int map[] = {[Py_LT] = MT_B_LT, [Py_LE] = MT_B_LE, [Py_EQ] = MT_B_EQ,
                              [Py_NE] = MT_B_NE, [Py_GT] = MT_B_GT, [Py_GE] = MT_B_GE};
    if (!PyTensor_Check(a)) { /* reflected: 2 < x is x > 2 */
        static const int swap[] = {[Py_LT] = Py_GT, [Py_LE] = Py_GE, [Py_EQ] = Py_EQ,
                                   [Py_NE] = Py_NE, [Py_GT] = Py_LT, [Py_GE] = Py_LE};
        return tensor_richcompare(b, a, swap[op]);
    }
    if (!PyTensor_Check(b) && !mt_py_is_scalar(b)) Py_RETURN_NOTIMPLEMENTED;
    return binop(map[op], a, b);
}

static Py_hash_t tensor_hash(PyObject *self) {
    Py_hash_t h = (Py_hash_t)((uintptr_t)self >> 4);
    return h == -1 ? -2 : h;
}

static Py_ssize_t tensor_len(PyObject *self) {
    if (T(self)->ndim == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d tensor");
        return -1;
    }
    return (Py_ssize_t)T(self)->shape[0];
}

static PyMappingMethods tensor_as_mapping = {tensor_len, mt_py_getitem, mt_py_setitem};

/* ---------------- attributes ---------------- */
static PyObject *get_shape(PyObject *self, void *c) { (void)c; return mt_py_size(T(self)->shape, T(self)->ndim); }
static PyObject *get_dtype(PyObject *self, void *c) {
    (void)c;
    PyObject *d = mt_py_dtype_obj(T(self)->dtype);
    Py_INCREF(d);
    return d;
}
static PyObject *get_device(PyObject *self, void *c) { (void)c; return mt_py_device_obj(T(self)->storage->device); }
static PyObject *get_is_cuda(PyObject *self, void *c) { (void)c; return PyBool_FromLong(T(self)->storage->device.type == MT_CUDA); }
static PyObject *get_ndim(PyObject *self, void *c) { (void)c; return PyLong_FromLong(T(self)->ndim); }
static PyObject *get_requires_grad(PyObject *self, void *c) { (void)c; return PyBool_FromLong(T(self)->requires_grad); }
static int set_requires_grad(PyObject *self, PyObject *v, void *c) {
    (void)c;
    if (!v) { PyErr_SetString(PyExc_TypeError, "can't delete requires_grad"); return -1; }
    int b = PyObject_IsTrue(v);
    if (b < 0) return -1;
    mt_tensor *t = T(self);
    if (t->grad_fn) {
        if (!b) {
            PyErr_SetString(PyExc_RuntimeError, "you can only change requires_grad flags of leaf variables. If you want to "
                                                "use a computed variable in a subgraph that doesn't require differentiation "
                                                "use var_no_grad = var.detach().");
            return -1;
        }
        return 0;
    }
    if (b && !mt_is_floating(t->dtype)) {
        PyErr_SetString(PyExc_RuntimeError, "only Tensors of floating point dtype can require gradients");
        return -1;
    }
    if (b && t->storage->inference && !mt_inference_mode) {
        PyErr_SetString(PyExc_RuntimeError, "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.");
        return -1;
    }
    t->requires_grad = b;
    return 0;
}
static PyObject *get_grad(PyObject *self, void *c) {
    (void)c;
    mt_tensor *g = T(self)->grad;
    if (!g) Py_RETURN_NONE;
    return mt_py_wrap(mt_incref(g));
}
static int set_grad(PyObject *self, PyObject *v, void *c) {
    (void)c;
    /* torch's checks and words: the element type as C++ names it, the tensor's as ScalarType does */
    if (!v || v == Py_None) { mt_xsetref(&T(self)->grad, NULL); return 0; }
    if (!PyTensor_Check(v)) {
        PyErr_Format(PyExc_TypeError, "assigned grad expected to be a Tensor or None but got grad of type %s",
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    mt_tensor *t = T(self), *g = T(v);
    if (g->dtype != t->dtype) {
        PyErr_Format(PyExc_RuntimeError,
                     "attempting to assign a gradient with dtype '%s' to a tensor with grad_dtype '%s'. The gradient "
                     "must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
                     "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
                     "caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that "
                     "assume they match.", mt_cpp_type_name(g->dtype), mt_type_name(t->dtype));
        return -1;
    }
    if (!mt_same_device(g->storage->device, t->storage->device)) {
        PyErr_SetString(PyExc_RuntimeError, "assigned grad has data located on a different device");
        return -1;
    }
    if (g->ndim != t->ndim || memcmp(g->shape, t->shape, sizeof(int64_t) * t->ndim)) {
        PyErr_Format(PyExc_RuntimeError, "attempting to assign a gradient of size '%s' to a tensor of size '%s'. Please "
                     "ensure that the gradient and the tensor are the same size", mt_shape_str(g->shape, g->ndim),
                     mt_shape_str(t->shape, t->ndim));
        return -1;
    }
    mt_xsetref(&t->grad, mt_incref(g));
    return 0;
}
static PyObject *get_grad_fn(PyObject *self, void *c) { (void)c; return mt_py_node(T(self)->grad_fn); }
static PyObject *get_is_leaf(PyObject *self, void *c) { (void)c; return PyBool_FromLong(T(self)->grad_fn == NULL); }
static PyObject *get_data(PyObject *self, void *c) { (void)c; return mt_py_wrap(mt_detach(T(self))); }
static int set_data(PyObject *self, PyObject *v, void *c) {
    (void)c;
    if (!v || !PyTensor_Check(v)) { PyErr_SetString(PyExc_TypeError, "data must be a Tensor"); return -1; }
    mt_set_data(T(self), T(v));
    return 0;
}
static PyObject *get_T(PyObject *self, void *c) {
    (void)c;
    mt_tensor *t = T(self);
    int64_t dims[MT_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = t->ndim - 1 - i;
    return mt_py_wrap(mt_permute(t, dims, t->ndim));
}
static PyObject *get_mT(PyObject *self, void *c) {
    (void)c;
    if (T(self)->ndim == 0) { /* torch: the identity, deprecated */
        if (PyErr_WarnEx(PyExc_UserWarning,
                         "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.", 1) < 0)
            return NULL;
        Py_INCREF(self);
        return self;
    }
    if (T(self)->ndim == 1) {
        PyErr_SetString(PyExc_RuntimeError,
                        "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.");
        return NULL;
    }
    return mt_py_wrap(mt_transpose(T(self), -2, -1));
}
static PyObject *get_version(PyObject *self, void *c) { (void)c; return PyLong_FromUnsignedLongLong(T(self)->storage->version); }
static PyObject *get_base(PyObject *self, void *c) {
    (void)c;
    if (!T(self)->base) Py_RETURN_NONE;
    return mt_py_wrap(mt_incref(T(self)->base));
}
static PyObject *get_retains_grad(PyObject *self, void *c) { (void)c; return PyBool_FromLong(T(self)->retains_grad); }
static PyObject *get_output_nr(PyObject *self, void *c) { (void)c; return PyLong_FromLong(T(self)->output_nr); }
static PyObject *get_layout(PyObject *self, void *c) { (void)c; (void)self; return PyUnicode_FromString("torch.strided"); }

static PyGetSetDef tensor_getset[] = {
    {"shape", get_shape, NULL, NULL, NULL},
    {"dtype", get_dtype, NULL, NULL, NULL},
    {"device", get_device, NULL, NULL, NULL},
    {"is_cuda", get_is_cuda, NULL, NULL, NULL},
    {"ndim", get_ndim, NULL, NULL, NULL},
    {"requires_grad", get_requires_grad, set_requires_grad, NULL, NULL},
    {"grad", get_grad, set_grad, NULL, NULL},
    {"grad_fn", get_grad_fn, NULL, NULL, NULL},
    {"is_leaf", get_is_leaf, NULL, NULL, NULL},
    {"data", get_data, set_data, NULL, NULL},
    {"T", get_T, NULL, NULL, NULL},
    {"mT", get_mT, NULL, NULL, NULL},
    {"_version", get_version, NULL, NULL, NULL},
    {"_base", get_base, NULL, NULL, NULL},
    {"retains_grad", get_retains_grad, NULL, NULL, NULL},
    {"output_nr", get_output_nr, NULL, NULL, NULL},
    {"_layout_name", get_layout, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef tensor_class_methods[] = {
    {"_make_subclass", (PyCFunction)tensor_make_subclass, METH_VARARGS | METH_CLASS, NULL},
    {NULL, NULL, 0, NULL},
};

PyTypeObject PyTensorBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "minitorch._C.TensorBase",
    .tp_basicsize = sizeof(PyTensor),
    .tp_dealloc = tensor_dealloc,
    .tp_as_number = &tensor_as_number,
    .tp_as_mapping = &tensor_as_mapping,
    .tp_hash = tensor_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_richcompare = tensor_richcompare,
    .tp_getset = tensor_getset,
    .tp_new = tensor_new,
};

int mt_py_init_tensor_type(PyObject *m) {
    /* the method table is assembled in methods.c; class methods are appended here */
    if (!(PyTensorBase_Type.tp_methods = mt_py_build_methods())) return -1;
    if (PyType_Ready(&PyTensorBase_Type) < 0) return -1;
    for (PyMethodDef *d = tensor_class_methods; d->ml_name; d++) {
        PyObject *f = PyDescr_NewClassMethod(&PyTensorBase_Type, d);
        if (!f || PyDict_SetItemString(PyTensorBase_Type.tp_dict, d->ml_name, f) < 0) return -1;
        Py_DECREF(f);
    }
    PyType_Modified(&PyTensorBase_Type);
    Py_INCREF(&PyTensorBase_Type);
    return PyModule_AddObject(m, "TensorBase", (PyObject *)&PyTensorBase_Type);
}
