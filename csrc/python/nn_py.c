/* Module-level functions of minitorch._C for the nn layer (losses and fused nn kernels). */
#include "py.h"


/* ---- losses (ops/loss.c) ---- */
#include "../ops/loss.h"

/* input, target: tensors; weight: tensor or None */
static int loss_tensors(PyObject *const *args, const char *fn, mt_tensor **in, mt_tensor **tg, mt_tensor **w) {
    const char *names[3] = {"input", "target", "weight"};
    for (int k = 0; k < 3; k++) {
        if (k == 2 && args[k] == Py_None) { *w = NULL; continue; }
        if (!PyTensor_Check(args[k])) {
            PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be Tensor%s, not %s", fn, names[k],
                         k == 2 ? " or None" : "", Py_TYPE(args[k])->tp_name);
            return -1;
        }
    }
    *in = T(args[0]);
    *tg = T(args[1]);
    if (args[2] != Py_None) *w = T(args[2]);
    return 0;
}

/* _cross_entropy(input, target, weight|None, ignore_index: int, label_smoothing: float, reduction: int) */
static PyObject *nn_cross_entropy(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) { PyErr_SetString(PyExc_TypeError, "_cross_entropy() takes 6 arguments"); return NULL; }
    mt_tensor *in, *tg, *w;
    if (loss_tensors(args, "cross_entropy", &in, &tg, &w) < 0) return NULL;
    long long ign = PyLong_AsLongLong(args[3]);
    if (ign == -1 && PyErr_Occurred()) return NULL;
    double eps = PyFloat_AsDouble(args[4]);
    if (eps == -1.0 && PyErr_Occurred()) return NULL;
    long red = PyLong_AsLong(args[5]);
    if (red == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_cross_entropy(in, tg, w, ign, eps, (int)red));
}

/* _nll_loss(input, target, weight|None, ignore_index: int, reduction: int) */
static PyObject *nn_nll_loss(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) { PyErr_SetString(PyExc_TypeError, "_nll_loss() takes 5 arguments"); return NULL; }
    mt_tensor *in, *tg, *w;
    if (loss_tensors(args, "nll_loss", &in, &tg, &w) < 0) return NULL;
    long long ign = PyLong_AsLongLong(args[3]);
    if (ign == -1 && PyErr_Occurred()) return NULL;
    long red = PyLong_AsLong(args[4]);
    if (red == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_nll_loss(in, tg, w, ign, (int)red));
}

/* _pointwise_loss(kind: int, input, target, weight|None, pos_weight|None, reduction: int) */
static PyObject *nn_pointwise_loss(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) { PyErr_SetString(PyExc_TypeError, "_pointwise_loss() takes 6 arguments"); return NULL; }
    long kind = PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred()) return NULL;
    mt_tensor *ts[4] = {NULL, NULL, NULL, NULL};
    static const char *const names[4] = {"input", "target", "weight", "pos_weight"};
    for (int k = 0; k < 4; k++) {
        PyObject *o = args[k + 1];
        if (k >= 2 && o == Py_None) continue;
        if (!PyTensor_Check(o)) {
            PyErr_Format(PyExc_TypeError, "argument '%s' must be Tensor, not %s", names[k], Py_TYPE(o)->tp_name);
            return NULL;
        }
        ts[k] = T(o);
    }
    long red = PyLong_AsLong(args[5]);
    if (red == -1 && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_pointwise_loss((int)kind, ts[0], ts[1], ts[2], ts[3], (int)red));
}

/* ---- recurrent layers (ops/rnn.c) ---- */
#include "../ops/rnn_loop.h"

/* _lstm_cpu_loops(mode: int) -> the previous mode of the float32 CPU LSTM's AVX-512 time loops:
 * 0 never, 1 when they pay (the default), 2 whenever the CPU can (tests check both loops with 0 and 2) */
static PyObject *nn_lstm_cpu_loops(PyObject *mod, PyObject *arg) {
    long mode = PyLong_AsLong(arg);
    if (mode == -1 && PyErr_Occurred()) return NULL;
    if (mode < 0 || mode > 2) {
        PyErr_SetString(PyExc_ValueError, "_lstm_cpu_loops: mode must be 0, 1 or 2");
        return NULL;
    }
    int prev = mt_lstm_cpu_loops_mode;
    mt_lstm_cpu_loops_mode = (int)mode;
    return PyLong_FromLong(prev);
}

/* _lstm_layer(x, h0|None, c0|None, w_ih, w_hh, b_ih|None, b_hh|None, reverse: bool) -> (out, h_n, c_n) */
static PyObject *nn_lstm_layer(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) { PyErr_SetString(PyExc_TypeError, "_lstm_layer() takes 8 arguments"); return NULL; }
    static const char *const names[7] = {"input", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    mt_tensor *ts[7];
    for (int k = 0; k < 7; k++) {
        PyObject *o = args[k];
        bool optional = k == 1 || k == 2 || k == 5 || k == 6;
        if (optional && o == Py_None) { ts[k] = NULL; continue; }
        if (!PyTensor_Check(o)) {
            PyErr_Format(PyExc_TypeError, "_lstm_layer(): argument '%s' must be Tensor%s, not %s", names[k],
                         optional ? " or None" : "", Py_TYPE(o)->tp_name);
            return NULL;
        }
        ts[k] = T(o);
    }
    int rev = PyObject_IsTrue(args[7]);
    if (rev < 0) return NULL;
    mt_tensor *out, *hn, *cn;
    if (mt_lstm_layer(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6], rev != 0, &out, &hn, &cn) < 0)
        return mt_py_raise();
    PyObject *po = mt_py_wrap(out), *ph = po ? mt_py_wrap(hn) : (mt_decref(hn), NULL);
    PyObject *pc = ph ? mt_py_wrap(cn) : (mt_decref(cn), NULL);
    if (!pc) { Py_XDECREF(po); Py_XDECREF(ph); return NULL; }
    PyObject *tup = PyTuple_New(3);
    if (!tup) { Py_DECREF(po); Py_DECREF(ph); Py_DECREF(pc); return NULL; }
    PyTuple_SET_ITEM(tup, 0, po); /* steals */
    PyTuple_SET_ITEM(tup, 1, ph);
    PyTuple_SET_ITEM(tup, 2, pc);
    return tup;
}

/* 0 when there are nargs_want arguments and the first ntensors are Tensors, else -1 with a TypeError */
static int check_args(const char *fn, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t nargs_want, int ntensors) {
    if (nargs != nargs_want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments", fn, nargs_want);
        return -1;
    }
    for (int k = 0; k < ntensors; k++)
        if (!PyTensor_Check(args[k])) {
            PyErr_Format(PyExc_TypeError, "%s(): argument %d must be Tensor, not %s", fn, k + 1,
                         Py_TYPE(args[k])->tp_name);
            return -1;
        }
    return 0;
}

/* _gru_cell(xp, hh, h) -> h': the GRU step after its GEMMs (mt_gru_cell) */
static PyObject *nn_gru_cell(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (check_args("_gru_cell", args, nargs, 3, 3) < 0) return NULL;
    mt_tensor *r = mt_gru_cell(T(args[0]), T(args[1]), T(args[2]));
    return r ? mt_py_wrap(r) : mt_py_raise();
}

/* a tuple of n new tensor refs (NULL -> None); on failure all are released */
static PyObject *tensor_tuple(int n, mt_tensor **ts) {
    PyObject *tup = PyTuple_New(n);
    for (int k = 0; k < n; k++) {
        if (!tup) { mt_decref(ts[k]); continue; } /* after a failure: release the rest */
        PyObject *o = ts[k] ? mt_py_wrap(ts[k]) : (Py_INCREF(Py_None), Py_None); /* mt_py_wrap steals */
        if (!o) { Py_CLEAR(tup); continue; }
        PyTuple_SET_ITEM(tup, k, o);
    }
    return tup;
}

/* _gru_cell_forward(xp, hh, h) -> (h', act) without autograd (the GRU layer's own time loop) */
static PyObject *nn_gru_cell_forward(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (check_args("_gru_cell_forward", args, nargs, 3, 3) < 0) return NULL;
    mt_tensor *r[2];
    if (mt_gru_cell_forward(T(args[0]), T(args[1]), T(args[2]), &r[0], &r[1]) < 0) return mt_py_raise();
    return tensor_tuple(2, r);
}

/* _gru_cell_backward(g, act, h, need_dxp, need_dhh, need_dh) -> (dxp, dhh, dh), None where not asked */
static PyObject *nn_gru_cell_backward(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (check_args("_gru_cell_backward", args, nargs, 6, 3) < 0) return NULL;
    int need[3];
    for (int k = 0; k < 3; k++)
        if ((need[k] = PyObject_IsTrue(args[3 + k])) < 0) return NULL;
    mt_tensor *r[3];
    if (mt_gru_cell_backward(T(args[0]), T(args[1]), T(args[2]), need[0], need[1], need[2], &r[0], &r[1], &r[2]) < 0)
        return mt_py_raise();
    return tensor_tuple(3, r);
}


/* ---- convolution and pooling (ops/conv.c, ops/pool.c) ---- */
#include "../ops/conv.h"

/* a tuple of exactly n ints (the Python layer has expanded and checked them) */
static int int_tuple(PyObject *o, int n, int64_t *out, const char *what) {
    if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != n) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple of %d ints", what, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        long long v = PyLong_AsLongLong(PyTuple_GET_ITEM(o, i));
        if (v == -1 && PyErr_Occurred()) return -1;
        out[i] = v;
    }
    return 0;
}

/* _convolution(input, weight, bias|None, stride, padding, dilation, transposed, output_padding, groups) */
static PyObject *convolution_impl(PyObject *const *args, Py_ssize_t nargs, bool check_only) {
    if (check_args("_convolution", args, nargs, 9, 2) < 0) return NULL;
    if (args[2] != Py_None && !PyTensor_Check(args[2])) {
        PyErr_Format(PyExc_TypeError, "_convolution(): argument 'bias' must be Tensor or None, not %s",
                     Py_TYPE(args[2])->tp_name);
        return NULL;
    }
    mt_conv_params p = {0};
    p.nsp = T(args[1])->ndim - 2;
    if (p.nsp < 1 || p.nsp > MT_CONV_MAX_SPATIAL) {
        PyErr_Format(PyExc_RuntimeError, "convolution: weight must have 3 to 5 dimensions, got %d", T(args[1])->ndim);
        return NULL;
    }
    int t = PyObject_IsTrue(args[6]);
    if (t < 0 || int_tuple(args[3], p.nsp, p.stride, "stride") < 0 ||
        int_tuple(args[4], p.nsp, p.padding, "padding") < 0 || int_tuple(args[5], p.nsp, p.dilation, "dilation") < 0 ||
        int_tuple(args[7], p.nsp, p.output_padding, "output_padding") < 0)
        return NULL;
    p.transposed = t;
    long long g = PyLong_AsLongLong(args[8]);
    if (g == -1 && PyErr_Occurred()) return NULL;
    p.groups = g;
    if (check_only) {
        if (mt_convolution_check(T(args[0]), T(args[1]), args[2] == Py_None ? NULL : T(args[2]), &p) < 0)
            return mt_py_raise();
        Py_RETURN_NONE;
    }
    return mt_py_wrap(mt_convolution(T(args[0]), T(args[1]), args[2] == Py_None ? NULL : T(args[2]), &p));
}

static PyObject *nn_convolution(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    return convolution_impl(args, nargs, false);
}

/* _convolution_check(same arguments): PyTorch's argument errors, or None */
static PyObject *nn_convolution_check(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    return convolution_impl(args, nargs, true);
}

/* _pool(kind, input, nsp, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor_override,
 *       output_size[, check_only]) -> out, or (out, indices) for the max kinds; None when check_only */
static PyObject *nn_pool(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 11 && nargs != 12) { PyErr_SetString(PyExc_TypeError, "_pool() takes 11 or 12 arguments"); return NULL; }
    int check_only = nargs == 12 ? PyObject_IsTrue(args[11]) : 0;
    if (check_only < 0) return NULL;
    long kind = PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred()) return NULL;
    if (!PyTensor_Check(args[1])) { PyErr_SetString(PyExc_TypeError, "_pool(): input must be a Tensor"); return NULL; }
    mt_pool_params p = {0};
    long nsp = PyLong_AsLong(args[2]);
    if (nsp == -1 && PyErr_Occurred()) return NULL;
    if (nsp < 2 || nsp > MT_CONV_MAX_SPATIAL) { PyErr_SetString(PyExc_ValueError, "_pool(): nsp must be 2 or 3"); return NULL; }
    p.nsp = (int)nsp;
    int ceil_mode = PyObject_IsTrue(args[7]), cip = PyObject_IsTrue(args[8]);
    if (ceil_mode < 0 || cip < 0 || int_tuple(args[3], p.nsp, p.kernel, "kernel_size") < 0 ||
        int_tuple(args[4], p.nsp, p.stride, "stride") < 0 || int_tuple(args[5], p.nsp, p.padding, "padding") < 0 ||
        int_tuple(args[6], p.nsp, p.dilation, "dilation") < 0 ||
        int_tuple(args[10], p.nsp, p.output_size, "output_size") < 0)
        return NULL;
    p.ceil_mode = ceil_mode;
    p.count_include_pad = cip;
    long long div = PyLong_AsLongLong(args[9]);
    if (div == -1 && PyErr_Occurred()) return NULL;
    p.divisor_override = div;
    mt_tensor *r[2] = {NULL, NULL};
    bool with_ind = kind == MT_POOL_MAX || kind == MT_POOL_ADAPTIVE_MAX;
    if (check_only) {
        if (mt_pooling((int)kind, T(args[1]), &p, NULL, NULL) < 0) return mt_py_raise();
        Py_RETURN_NONE;
    }
    if (mt_pooling((int)kind, T(args[1]), &p, &r[0], with_ind ? &r[1] : NULL) < 0) return mt_py_raise();
    if (!with_ind) return mt_py_wrap(r[0]);
    return tensor_tuple(2, r);
}


/* ---- batch normalisation (ops/norm.c) ---- */
#include "../ops/norm.h"

/* _batch_norm(input, weight|None, bias|None, running_mean|None, running_var|None, training, eps)
 *   -> (out, batch mean|None, batch biased var|None) */
static PyObject *nn_batch_norm(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7) { PyErr_SetString(PyExc_TypeError, "_batch_norm() takes 7 arguments"); return NULL; }
    mt_tensor *ts[5] = {NULL, NULL, NULL, NULL, NULL};
    for (int k = 0; k < 5; k++) {
        if (k > 0 && args[k] == Py_None) continue;
        if (!PyTensor_Check(args[k])) {
            PyErr_Format(PyExc_TypeError, "_batch_norm(): argument %d must be Tensor%s", k + 1, k ? " or None" : "");
            return NULL;
        }
        ts[k] = T(args[k]);
    }
    int training = PyObject_IsTrue(args[5]);
    if (training < 0) return NULL;
    double eps = PyFloat_AsDouble(args[6]);
    if (eps == -1.0 && PyErr_Occurred()) return NULL;
    mt_tensor *r[3];
    if (mt_batch_norm(ts[0], ts[1], ts[2], ts[3], ts[4], training, eps, &r[0], &r[1], &r[2]) < 0) return mt_py_raise();
    return tensor_tuple(3, r);
}

/* _layer_norm(input, weight|None, bias|None, k, eps): ops/norm.c's fused layer normalisation over the last k dims */
static PyObject *nn_layer_norm(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    (void)mod;
    if (nargs != 5) { PyErr_SetString(PyExc_TypeError, "_layer_norm() takes 5 arguments"); return NULL; }
    for (int j = 0; j < 3; j++)
        if (!(PyTensor_Check(args[j]) || (j > 0 && args[j] == Py_None))) {
            PyErr_Format(PyExc_TypeError, "_layer_norm(): argument %d must be Tensor%s", j + 1, j ? " or None" : "");
            return NULL;
        }
    long k = PyLong_AsLong(args[3]);
    double eps = PyFloat_AsDouble(args[4]);
    if ((k == -1 || eps == -1.0) && PyErr_Occurred()) return NULL;
    return mt_py_wrap(mt_layer_norm(T(args[0]), args[1] == Py_None ? NULL : T(args[1]),
                                    args[2] == Py_None ? NULL : T(args[2]), (int)k, eps));
}

/* _sdpa(q, k, v, mask|None, is_causal, scale): the fused attention of ops/attention.c */
static PyObject *nn_sdpa(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    (void)mod;
    if (nargs != 6) { PyErr_SetString(PyExc_TypeError, "_sdpa() takes 6 arguments"); return NULL; }
    for (int k = 0; k < 4; k++)
        if (!(PyTensor_Check(args[k]) || (k == 3 && args[k] == Py_None))) {
            PyErr_Format(PyExc_TypeError, "_sdpa(): argument %d must be Tensor%s", k + 1, k == 3 ? " or None" : "");
            return NULL;
        }
    int causal = PyObject_IsTrue(args[4]);
    double scale = PyFloat_AsDouble(args[5]);
    if (causal < 0 || (scale == -1.0 && PyErr_Occurred())) return NULL;
    return mt_py_wrap(mt_sdpa(T(args[0]), T(args[1]), T(args[2]), args[3] == Py_None ? NULL : T(args[3]), causal, scale));
}

PyMethodDef mt_nn_functions[] = {
    {"_sdpa", (PyCFunction)(void (*)(void))nn_sdpa, METH_FASTCALL, NULL},
    {"_layer_norm", (PyCFunction)(void (*)(void))nn_layer_norm, METH_FASTCALL, NULL},
    {"_batch_norm", (PyCFunction)(void (*)(void))nn_batch_norm, METH_FASTCALL, NULL},
    {"_convolution", (PyCFunction)(void (*)(void))nn_convolution, METH_FASTCALL, NULL},
    {"_convolution_check", (PyCFunction)(void (*)(void))nn_convolution_check, METH_FASTCALL, NULL},
    {"_pool", (PyCFunction)(void (*)(void))nn_pool, METH_FASTCALL, NULL},
    {"_gru_cell", (PyCFunction)(void (*)(void))nn_gru_cell, METH_FASTCALL, NULL},
    {"_gru_cell_forward", (PyCFunction)(void (*)(void))nn_gru_cell_forward, METH_FASTCALL, NULL},
    {"_gru_cell_backward", (PyCFunction)(void (*)(void))nn_gru_cell_backward, METH_FASTCALL, NULL},
    {"_pointwise_loss", (PyCFunction)(void (*)(void))nn_pointwise_loss, METH_FASTCALL, NULL},
    {"_cross_entropy", (PyCFunction)(void (*)(void))nn_cross_entropy, METH_FASTCALL, NULL},
    {"_nll_loss", (PyCFunction)(void (*)(void))nn_nll_loss, METH_FASTCALL, NULL},
    {"_lstm_layer", (PyCFunction)(void (*)(void))nn_lstm_layer, METH_FASTCALL, NULL},
    {"_lstm_cpu_loops", nn_lstm_cpu_loops, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
