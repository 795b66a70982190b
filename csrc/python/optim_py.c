/* Module-level functions of minitorch._C for fused optimizer steps (csrc/ops/optim.h).
 *
 * Each takes Tensors and numbers positionally (FASTCALL) and updates its tensors in place:
 *   _sgd_step(param, grad, momentum_buffer|None, lr, momentum, dampening, nesterov, weight_decay,
 *             maximize, first_step)
 *   _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq|None, step, lr, beta1, beta2, eps,
 *              weight_decay, amsgrad, maximize, decoupled)
 *   _rmsprop_step(param, grad, square_avg, grad_avg|None, momentum_buffer|None, step|None, lr, alpha,
 *                 eps, weight_decay, momentum, centered, maximize)
 *   _adagrad_step(param, grad, sum, step, lr, lr_decay, weight_decay, eps, maximize)
 * `step` is the 'step' state: a one-element tensor is incremented in place first and its new value
 * used (PyTorch's `step_t += 1`); a number is used as the (already incremented) step count.
 * All return None. */
#include "py.h"
#include "../ops/optim.h"

static int nargs_ok(const char *fn, Py_ssize_t nargs, Py_ssize_t want) {
    if (nargs == want) return 1;
    PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)", fn, want, nargs);
    return 0;
}

/* Tensor argument; allow_none: None -> *out = NULL. */
static int tensor_arg(const char *fn, PyObject *o, int pos, bool allow_none, mt_tensor **out) {
    if (allow_none && o == Py_None) { *out = NULL; return 0; }
    if (!PyTensor_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument %d must be a Tensor%s, not %s", fn, pos,
                     allow_none ? " or None" : "", Py_TYPE(o)->tp_name);
        return -1;
    }
    *out = T(o);
    return 0;
}

static int double_arg(const char *fn, PyObject *o, int pos, double *out) {
    if (PyFloat_CheckExact(o)) { *out = PyFloat_AS_DOUBLE(o); return 0; }
    if (PyTensor_Check(o) || !PyNumber_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument %d must be a number, not %s", fn, pos, Py_TYPE(o)->tp_name);
        return -1;
    }
    *out = PyFloat_AsDouble(o);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static int bool_arg(PyObject *o, bool *out) {
    int r = PyObject_IsTrue(o);
    if (r < 0) return -1;
    *out = r;
    return 0;
}

/* step: tensor -> incremented in place, its new value; number -> itself */
static int step_arg(const char *fn, PyObject *o, int pos, double *out) {
    if (PyTensor_Check(o)) return mt_optim_step_inc(T(o), out) < 0 ? mt_py_raise_int() : 0;
    return double_arg(fn, o, pos, out);
}

#define DONE(rc) return (rc) < 0 ? mt_py_raise() : (Py_INCREF(Py_None), Py_None)

static PyObject *f_sgd_step(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    (void)mod;
    static const char *fn = "_sgd_step";
    mt_tensor *p, *g, *buf;
    double lr, momentum, dampening, wd;
    bool nesterov, maximize, first;
    if (!nargs_ok(fn, nargs, 10) || tensor_arg(fn, args[0], 1, false, &p) < 0 ||
        tensor_arg(fn, args[1], 2, false, &g) < 0 || tensor_arg(fn, args[2], 3, true, &buf) < 0 ||
        double_arg(fn, args[3], 4, &lr) < 0 || double_arg(fn, args[4], 5, &momentum) < 0 ||
        double_arg(fn, args[5], 6, &dampening) < 0 || bool_arg(args[6], &nesterov) < 0 ||
        double_arg(fn, args[7], 8, &wd) < 0 || bool_arg(args[8], &maximize) < 0 || bool_arg(args[9], &first) < 0)
        return NULL;
    DONE(mt_sgd_step(p, g, buf, lr, momentum, dampening, nesterov, wd, maximize, first));
}

static PyObject *f_adam_step(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    (void)mod;
    static const char *fn = "_adam_step";
    mt_tensor *p, *g, *m, *v, *vmax;
    double step, lr, b1, b2, eps, wd;
    bool amsgrad, maximize, decoupled;
    if (!nargs_ok(fn, nargs, 14) || tensor_arg(fn, args[0], 1, false, &p) < 0 ||
        tensor_arg(fn, args[1], 2, false, &g) < 0 || tensor_arg(fn, args[2], 3, false, &m) < 0 ||
        tensor_arg(fn, args[3], 4, false, &v) < 0 || tensor_arg(fn, args[4], 5, true, &vmax) < 0 ||
        double_arg(fn, args[6], 7, &lr) < 0 || double_arg(fn, args[7], 8, &b1) < 0 ||
        double_arg(fn, args[8], 9, &b2) < 0 || double_arg(fn, args[9], 10, &eps) < 0 ||
        double_arg(fn, args[10], 11, &wd) < 0 || bool_arg(args[11], &amsgrad) < 0 ||
        bool_arg(args[12], &maximize) < 0 || bool_arg(args[13], &decoupled) < 0)
        return NULL;
    if (amsgrad && !vmax) {
        PyErr_SetString(PyExc_RuntimeError, "_adam_step(): amsgrad needs max_exp_avg_sq");
        return NULL;
    }
    if (step_arg(fn, args[5], 6, &step) < 0) return NULL; /* last: increments the step tensor */
    DONE(mt_adam_step(p, g, m, v, vmax, step, lr, b1, b2, eps, wd, amsgrad, maximize, decoupled));
}

static PyObject *f_rmsprop_step(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    (void)mod;
    static const char *fn = "_rmsprop_step";
    mt_tensor *p, *g, *sa, *ga, *buf;
    double step, lr, alpha, eps, wd, momentum;
    bool centered, maximize;
    if (!nargs_ok(fn, nargs, 13) || tensor_arg(fn, args[0], 1, false, &p) < 0 ||
        tensor_arg(fn, args[1], 2, false, &g) < 0 || tensor_arg(fn, args[2], 3, false, &sa) < 0 ||
        tensor_arg(fn, args[3], 4, true, &ga) < 0 || tensor_arg(fn, args[4], 5, true, &buf) < 0 ||
        double_arg(fn, args[6], 7, &lr) < 0 || double_arg(fn, args[7], 8, &alpha) < 0 ||
        double_arg(fn, args[8], 9, &eps) < 0 || double_arg(fn, args[9], 10, &wd) < 0 ||
        double_arg(fn, args[10], 11, &momentum) < 0 || bool_arg(args[11], &centered) < 0 ||
        bool_arg(args[12], &maximize) < 0)
        return NULL;
    if ((centered && !ga) || (momentum > 0 && !buf)) {
        PyErr_SetString(PyExc_RuntimeError, "_rmsprop_step(): centered needs grad_avg and momentum > 0 needs "
                                            "momentum_buffer");
        return NULL;
    }
    if (args[5] != Py_None && step_arg(fn, args[5], 6, &step) < 0) return NULL;
    DONE(mt_rmsprop_step(p, g, sa, ga, buf, lr, alpha, eps, wd, momentum, centered, maximize));
}

static PyObject *f_adagrad_step(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    (void)mod;
    static const char *fn = "_adagrad_step";
    mt_tensor *p, *g, *ss;
    double step, lr, lr_decay, wd, eps;
    bool maximize;
    if (!nargs_ok(fn, nargs, 9) || tensor_arg(fn, args[0], 1, false, &p) < 0 ||
        tensor_arg(fn, args[1], 2, false, &g) < 0 || tensor_arg(fn, args[2], 3, false, &ss) < 0 ||
        double_arg(fn, args[4], 5, &lr) < 0 || double_arg(fn, args[5], 6, &lr_decay) < 0 ||
        double_arg(fn, args[6], 7, &wd) < 0 || double_arg(fn, args[7], 8, &eps) < 0 ||
        bool_arg(args[8], &maximize) < 0)
        return NULL;
    if (step_arg(fn, args[3], 4, &step) < 0) return NULL;
    DONE(mt_adagrad_step(p, g, ss, step, lr, lr_decay, wd, eps, maximize));
}

PyMethodDef mt_optim_functions[] = {
    {"_sgd_step", (PyCFunction)(void (*)(void))f_sgd_step, METH_FASTCALL, "fused SGD step (in place)"},
    {"_adam_step", (PyCFunction)(void (*)(void))f_adam_step, METH_FASTCALL, "fused Adam/AdamW step (in place)"},
    {"_rmsprop_step", (PyCFunction)(void (*)(void))f_rmsprop_step, METH_FASTCALL, "fused RMSprop step (in place)"},
    {"_adagrad_step", (PyCFunction)(void (*)(void))f_adagrad_step, METH_FASTCALL, "fused Adagrad step (in place)"},
    {NULL, NULL, 0, NULL},
};
