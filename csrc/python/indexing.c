/* Tensor.__getitem__ / __setitem__. Basic indexing (ints, slices, None, ...) is a
 * view built here in C; advanced indices (int/bool tensors and lists) are handed
 * to minitorch/_indexing.py, which composes them from index_select and views. */
#include "py.h"

#include <string.h>

static PyObject *adv_module;

static PyObject *adv_call(const char *fn, PyObject *args) {
    if (!adv_module) adv_module = mt_py_import("_indexing");
    if (!adv_module) return NULL;
    PyObject *f = PyObject_GetAttrString(adv_module, fn);
    if (!f) return NULL;
    PyObject *r = PyObject_CallObject(f, args);
    Py_DECREF(f);
    return r;
}

static bool is_advanced(PyObject *o) {
    return PyList_Check(o) || (PyTensor_Check(o) && !(T(o)->ndim == 0 && mt_is_integral(T(o)->dtype))) ||
           (!PyTensor_Check(o) && !PyLong_Check(o) && !PySlice_Check(o) && o != Py_None && o != Py_Ellipsis &&
            !PyBool_Check(o) && PyObject_HasAttrString(o, "__array__"));
}

/* Applies the basic part of `index` to self. Returns the view; when advanced entries exist,
 * *adv gets a list of (dim_in_view, index_object) pairs for the Python layer. */
static mt_tensor *apply_basic(mt_tensor *self, PyObject *index, PyObject **adv) {
    PyObject *tup;
    if (PyTuple_Check(index)) { tup = index; Py_INCREF(tup); }
    else tup = PyTuple_Pack(1, index);
    if (!tup) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(tup);
    int consumed = 0, ellipsis = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PyTuple_GET_ITEM(tup, i);
        if (it == Py_Ellipsis) {
            if (ellipsis >= 0) { Py_DECREF(tup); PyErr_SetString(PyExc_IndexError, "an index can only have a single ellipsis ('...')"); return NULL; }
            ellipsis = (int)i;
        } else if (it == Py_None || PyBool_Check(it)) {
        } else if (PySlice_Check(it)) { /* a slice's step is checked first, as torch parses it (x0d[::0]) */
            Py_ssize_t start, stop, step;
            if (PySlice_Unpack(it, &start, &stop, &step) < 0 ||
                (step <= 0 && (PyErr_SetString(PyExc_ValueError, "step must be greater than zero"), 1))) {
                Py_DECREF(tup);
                return NULL;
            }
            consumed++;
        } else if (PyTensor_Check(it) && T(it)->dtype == MT_BOOL) consumed += T(it)->ndim ? T(it)->ndim : 0;
        else consumed++;
    }
    if (consumed > self->ndim) {
        Py_DECREF(tup);
        PyErr_Format(PyExc_IndexError, "too many indices for tensor of dimension %d", self->ndim);
        return NULL;
    }
    mt_tensor *v = mt_incref(self);
    int dim = 0; /* current dim in v */
    *adv = NULL;
    for (Py_ssize_t i = 0; i < n && v; i++) {
        PyObject *it = PyTuple_GET_ITEM(tup, i);
        mt_tensor *nv = NULL;
        if (it == Py_Ellipsis) {
            dim += self->ndim - consumed;
            continue;
        } else if (it == Py_None) {
            nv = mt_unsqueeze(v, dim);
            dim++;
        } else if (PyBool_Check(it)) {
            /* x[True] adds a dim of size 1, x[False] one of size 0 */
            mt_tensor *u = mt_unsqueeze(v, dim);
            nv = it == Py_True ? u : mt_slice(u, dim, 0, 0, 1);
            if (it != Py_True) mt_decref(u);
            dim++;
        } else if (PyLong_Check(it) || (PyTensor_Check(it) && T(it)->ndim == 0 && mt_is_integral(T(it)->dtype))) {
            long long k = PyLong_AsLongLong(it);
            if (k == -1 && PyErr_Occurred()) { mt_decref(v); v = NULL; break; }
            if (v->ndim == 0 || dim >= v->ndim) {
                mt_decref(v); v = NULL;
                PyErr_Format(PyExc_IndexError, "too many indices for tensor of dimension %d", self->ndim);
                break;
            }
            if (k < -v->shape[dim] || k >= v->shape[dim]) {
                PyErr_Format(PyExc_IndexError, "index %lld is out of bounds for dimension %d with size %lld", k, dim,
                             (long long)v->shape[dim]);
                mt_decref(v); v = NULL;
                break;
            }
            nv = mt_select(v, dim, k);
        } else if (PySlice_Check(it)) {
            Py_ssize_t start, stop, step;
            if (PySlice_Unpack(it, &start, &stop, &step) < 0) { mt_decref(v); v = NULL; break; } /* step > 0: above */
            Py_ssize_t len = PySlice_AdjustIndices((Py_ssize_t)v->shape[dim], &start, &stop, step);
            (void)len;
            nv = mt_slice(v, dim, start, stop, step);
            dim++;
        } else if (is_advanced(it) || PyTensor_Check(it)) {
            if (!*adv) *adv = PyList_New(0);
            PyObject *pair = Py_BuildValue("(iO)", dim, it);
            if (!*adv || !pair || PyList_Append(*adv, pair) < 0) { Py_XDECREF(pair); mt_decref(v); v = NULL; break; }
            Py_DECREF(pair);
            dim += (PyTensor_Check(it) && T(it)->dtype == MT_BOOL) ? T(it)->ndim : 1;
            continue;
        } else {
            PyErr_Format(PyExc_IndexError, "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                           "are valid indices (got %s)", Py_TYPE(it)->tp_name);
            mt_decref(v); v = NULL;
            break;
        }
        mt_decref(v);
        v = nv;
        if (!v) { mt_py_raise(); break; }
    }
    Py_DECREF(tup);
    if (!v) { Py_CLEAR(*adv); }
    return v;
}

PyObject *mt_py_getitem(PyObject *self, PyObject *index) {
    PyObject *adv = NULL;
    mt_tensor *v = apply_basic(T(self), index, &adv);
    if (!v) return NULL;
    PyObject *pv = mt_py_wrap(v);
    if (!pv || !adv) { Py_XDECREF(adv); return pv; }
    PyObject *args = PyTuple_Pack(2, pv, adv);
    Py_DECREF(pv);
    Py_DECREF(adv);
    if (!args) return NULL;
    PyObject *r = adv_call("advanced_getitem", args);
    Py_DECREF(args);
    return r;
}

/* x[...] = value: PyTorch drops the value's leading size-1 dims, then expands it to the target
 * (so a[0] = ones(1, 3) works and a mismatch names the expansion, as PyTorch's message does) */
static mt_tensor *setitem_copy(mt_tensor *dst, mt_tensor *src) {
    int k = 0;
    while (k < src->ndim && src->shape[k] == 1) k++;
    mt_tensor *s = k ? mt_reshape(src, src->shape + k, src->ndim - k) : mt_incref(src);
    mt_tensor *e = s ? mt_expand(s, dst->shape, dst->ndim) : NULL;
    mt_tensor *r = e ? mt_copy_(dst, e) : NULL;
    mt_decref(s);
    mt_decref(e);
    return r;
}

int mt_py_setitem(PyObject *self, PyObject *index, PyObject *value) {
    if (!value) { PyErr_SetString(PyExc_TypeError, "Tensor does not support item deletion"); return -1; }
    if (mt_check_inplace_leaf(T(self)) < 0) return mt_py_raise_int();
    PyObject *adv = NULL;
    mt_tensor *v = apply_basic(T(self), index, &adv);
    if (!v) return -1;
    if (adv) {
        /* index_put_: the value may not overlap the target (an expanded target is allowed, as in PyTorch) */
        if (PyTensor_Check(value) && mt_check_no_overlap(v, T(value)) < 0) {
            Py_DECREF(adv);
            mt_decref(v);
            return mt_py_raise_int();
        }
        PyObject *pv = mt_py_wrap(v);
        if (!pv) { Py_DECREF(adv); return -1; }
        /* self and the whole index too: a write that autograd records goes into self (its history, or its
           base's when self is a view, continues), at the positions self's indices select */
        PyObject *args = PyTuple_Pack(5, pv, adv, value, self, index);
        Py_DECREF(pv);
        Py_DECREF(adv);
        if (!args) return -1;
        PyObject *r = adv_call("advanced_setitem", args);
        Py_DECREF(args);
        if (!r) return -1;
        Py_DECREF(r);
        mt_bump_version(T(self));
        return 0;
    }
    mt_tensor *r;
    if (PyTensor_Check(value)) r = setitem_copy(v, T(value));
    else if (mt_py_is_scalar(value)) {
        mt_scalar s;
        if (mt_py_scalar(value, &s) < 0) { mt_decref(v); return -1; }
        /* x[i] = 5 is a copy in PyTorch: it refuses an expanded target, which fill_ allows */
        r = mt_check_inplace(v) < 0 ? NULL : mt_fill_inplace(v, s);
    } else {
        mt_tensor *src = mt_py_as_tensor(value, v);
        if (!src) { mt_decref(v); return -1; }
        r = setitem_copy(v, src);
        mt_decref(src);
    }
    mt_decref(v);
    if (!r) return mt_py_raise_int();
    mt_decref(r);
    return 0;
}
