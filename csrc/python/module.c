/* minitorch._C: module init, factories, grad mode, autograd entry points,
 * graph-node wrappers and custom autograd.Function nodes. */
#include "py.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "../core/random.h"

#define PY_ARRAY_UNIQUE_SYMBOL MT_ARRAY_API
#include <numpy/arrayobject.h>

#include <string.h>

int mt_py_init_tensor_type(PyObject *m);
void mt_register_cpu_backend(void);

/* ---------------- registration of the Python-level classes ---------------- */
static PyObject *f_register(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *cls, *size, *dtypes, *device;
    if (!PyArg_ParseTuple(args, "OOOO", &cls, &size, &dtypes, &device)) return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyTensorBase_Type)) {
        PyErr_SetString(PyExc_TypeError, "_register: not a Tensor class");
        return NULL;
    }
    if (!PySequence_Check(dtypes) || PySequence_Size(dtypes) != MT_NUM_DTYPES) {
        PyErr_SetString(PyExc_TypeError, "_register: dtypes must list the dtypes in mt_dtype's order");
        return NULL;
    }
    Py_INCREF(cls);
    Py_XSETREF(mt_tensor_class, (PyTypeObject *)cls);
    Py_INCREF(size);
    Py_XSETREF(mt_size_class, size);
    Py_INCREF(device);
    Py_XSETREF(mt_device_class, device);
    for (int i = 0; i < MT_NUM_DTYPES; i++) Py_XSETREF(mt_dtype_objs[i], PySequence_GetItem(dtypes, i));
    Py_RETURN_NONE;
}

PyObject *mt_py_import(const char *sub) {
    PyObject *modname = mt_tensor_class ? PyObject_GetAttrString((PyObject *)mt_tensor_class, "__module__") : NULL;
    const char *m = modname ? PyUnicode_AsUTF8(modname) : NULL;
    if (!m) {
        PyErr_Clear();
        m = "minitorch";
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s%s%s", (int)strcspn(m, "."), m, sub ? "." : "", sub ? sub : "");
    Py_XDECREF(modname);
    return PyImport_ImportModule(name);
}

/* ---------------- factories ---------------- */
static void release_pyobj(void *ctx, void *data) {
    (void)data;
    PyGILState_STATE st = PyGILState_Ensure();
    Py_DECREF((PyObject *)ctx);
    PyGILState_Release(st);
}

/* _move_storage(tensor, uint8 array): the tensor's storage (and its views') now lives in the array's memory
 * (a shared mapping: Tensor.share_memory_), which the storage keeps alive. */
static PyObject *f_move_storage(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *t, *o;
    if (!PyArg_ParseTuple(args, "OO", &t, &o)) return NULL;
    if (!PyTensor_Check(t) || !PyArray_Check(o) || !PyArray_ISCARRAY((PyArrayObject *)o))
        return PyErr_Format(PyExc_TypeError, "_move_storage(tensor, contiguous writable array)");
    PyArrayObject *a = (PyArrayObject *)o;
    Py_INCREF(o);
    if (mt_storage_move(T(t), PyArray_DATA(a), (int64_t)PyArray_NBYTES(a), release_pyobj, o) < 0) {
        Py_DECREF(o);
        return mt_py_raise();
    }
    Py_RETURN_NONE;
}

/* _storage_nbytes(tensor): the size of the tensor's storage in bytes */
static PyObject *f_storage_nbytes(PyObject *mod, PyObject *t) {
    (void)mod;
    if (!PyTensor_Check(t)) return PyErr_Format(PyExc_TypeError, "_storage_nbytes(tensor)");
    return PyLong_FromLongLong((long long)T(t)->storage->nbytes);
}

/* _from_numpy(array, copy): float32/float64/int32/int64/bool arrays; copy=False shares memory */
static PyObject *f_from_numpy(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *o;
    int copy = 1;
    if (!PyArg_ParseTuple(args, "O|p", &o, &copy)) return NULL;
    if (!PyArray_Check(o)) {
        PyErr_Format(PyExc_TypeError, "expected np.ndarray (got %s)", Py_TYPE(o)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)o;
    mt_dtype dt;
    switch (PyArray_TYPE(a)) {
    case NPY_BOOL: dt = MT_BOOL; break;
    case NPY_INT32: dt = MT_INT32; break;
    case NPY_INT64: dt = MT_INT64; break;
    case NPY_FLOAT32: dt = MT_FLOAT32; break;
    case NPY_FLOAT64: dt = MT_FLOAT64; break;
    case NPY_UINT8: dt = MT_UINT8; break;
    case NPY_INT8: dt = MT_INT8; break;
    case NPY_INT16: dt = MT_INT16; break;
    case NPY_FLOAT16: dt = MT_FLOAT16; break;
    default:
        PyErr_Format(PyExc_TypeError, "can't convert np.ndarray of type %s. The only supported types are: float64, "
                                      "float32, float16, int64, int32, int16, int8, uint8, and bool.",
                     PyArray_DESCR(a)->typeobj->tp_name);
        return NULL;
    }
    int nd = PyArray_NDIM(a);
    if (nd > MT_MAX_DIMS) { PyErr_SetString(PyExc_RuntimeError, "too many dimensions"); return NULL; }
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    size_t es = mt_dtype_sizes[dt];
    bool ok = PyArray_ISALIGNED(a) && !PyArray_ISBYTESWAPPED(a);
    for (int i = 0; i < nd; i++) {
        shape[i] = PyArray_DIM(a, i);
        if (PyArray_STRIDE(a, i) % (npy_intp)es) ok = false;
        strides[i] = PyArray_STRIDE(a, i) / (npy_intp)es;
        if (strides[i] < 0) ok = false;
    }
    if (!copy && !ok) {
        PyErr_SetString(PyExc_ValueError, "At least one stride in the given numpy array is negative, and tensors with "
                                          "negative strides are not currently supported. (You can probably work around "
                                          "this by making a copy of your array  with array.copy().) ");
        return NULL;
    }
    if (!copy) {
        Py_INCREF(o);
        mt_tensor *t = mt_from_blob(PyArray_DATA(a), shape, strides, nd, dt, release_pyobj, o);
        if (!t) { Py_DECREF(o); return mt_py_raise(); }
        return mt_py_wrap(t);
    }
    mt_tensor *t = mt_empty(shape, nd, dt, mt_cpu());
    if (!t) return mt_py_raise();
    if (mt_numel(t)) {
        PyArrayObject *c = (PyArrayObject *)PyArray_FromAny(o, PyArray_DescrFromType(PyArray_TYPE(a)), 0, 0,
                                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
        if (!c) { mt_decref(t); return NULL; }
        memcpy(mt_data(t), PyArray_DATA(c), (size_t)mt_numel(t) * es);
        Py_DECREF(c);
    }
    return mt_py_wrap(t);
}

/* _full(shape, value or None, dtype, device, requires_grad) */
static PyObject *f_full(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *shape, *value, *dt, *dev;
    int rg = 0;
    if (!PyArg_ParseTuple(args, "OOOO|p", &shape, &value, &dt, &dev, &rg)) return NULL;
    int64_t s[MT_MAX_DIMS];
    int n = mt_py_int_list(shape, s, MT_MAX_DIMS, "size");
    if (n < 0) return NULL;
    mt_dtype d;
    mt_device device;
    if (mt_py_dtype(dt, &d) < 0 || mt_py_device(dev, &device) < 0) return NULL;
    mt_tensor *t;
    if (value == Py_None) t = mt_empty(s, n, d, device);
    else {
        mt_scalar v;
        if (mt_py_scalar(value, &v) < 0) return NULL;
        t = mt_full(s, n, v, d, device);
    }
    if (!t) return mt_py_raise();
    if (rg) {
        if (!mt_is_floating(d)) {
            mt_decref(t);
            PyErr_SetString(PyExc_RuntimeError, "Only Tensors of floating point and complex dtype can require gradients");
            return NULL;
        }
        t->requires_grad = true;
    }
    return mt_py_wrap(t);
}

/* ---------------- minitorch.Generator: a (seed, offset) Philox stream of its own ---------------- */
typedef struct {
    PyObject_HEAD
    mt_generator own;
    mt_generator *gen; /* &own, or the process's default generator (minitorch.default_generator) */
    int device_type;
} PyGenerator;
static PyTypeObject PyGenerator_Type;

/* PyTorch's seed rule: an int in [-2**63, 2**64); a negative one is taken modulo 2**64 */
static int seed_arg(PyObject *o, uint64_t *seed) {
    if (!PyLong_Check(o) || PyBool_Check(o)) {
        PyErr_Format(PyExc_RuntimeError, "manual_seed expected a long, but got %s", Py_TYPE(o)->tp_name);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(o);
        if (!PyErr_Occurred()) { *seed = u; return 0; }
        PyErr_Clear();
    }
    if (overflow) {
        PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
        return -1;
    }
    *seed = (uint64_t)v;
    return 0;
}

static PyObject *gen_new(PyTypeObject *tp, PyObject *args, PyObject *kw) {
    static char *kws[] = {"device", NULL};
    PyObject *dev = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kws, &dev)) return NULL;
    mt_device d = mt_cpu();
    if (dev && dev != Py_None && mt_py_device(dev, &d) < 0) return NULL;
    PyGenerator *g = (PyGenerator *)tp->tp_alloc(tp, 0);
    if (!g) return NULL;
    g->device_type = d.type;
    g->gen = &g->own;
    mt_manual_seed(g->gen, MT_DEFAULT_SEED);
    return (PyObject *)g;
}
static PyObject *gen_manual_seed(PyObject *self, PyObject *arg) {
    uint64_t s;
    if (seed_arg(arg, &s) < 0) return NULL;
    mt_manual_seed(((PyGenerator *)self)->gen, s);
    Py_INCREF(self);
    return self;
}
static PyObject *gen_seed(PyObject *self, PyObject *u) {
    (void)u;
    PyObject *os_random = PyImport_ImportModule("random");
    PyObject *v = os_random ? PyObject_CallMethod(os_random, "getrandbits", "i", 63) : NULL;
    Py_XDECREF(os_random);
    if (!v) return NULL;
    PyObject *r = gen_manual_seed(self, v);
    Py_XDECREF(r);
    if (!r) { Py_DECREF(v); return NULL; }
    return v;
}
static PyObject *gen_initial_seed(PyObject *self, PyObject *u) {
    (void)u;
    return PyLong_FromUnsignedLongLong(((PyGenerator *)self)->gen->seed);
}
static PyObject *gen_get_state(PyObject *self, PyObject *u) {
    (void)u;
    mt_generator *g = ((PyGenerator *)self)->gen;
    return Py_BuildValue("(KK)", (unsigned long long)g->seed, (unsigned long long)g->offset);
}
static PyObject *gen_set_state(PyObject *self, PyObject *state) {
    unsigned long long seed, off;
    if (!PyArg_ParseTuple(state, "KK", &seed, &off)) return NULL;
    *((PyGenerator *)self)->gen = (mt_generator){seed, off};
    Py_INCREF(self);
    return self;
}
static PyObject *gen_device(PyObject *self, void *c) {
    (void)c;
    return mt_py_device_obj((mt_device){((PyGenerator *)self)->device_type, 0});
}
static PyMethodDef gen_methods[] = {
    {"manual_seed", gen_manual_seed, METH_O, NULL}, {"seed", gen_seed, METH_NOARGS, NULL},
    {"initial_seed", gen_initial_seed, METH_NOARGS, NULL}, {"get_state", gen_get_state, METH_NOARGS, NULL},
    {"set_state", gen_set_state, METH_O, NULL}, {NULL, NULL, 0, NULL},
};
static PyGetSetDef gen_getset[] = {{"device", gen_device, NULL, NULL, NULL}, {NULL, NULL, NULL, NULL, NULL}};
static PyTypeObject PyGenerator_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "minitorch._C.Generator",
    .tp_basicsize = sizeof(PyGenerator),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = gen_new,
    .tp_methods = gen_methods,
    .tp_getset = gen_getset,
};

mt_generator *mt_py_generator(PyObject *o, mt_device dev, int *err) {
    *err = 0;
    if (!o || o == Py_None) return NULL;
    if (!PyObject_TypeCheck(o, &PyGenerator_Type)) {
        PyErr_Format(PyExc_TypeError, "generator must be a minitorch.Generator, not %s", Py_TYPE(o)->tp_name);
        *err = -1;
        return NULL;
    }
    PyGenerator *g = (PyGenerator *)o;
    if (g->device_type != (int)dev.type) {
        PyErr_Format(PyExc_RuntimeError, "Expected a '%s' device type for generator but found '%s'",
                     dev.type == MT_CPU ? "cpu" : "cuda", g->device_type == MT_CPU ? "cpu" : "cuda");
        *err = -1;
        return NULL;
    }
    return g->gen;
}

static PyObject *f_randperm(PyObject *mod, PyObject *args) {
    (void)mod;
    long long n;
    PyObject *gen = NULL;
    if (!PyArg_ParseTuple(args, "L|O", &n, &gen)) return NULL;
    if (n < 0) { PyErr_Format(PyExc_RuntimeError, "randperm is only implemented for non-negative n, got %lld", n); return NULL; }
    int err;
    mt_generator *g = mt_py_generator(gen, mt_cpu(), &err);
    if (err) return NULL;
    mt_tensor *t = mt_empty((int64_t[]){n}, 1, MT_INT64, mt_cpu());
    if (!t) return mt_py_raise();
    mt_randperm_i64(g ? g : mt_default_generator(MT_CPU), mt_data(t), n);
    return mt_py_wrap(t);
}

/* test hook: the next k autograd node allocations fail as if out of memory */
static PyObject *f_fail_node_allocs(PyObject *mod, PyObject *arg) {
    (void)mod;
    long k = PyLong_AsLong(arg);
    if (k == -1 && PyErr_Occurred()) return NULL;
    mt_debug_fail_node_allocs = (int)k;
    Py_RETURN_NONE;
}

static PyObject *default_generator; /* minitorch.default_generator: the CPU default stream */

/* torch.manual_seed(seed): int(seed), then every device's default generator; returns the CPU one */
static PyObject *f_manual_seed(PyObject *mod, PyObject *arg) {
    (void)mod;
    PyObject *as_int = PyNumber_Long(arg);
    if (!as_int) return NULL;
    uint64_t s;
    int rc = seed_arg(as_int, &s);
    Py_DECREF(as_int);
    if (rc < 0) return NULL;
    for (int d = 0; d < MT_NUM_DEVICE_TYPES; d++) {
        mt_generator *g = mt_default_generator(d);
        if (g) mt_manual_seed(g, s);
    }
    Py_INCREF(default_generator);
    return default_generator;
}
static PyObject *f_initial_seed(PyObject *mod, PyObject *u) {
    (void)mod; (void)u;
    return PyLong_FromUnsignedLongLong(mt_default_generator(MT_CPU)->seed);
}
static PyObject *f_get_rng_state(PyObject *mod, PyObject *u) {
    (void)mod; (void)u;
    mt_generator *g = mt_default_generator(MT_CPU);
    return Py_BuildValue("(KK)", (unsigned long long)g->seed, (unsigned long long)g->offset);
}
static PyObject *f_set_rng_state(PyObject *mod, PyObject *args) {
    (void)mod;
    unsigned long long seed, off;
    if (!PyArg_ParseTuple(args, "(KK)", &seed, &off)) return NULL;
    mt_generator *g = mt_default_generator(MT_CPU);
    g->seed = seed;
    g->offset = off;
    Py_RETURN_NONE;
}

/* ---------------- grad mode ---------------- */
static PyObject *f_is_grad_enabled(PyObject *mod, PyObject *u) { (void)mod; (void)u; return PyBool_FromLong(mt_grad_enabled); }
static PyObject *f_set_inference_mode(PyObject *mod, PyObject *arg) {
    (void)mod;
    int b = PyObject_IsTrue(arg);
    if (b < 0) return NULL;
    PyObject *prev = PyBool_FromLong(mt_inference_mode);
    mt_inference_mode = b;
    return prev;
}
static PyObject *f_is_inference_mode_enabled(PyObject *mod, PyObject *u) {
    (void)mod; (void)u;
    return PyBool_FromLong(mt_inference_mode);
}

static PyObject *f_set_grad_enabled(PyObject *mod, PyObject *arg) {
    (void)mod;
    int b = PyObject_IsTrue(arg);
    if (b < 0) return NULL;
    mt_grad_enabled = b;
    Py_RETURN_NONE;
}

/* ---------------- tensor lists ---------------- */
static int tensor_list(PyObject *seq, mt_tensor ***out, Py_ssize_t *n, const char *what) {
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of Tensors");
    if (!fast) return -1;
    *n = PySequence_Fast_GET_SIZE(fast);
    *out = PyMem_Malloc(sizeof(mt_tensor *) * (size_t)(*n ? *n : 1));
    if (!*out) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < *n; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyTensor_Check(it)) {
            PyErr_Format(PyExc_TypeError, "%s(): argument 'tensors' must be tuple of Tensors, not %s", what, Py_TYPE(it)->tp_name);
            PyMem_Free(*out);
            Py_DECREF(fast);
            return -1;
        }
        (*out)[i] = T(it);
    }
    Py_DECREF(fast); /* the items stay alive: the caller holds seq */
    return 0;
}

static PyObject *cat_stack(PyObject *args, PyObject *kw, bool stack) {
    static char *kws[] = {"tensors", "dim", NULL};
    PyObject *seq;
    long long dim = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|L", kws, &seq, &dim)) return NULL;
    if (PyTensor_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor", stack ? "stack" : "cat");
        return NULL;
    }
    mt_tensor **ts;
    Py_ssize_t n;
    if (tensor_list(seq, &ts, &n, stack ? "stack" : "cat") < 0) return NULL;
    mt_tensor *r = stack ? mt_stack((int)n, ts, dim) : mt_cat((int)n, ts, dim);
    PyMem_Free(ts);
    return mt_py_wrap(r);
}
static PyObject *f_cat(PyObject *m, PyObject *a, PyObject *k) { (void)m; return cat_stack(a, k, false); }
static PyObject *f_stack(PyObject *m, PyObject *a, PyObject *k) { (void)m; return cat_stack(a, k, true); }

/* where(cond, a, b): a Python number operand is a wrapped number in the result type, as in
 * PyTorch (where(c, int32 tensor, 7) is int32; 2**40 there does not fit and raises) */
/* promote_types(a, b): the core's promotion lattice (core/tensor.c), one definition for C and Python */
static PyObject *f_promote_types(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *a, *b;
    mt_dtype da, db;
    if (!PyArg_ParseTuple(args, "OO", &a, &b) || mt_py_dtype(a, &da) < 0 || mt_py_dtype(b, &db) < 0) return NULL;
    PyObject *r = mt_py_dtype_obj(mt_promote_types(da, db));
    Py_INCREF(r);
    return r;
}

static PyObject *f_where(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *c, *a, *b;
    if (PyTuple_GET_SIZE(args) == 1) { /* where(condition): the indices of its nonzero elements, as a tuple */
        c = PyTuple_GET_ITEM(args, 0);
        if (!PyTensor_Check(c)) { PyErr_SetString(PyExc_TypeError, "where(): argument 'condition' must be Tensor"); return NULL; }
        PyObject *meth = PyObject_GetAttrString(c, "nonzero");
        PyObject *kw = meth ? Py_BuildValue("{s:O}", "as_tuple", Py_True) : NULL;
        PyObject *empty = kw ? PyTuple_New(0) : NULL;
        PyObject *r = empty ? PyObject_Call(meth, empty, kw) : NULL;
        Py_XDECREF(meth);
        Py_XDECREF(kw);
        Py_XDECREF(empty);
        return r;
    }
    if (!PyArg_ParseTuple(args, "OOO", &c, &a, &b)) return NULL;
    if (!PyTensor_Check(c)) { PyErr_SetString(PyExc_TypeError, "where(): argument 'condition' must be Tensor"); return NULL; }
    if (mt_py_where_cond_warn(T(c)) < 0) return NULL;
    PyObject *ops[2] = {a, b};
    mt_tensor *ts[2] = {NULL, NULL};
    mt_scalar ss[2];
    for (int k = 0; k < 2; k++) {
        if (mt_py_is_scalar(ops[k])) {
            if (mt_py_scalar(ops[k], &ss[k]) < 0) return NULL;
        } else if (!(ts[k] = mt_py_as_tensor(ops[k], NULL))) {
            mt_decref(ts[0]);
            return NULL;
        }
    }
    mt_dtype rt = mt_result_type2(ts[0], &ss[0], ts[1], &ss[1]);
    mt_device dev = ts[0] ? ts[0]->storage->device : ts[1] ? ts[1]->storage->device : T(c)->storage->device;
    for (int k = 0; k < 2; k++)
        if (!ts[k] && !(ts[k] = mt_where_scalar(&ss[k], rt, dev))) { mt_decref(ts[0]); return mt_py_raise(); }
    PyObject *r = mt_py_wrap(mt_where(T(c), ts[0], ts[1]));
    mt_decref(ts[0]);
    mt_decref(ts[1]);
    return r;
}

/* _run_backward(outputs, grad_outputs, retain_graph, inputs or None, allow_unused, create_graph) */
static PyObject *f_run_backward(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *outs, *grads, *inputs;
    int retain = 0, allow_unused = 0, create = 0;
    if (!PyArg_ParseTuple(args, "OOpOp|p", &outs, &grads, &retain, &inputs, &allow_unused, &create)) return NULL;
    mt_tensor **to = NULL, **tg = NULL, **ti = NULL, **res = NULL;
    Py_ssize_t no, ng, ni = 0;
    PyObject *result = NULL;
    if (tensor_list(outs, &to, &no, "backward") < 0) return NULL;
    if (tensor_list(grads, &tg, &ng, "backward") < 0) goto out;
    if (ng != no) { PyErr_SetString(PyExc_RuntimeError, "grad_tensors and tensors must have the same length"); goto out; }
    if (inputs != Py_None) {
        if (tensor_list(inputs, &ti, &ni, "grad") < 0) goto out;
        res = PyMem_Calloc((size_t)(ni ? ni : 1), sizeof(mt_tensor *));
        if (!res) { PyErr_NoMemory(); goto out; }
    }
    if (mt_backward((int)no, to, tg, retain, create, (int)ni, ti, res, allow_unused) < 0) { mt_py_raise(); goto out; }
    if (inputs == Py_None) { result = Py_None; Py_INCREF(result); goto out; }
    result = PyTuple_New(ni);
    for (Py_ssize_t i = 0; result && i < ni; i++) {
        if (res[i]) PyTuple_SET_ITEM(result, i, mt_py_wrap(res[i]));
        else { Py_INCREF(Py_None); PyTuple_SET_ITEM(result, i, Py_None); }
        res[i] = NULL;
    }
out:
    if (res) for (Py_ssize_t i = 0; i < ni; i++) mt_decref(res[i]);
    PyMem_Free(to);
    PyMem_Free(tg);
    PyMem_Free(ti);
    PyMem_Free(res);
    return result;
}

/* ---------------- graph nodes ---------------- */
typedef struct { PyObject *ctx; PyObject *backward; char name[96]; } py_fn_extra;

static int py_fn_backward(mt_node *n, mt_tensor **go, mt_tensor **gi);
static void py_fn_release(mt_node *n) {
    py_fn_extra *e = n->extra;
    if (!e) return;
    PyGILState_STATE st = PyGILState_Ensure();
    Py_XDECREF(e->ctx);
    Py_XDECREF(e->backward);
    PyGILState_Release(st);
    PyMem_RawFree(e);
}
/* differentiable: the user's backward runs with grad mode on under create_graph, as torch */
static const mt_node_vt py_fn_vt = {"PythonFunction", py_fn_backward, py_fn_release, true};

static void node_dealloc(PyObject *self) {
    mt_node_decref(((PyNode *)self)->n);
    Py_TYPE(self)->tp_free(self);
}
static PyObject *node_repr(PyObject *self) {
    return PyUnicode_FromFormat("<%s object at %p>", mt_node_name(((PyNode *)self)->n), self);
}
static PyObject *node_name(PyObject *self, PyObject *u) { (void)u; return PyUnicode_FromString(mt_node_name(((PyNode *)self)->n)); }
static PyObject *node_next_functions(PyObject *self, void *c) {
    (void)c;
    mt_node *n = ((PyNode *)self)->n;
    PyObject *t = PyTuple_New(n->n_next);
    for (int k = 0; t && k < n->n_next; k++)
        PyTuple_SET_ITEM(t, k, Py_BuildValue("(Ni)", mt_py_node(n->next[k].node), (int)n->next[k].input_nr));
    return t;
}
static PyObject *node_variable(PyObject *self, void *c) {
    (void)c;
    mt_node *n = ((PyNode *)self)->n;
    if (!n->variable) { PyErr_SetString(PyExc_AttributeError, "variable"); return NULL; }
    return mt_py_wrap(mt_incref(n->variable));
}
static PyObject *node_richcompare(PyObject *a, PyObject *b, int op) {
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(b) != Py_TYPE(a)) Py_RETURN_NOTIMPLEMENTED;
    bool eq = ((PyNode *)a)->n == ((PyNode *)b)->n;
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}
static Py_hash_t node_hash(PyObject *self) { return (Py_hash_t)((uintptr_t)((PyNode *)self)->n >> 4); }
/* register_hook(fn(grad_inputs, grad_outputs)) / register_prehook(fn(grad_outputs)): a handle whose
   remove() unregisters it (minitorch.autograd.graph._HookHandle) */
static PyObject *node_add_hook(PyObject *self, PyObject *fn, int kind) {
    extern PyObject *mt_py_hook_add(PyObject *target, int kind, PyObject *fn);
    return mt_py_hook_add(self, kind, fn);
}
static PyObject *node_register_hook(PyObject *self, PyObject *fn) { return node_add_hook(self, fn, MT_HOOK_NODE_POST); }
static PyObject *node_register_prehook(PyObject *self, PyObject *fn) { return node_add_hook(self, fn, MT_HOOK_NODE_PRE); }
static PyMethodDef node_methods[] = {
    {"name", node_name, METH_NOARGS, NULL},
    {"register_hook", node_register_hook, METH_O, NULL},
    {"register_prehook", node_register_prehook, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
static PyGetSetDef node_getset[] = {
    {"next_functions", node_next_functions, NULL, NULL, NULL},
    {"variable", node_variable, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
PyTypeObject PyNode_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "minitorch._C.Node",
    .tp_basicsize = sizeof(PyNode),
    .tp_dealloc = node_dealloc,
    .tp_repr = node_repr,
    .tp_hash = node_hash,
    .tp_richcompare = node_richcompare,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = node_methods,
    .tp_getset = node_getset,
};

PyObject *mt_py_node(mt_node *n) {
    if (!n) Py_RETURN_NONE;
    PyNode *o = PyObject_New(PyNode, &PyNode_Type);
    if (!o) return NULL;
    mt_node_incref(n);
    o->n = n;
    return (PyObject *)o;
}

/* ---------------- custom autograd.Function ---------------- */
static int py_fn_backward(mt_node *n, mt_tensor **go, mt_tensor **gi) {
    py_fn_extra *e = n->extra;
    PyObject *args = PyTuple_New(n->n_outputs + 1);
    if (!args) return -1;
    Py_INCREF(e->ctx);
    PyTuple_SET_ITEM(args, 0, e->ctx);
    for (int k = 0; k < n->n_outputs; k++) {
        PyObject *g;
        if (go[k]) g = mt_py_wrap(mt_incref(go[k]));
        else { Py_INCREF(Py_None); g = Py_None; }
        if (!g) { Py_DECREF(args); return -1; }
        PyTuple_SET_ITEM(args, k + 1, g);
    }
    PyObject *r = PyObject_CallObject(e->backward, args);
    Py_DECREF(args);
    if (!r) return -1; /* the Python exception stays set; mt_py_raise keeps it */
    PyObject *seq = PyTuple_Check(r) ? r : PyTuple_Pack(1, r);
    if (seq != r) Py_DECREF(r);
    if (!seq) return -1;
    Py_ssize_t m = PyTuple_GET_SIZE(seq);
    if (m < n->n_next) {
        PyErr_Format(PyExc_RuntimeError, "function %s returned an incorrect number of gradients (expected %d, got %zd)",
                     e->name, n->n_next, m);
        Py_DECREF(seq);
        return -1;
    }
    for (int k = 0; k < n->n_next; k++) {
        PyObject *g = PyTuple_GET_ITEM(seq, k);
        if (g == Py_None || !mt_node_needs(n, k)) continue;
        if (!PyTensor_Check(g)) {
            PyErr_Format(PyExc_TypeError, "function %s returned a gradient that is not a Tensor or None", e->name);
            Py_DECREF(seq);
            return -1;
        }
        gi[k] = mt_incref(T(g));
    }
    Py_DECREF(seq);
    return 0;
}

/* _function_record(ctx, name, backward, inputs_tuple, outputs_tuple): makes one node for a custom
 * Function's outputs. Non-tensor inputs get no edge. */
static PyObject *f_function_record(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *ctx, *backward, *inputs, *outputs;
    const char *name;
    if (!PyArg_ParseTuple(args, "OsOO!O!", &ctx, &name, &backward, &PyTuple_Type, &inputs, &PyTuple_Type, &outputs)) return NULL;
    Py_ssize_t ni = PyTuple_GET_SIZE(inputs), no = PyTuple_GET_SIZE(outputs);
    mt_tensor **ins = PyMem_Calloc((size_t)(ni ? ni : 1), sizeof(mt_tensor *));
    mt_tensor **outs = PyMem_Calloc((size_t)(no ? no : 1), sizeof(mt_tensor *));
    if (!ins || !outs) { PyMem_Free(ins); PyMem_Free(outs); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < ni; i++) {
        PyObject *it = PyTuple_GET_ITEM(inputs, i);
        ins[i] = PyTensor_Check(it) ? T(it) : NULL;
    }
    for (Py_ssize_t i = 0; i < no; i++) {
        PyObject *it = PyTuple_GET_ITEM(outputs, i);
        outs[i] = PyTensor_Check(it) ? T(it) : NULL;
    }
    PyObject *res = NULL;
    if (mt_any_requires_grad((int)ni, ins)) {
        py_fn_extra *e = PyMem_RawCalloc(1, sizeof *e);
        if (!e) { PyErr_NoMemory(); goto out; }
        mt_node *n = mt_autograd_record_n(&py_fn_vt, (int)no, outs, (int)ni, ins);
        if (!n) { PyMem_RawFree(e); mt_py_raise(); goto out; }
        Py_INCREF(ctx);
        Py_INCREF(backward);
        e->ctx = ctx;
        e->backward = backward;
        snprintf(e->name, sizeof e->name, "%s", name);
        n->extra = e;
        n->had_saved = true; /* ctx may hold saved tensors: a second backward is an error */
        /* the node outlives its extra (freed with the saved state after a backward): its name points into
           a str kept for the process's lifetime, one per distinct name */
        static PyObject *names;
        if (!names && !(names = PyDict_New())) goto out;
        PyObject *key = PyDict_GetItemString(names, e->name); /* borrowed */
        if (!key) {
            key = PyUnicode_FromString(e->name);
            if (!key || PyDict_SetItemString(names, e->name, key) < 0) { Py_XDECREF(key); goto out; }
            Py_DECREF(key); /* the dict holds it */
        }
        const char *kept = PyUnicode_AsUTF8(key);
        if (!kept) goto out;
        n->name = kept;
    }
    res = Py_None;
    Py_INCREF(res);
out:
    PyMem_Free(ins);
    PyMem_Free(outs);
    return res;
}

static PyObject *f_num_threads(PyObject *mod, PyObject *u) {
    (void)mod; (void)u;
    extern int mt_num_threads(void);
    return PyLong_FromLong(mt_num_threads());
}

/* torch.set_num_threads: OpenMP's threads (minitorch's kernels) and the BLAS's; torch's errors. */
static PyObject *f_set_num_threads(PyObject *mod, PyObject *arg) {
    (void)mod;
    extern void mt_set_num_threads(int);
    if (!PyLong_Check(arg) || PyBool_Check(arg))
        return PyErr_Format(PyExc_RuntimeError, "set_num_threads expects an int, but got %s", Py_TYPE(arg)->tp_name);
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n <= 0 || n > 1 << 16) return PyErr_Format(PyExc_RuntimeError, "set_num_threads expects a positive integer");
    mt_set_num_threads((int)n);
    Py_RETURN_NONE;
}

/* tril_indices / triu_indices(row, col, offset=0, *, dtype=torch.long, device=None, layout=torch.strided) */
static int tri_int(const char *fn, const char *arg, int pos, PyObject *o, long long *v) {
    if (PyBool_Check(o) || !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' (position %d) must be int, not %s", fn, arg, pos,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *i = PyNumber_Index(o);
    if (!i) return -1;
    *v = PyLong_AsLongLong(i);
    Py_DECREF(i);
    return *v == -1 && PyErr_Occurred() ? -1 : 0;
}
static PyObject *tri_indices(PyObject *args, PyObject *kw, bool upper) {
    static char *kws[] = {"row", "col", "offset", "dtype", "device", "layout", NULL};
    const char *fn = upper ? "triu_indices" : "tril_indices";
    PyObject *ro = NULL, *co = NULL, *oo = NULL, *dt = Py_None, *dev = Py_None, *layout = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO$OOO", kws, &ro, &co, &oo, &dt, &dev, &layout)) return NULL;
    if (!ro || !co) {
        PyErr_Format(PyExc_TypeError, "%s() missing 1 required positional arguments: \"%s\"", fn, ro ? "col" : "row");
        return NULL;
    }
    long long row, col, off = 0;
    if (tri_int(fn, "row", 1, ro, &row) < 0 || tri_int(fn, "col", 2, co, &col) < 0) return NULL;
    if (oo && tri_int(fn, "offset", 3, oo, &off) < 0) return NULL;
    mt_dtype d = MT_INT64;
    if (dt != Py_None && mt_py_dtype(dt, &d) < 0) return NULL;
    mt_device device = mt_cpu();
    if (dev != Py_None && mt_py_device(dev, &device) < 0) return NULL;
    mt_tensor *t = mt_tri_indices(row, col, off, upper, d);
    if (t && device.type != MT_CPU) { /* computed on the CPU, then copied */
        mt_tensor *m = mt_to_device_raw(t, device, d);
        mt_decref(t);
        t = m;
    }
    return mt_py_wrap(t);
}
static PyObject *f_tril_indices(PyObject *mod, PyObject *a, PyObject *k) { (void)mod; return tri_indices(a, k, false); }
static PyObject *f_triu_indices(PyObject *mod, PyObject *a, PyObject *k) { (void)mod; return tri_indices(a, k, true); }

#define KW (PyCFunction)(void (*)(void))
PyMethodDef mt_module_functions[] = {
    {"_register", f_register, METH_VARARGS, NULL},
    {"_from_numpy", f_from_numpy, METH_VARARGS, NULL},
    {"_move_storage", f_move_storage, METH_VARARGS, NULL},
    {"_storage_nbytes", f_storage_nbytes, METH_O, NULL},
    {"_full", f_full, METH_VARARGS, NULL},
    {"_randperm", f_randperm, METH_VARARGS, NULL},
    {"_fail_node_allocs", f_fail_node_allocs, METH_O, NULL},
    {"manual_seed", f_manual_seed, METH_O, NULL},
    {"initial_seed", f_initial_seed, METH_NOARGS, NULL},
    {"get_rng_state", f_get_rng_state, METH_NOARGS, NULL},
    {"set_rng_state", f_set_rng_state, METH_VARARGS, NULL},
    {"is_grad_enabled", f_is_grad_enabled, METH_NOARGS, NULL},
    {"_set_grad_enabled", f_set_grad_enabled, METH_O, NULL},
    {"_set_inference_mode", f_set_inference_mode, METH_O, NULL},
    {"is_inference_mode_enabled", f_is_inference_mode_enabled, METH_NOARGS, NULL},
    {"cat", KW f_cat, METH_VARARGS | METH_KEYWORDS, NULL},
    {"stack", KW f_stack, METH_VARARGS | METH_KEYWORDS, NULL},
    {"where", f_where, METH_VARARGS, NULL},
    {"promote_types", f_promote_types, METH_VARARGS, NULL},
    {"_run_backward", f_run_backward, METH_VARARGS, NULL},
    {"_function_record", f_function_record, METH_VARARGS, NULL},
    {"get_num_threads", f_num_threads, METH_NOARGS, NULL},
    {"set_num_threads", f_set_num_threads, METH_O, NULL},
    {"tril_indices", KW f_tril_indices, METH_VARARGS | METH_KEYWORDS, NULL},
    {"triu_indices", KW f_triu_indices, METH_VARARGS | METH_KEYWORDS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_C", "minitorch C core", -1, mt_module_functions,
                                       NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__C(void) {
    import_array();
    mt_register_cpu_backend();
    extern void mt_blas_single_threaded(void);
    mt_blas_single_threaded(); /* OpenBLAS's own pool stays idle: products split over OpenMP (matmul.c) */
#ifdef __GLIBC__
    /* Blocks under 32 MiB (tensors, and the kernels' workspaces) come from malloc's heap and stay there between
     * steps. glibc's default mmaps blocks over 128 KiB until a free raises its threshold, and trims the heap top
     * past twice that, so a training step that frees and allocates the same activations every time paid a page
     * fault for each of their pages (a WGAN-GP critic step: 785 faults, 4.5 ms; with these 0 and 2.9 ms). These
     * are the values glibc's own adaptive threshold grows to; setting them keeps them from the first step on. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    if (mt_py_init_tensor_type(m) < 0) return NULL;
    /* function tables of the nn and optim layers (nn_py.c, optim_py.c) */
    extern PyMethodDef mt_nn_functions[], mt_optim_functions[], mt_autograd_functions[], mt_dist_functions[],
        mt_dlpack_functions[];
    if (PyModule_AddFunctions(m, mt_nn_functions) < 0 || PyModule_AddFunctions(m, mt_optim_functions) < 0 ||
        PyModule_AddFunctions(m, mt_autograd_functions) < 0 || PyModule_AddFunctions(m, mt_dist_functions) < 0 ||
        PyModule_AddFunctions(m, mt_dlpack_functions) < 0)
        return NULL;
    if (PyType_Ready(&PyNode_Type) < 0) return NULL;
    if (PyType_Ready(&PyGenerator_Type) < 0) return NULL;
    Py_INCREF(&PyGenerator_Type);
    PyModule_AddObject(m, "Generator", (PyObject *)&PyGenerator_Type);
    {
        PyGenerator *dg = PyObject_New(PyGenerator, &PyGenerator_Type);
        if (!dg) return NULL;
        dg->gen = mt_default_generator(MT_CPU);
        dg->device_type = MT_CPU;
        default_generator = (PyObject *)dg; /* the module keeps one reference below, this file the other */
        Py_INCREF(default_generator);
        if (PyModule_AddObject(m, "default_generator", default_generator) < 0) return NULL;
    }
    Py_INCREF(&PyNode_Type);
    PyModule_AddObject(m, "Node", (PyObject *)&PyNode_Type);
    {
        PyObject *ops = mt_py_op_manifest(); /* the op declarations, for __init__.py and the tests */
        if (!ops || PyModule_AddObject(m, "_ops", ops) < 0) { Py_XDECREF(ops); return NULL; }
    }
    { extern PyObject *mt_py_core_api(void); PyModule_AddObject(m, "_core_api", mt_py_core_api()); } /* core API capsule for the CUDA extension (csrc/python/core_api.c) */
    return m;
}
