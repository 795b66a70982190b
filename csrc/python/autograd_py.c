/* The Python side of autograd hooks and anomaly mode: the engine (csrc/autograd) calls plain C
 * function pointers; these wrap Python callables. */
#include "py.h"
#include "../autograd/autograd.h"


static void hook_free(mt_hook *h) { Py_XDECREF((PyObject *)h->ctx); }

/* gradients as a tuple (None for a missing one); new ref */
static PyObject *grads_tuple(int n, mt_tensor **g) {
    PyObject *t = PyTuple_New(n);
    for (int k = 0; t && k < n; k++) {
        PyObject *o = g[k] ? mt_py_wrap(mt_incref(g[k])) : (Py_INCREF(Py_None), Py_None);
        if (!o) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, k, o);
    }
    return t;
}

/* a hook's replacement for slot k: None keeps it; a tensor of the same shape replaces it */
static int replace_grad(mt_tensor **slot, PyObject *o, const char *what) {
    if (o == Py_None) return 0;
    if (!PyTensor_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a Tensor or None, but got %s", what, Py_TYPE(o)->tp_name);
        return -1;
    }
    mt_tensor *t = T(o);
    if (*slot && (t->ndim != (*slot)->ndim || memcmp(t->shape, (*slot)->shape, sizeof(int64_t) * (size_t)t->ndim))) {
        PyErr_Format(PyExc_RuntimeError, "hook '%s' has changed the size of value", what);
        return -1;
    }
    mt_xsetref(slot, mt_incref(t));
    return 0;
}

static int replace_all(int n, mt_tensor **slots, PyObject *r, const char *what) {
    if (r == Py_None) return 0;
    PyObject *seq = PySequence_Fast(r, "hook must return None or a tuple of gradients");
    if (!seq) return -1;
    int rc = 0;
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_RuntimeError, "%s returned an incorrect number of values (got %zd, but expected %d)", what,
                     PySequence_Fast_GET_SIZE(seq), n);
        rc = -1;
    }
    for (int k = 0; rc == 0 && k < n; k++) {
        PyObject *o = PySequence_Fast_GET_ITEM(seq, k);
        if (o == Py_None) mt_xsetref(&slots[k], NULL);
        else rc = replace_grad(&slots[k], o, what);
    }
    Py_DECREF(seq);
    return rc;
}

static int hook_call(mt_hook *h, mt_node *n, mt_tensor *t, int n_a, mt_tensor **a, int n_b, mt_tensor **b) {
    (void)n;
    PyObject *fn = h->ctx, *r = NULL;
    int rc = -1;
    switch (h->kind) {
    case MT_HOOK_TENSOR_PRE: {
        PyObject *g = mt_py_wrap(mt_incref(a[0]));
        r = g ? PyObject_CallOneArg(fn, g) : NULL;
        Py_XDECREF(g);
        if (r) rc = replace_grad(&a[0], r, "tensor hook");
        break;
    }
    case MT_HOOK_NODE_PRE: {
        PyObject *go = grads_tuple(n_a, a);
        r = go ? PyObject_CallOneArg(fn, go) : NULL;
        Py_XDECREF(go);
        if (r) rc = replace_all(n_a, a, r, "pre-hook");
        break;
    }
    case MT_HOOK_NODE_POST: {
        PyObject *gi = grads_tuple(n_a, a), *go = gi ? grads_tuple(n_b, b) : NULL;
        r = go ? PyObject_CallFunctionObjArgs(fn, gi, go, NULL) : NULL;
        Py_XDECREF(gi);
        Py_XDECREF(go);
        if (r) rc = replace_all(n_a, a, r, "hook");
        break;
    }
    case MT_HOOK_POST_ACC: {
        PyObject *o = mt_py_wrap(mt_incref(t));
        r = o ? PyObject_CallOneArg(fn, o) : NULL;
        Py_XDECREF(o);
        if (r && r != Py_None) PyErr_SetString(PyExc_RuntimeError, "post accumulate grad hooks cannot return a value");
        else if (r) rc = 0;
        break;
    }
    }
    Py_XDECREF(r);
    return rc;
}

/* _hook_add(target, kind, fn) -> id. target: a Tensor (its grad_fn's hook for its output, or the
 * leaf's own list) or a Node; kind: 0 tensor, 1 node pre-hook, 2 node hook, 3 post-accumulate */
static PyObject *f_hook_add(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *target, *fn;
    int kind;
    if (!PyArg_ParseTuple(args, "OiO", &target, &kind, &fn)) return NULL;
    mt_hook **owner;
    int output_nr = 0;
    if (PyTensor_Check(target)) {
        mt_tensor *t = T(target);
        if (!t->requires_grad) {
            PyErr_SetString(PyExc_RuntimeError, "cannot register a hook on a tensor that doesn't require gradient");
            return NULL;
        }
        if (kind == MT_HOOK_POST_ACC && t->grad_fn) {
            PyErr_SetString(PyExc_RuntimeError, "post accumulate grad hooks cannot be registered on non-leaf tensors");
            return NULL;
        }
        if (t->grad_fn) { owner = &t->grad_fn->hooks; output_nr = (int)t->output_nr; }
        else owner = &t->hooks;
    } else if (Py_TYPE(target) == &PyNode_Type) {
        owner = &((PyNode *)target)->n->hooks;
    } else {
        PyErr_SetString(PyExc_TypeError, "_hook_add: expected a Tensor or a Node");
        return NULL;
    }
    if (!PyCallable_Check(fn)) { PyErr_SetString(PyExc_TypeError, "hook must be callable"); return NULL; }
    mt_hook *h = calloc(1, sizeof *h);
    if (!h) return PyErr_NoMemory();
    h->kind = kind;
    h->output_nr = output_nr;
    h->fn = hook_call;
    h->free = hook_free;
    Py_INCREF(fn);
    h->ctx = fn;
    return PyLong_FromLongLong(mt_hook_add(owner, h));
}

/* the hook as a removable handle (minitorch.autograd.graph._HookHandle(id)) */
PyObject *mt_py_hook_add(PyObject *target, int kind, PyObject *fn) {
    PyObject *args = Py_BuildValue("(OiO)", target, kind, fn);
    PyObject *id = args ? f_hook_add(NULL, args) : NULL;
    Py_XDECREF(args);
    if (!id) return NULL;
    PyObject *graph = mt_py_import("autograd.graph");
    PyObject *r = graph ? PyObject_CallMethod(graph, "_HookHandle", "O", id) : NULL;
    Py_XDECREF(graph);
    Py_DECREF(id);
    return r;
}

static PyObject *f_hook_remove(PyObject *mod, PyObject *id) {
    (void)mod;
    long long v = PyLong_AsLongLong(id);
    if (v == -1 && PyErr_Occurred()) return NULL;
    return PyBool_FromLong(mt_hook_remove(v));
}

/* ---------------- anomaly mode ---------------- */
static char *anomaly_capture(void) {
    PyObject *tb = PyImport_ImportModule("traceback");
    PyObject *lines = tb ? PyObject_CallMethod(tb, "format_stack", NULL) : NULL;
    PyObject *sep = lines ? PyUnicode_FromString("") : NULL;
    PyObject *text = sep ? PyUnicode_Join(sep, lines) : NULL;
    const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
    char *r = s ? strdup(s) : NULL;
    Py_XDECREF(tb);
    Py_XDECREF(lines);
    Py_XDECREF(sep);
    Py_XDECREF(text);
    if (!r) PyErr_Clear(); /* a node without a trace is no reason to fail the op */
    return r;
}

/* torch's warning: which node failed and where the forward created it (the error stays pending) */
static void anomaly_report(const mt_node *n) {
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *msg = PyUnicode_FromFormat("Error detected in %s. Traceback of forward call that caused the error:\n%s",
                                         mt_node_name(n), n->anomaly_trace ? n->anomaly_trace : "(no trace recorded)\n");
    if (!msg || PyErr_WarnEx(PyExc_UserWarning, PyUnicode_AsUTF8(msg), 1) < 0) PyErr_Clear();
    Py_XDECREF(msg);
    PyErr_Restore(et, ev, tb);
}

static PyObject *f_set_anomaly_enabled(PyObject *mod, PyObject *on) {
    (void)mod;
    int v = PyObject_IsTrue(on);
    if (v < 0) return NULL;
    mt_anomaly_enabled = v;
    mt_anomaly_capture = anomaly_capture;
    mt_anomaly_report = anomaly_report;
    Py_RETURN_NONE;
}
static PyObject *f_is_anomaly_enabled(PyObject *mod, PyObject *u) {
    (void)mod; (void)u;
    return PyBool_FromLong(mt_anomaly_enabled);
}

PyMethodDef mt_autograd_functions[] = {
    {"_hook_add", f_hook_add, METH_VARARGS, NULL},
    {"_hook_remove", f_hook_remove, METH_O, NULL},
    {"_set_anomaly_enabled", f_set_anomaly_enabled, METH_O, NULL},
    {"is_anomaly_enabled", f_is_anomaly_enabled, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
