/* minitorch._C_cuda: the CUDA backend as a Python extension module.
 *
 * On import it reads the core API capsule minitorch._C._core_api, and when a CUDA device is
 * present registers the CUDA kernel table as mt_backends[MT_CUDA]; with no device (or no
 * driver) it imports fine and device_count() is 0. Functions: device_count, get_device_name,
 * synchronize, memory_allocated, max_memory_allocated, memory_reserved, empty_cache,
 * reset_peak_memory_stats, set_allow_tf32, get_allow_tf32, set/get_allow_tf32_rnn, manual_seed, init_error. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "core/core_api.h"

/* implemented in runtime.cu / gemm.cu */
int mt_cuda_init(const mt_core_api *api, char *msg, size_t msglen);
int mt_cuda_device_count(void);
int mt_cuda_device_name(int dev, char *buf, size_t n);
int mt_cuda_synchronize(void);
void mt_cuda_memory_stats(int64_t *allocated, int64_t *max_allocated, int64_t *reserved);
void mt_cuda_reset_peak(void);
void mt_cuda_empty_cache(void);
int mt_cuda_set_allow_tf32(int on);
int mt_cuda_get_allow_tf32(void);
void mt_cuda_set_allow_tf32_rnn(int on);
int mt_cuda_get_allow_tf32_rnn(void);
int mt_cuda_has_cublas(void);

static const mt_core_api *api;
static int n_devices;
static char init_msg[256];

static PyObject *raise_core(void) {
    PyErr_SetString(PyExc_RuntimeError, api->err_msg());
    api->err_clear();
    return NULL;
}

static int need_device(void) {
    if (n_devices > 0) return 0;
    PyErr_Format(PyExc_RuntimeError, "No CUDA GPUs are available%s%s", init_msg[0] ? ": " : "", init_msg);
    return -1;
}

static PyObject *f_device_count(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    return PyLong_FromLong(n_devices);
}
static PyObject *f_get_device_name(PyObject *m, PyObject *args) {
    (void)m;
    int dev = 0;
    if (!PyArg_ParseTuple(args, "|i", &dev)) return NULL;
    if (need_device() < 0) return NULL;
    if (dev < 0 || dev >= n_devices) {
        PyErr_Format(PyExc_AssertionError, "Invalid device id");
        return NULL;
    }
    char buf[256];
    if (mt_cuda_device_name(dev, buf, sizeof buf) < 0) return raise_core();
    return PyUnicode_FromString(buf);
}
static PyObject *f_synchronize(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    if (n_devices <= 0) Py_RETURN_NONE;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = mt_cuda_synchronize();
    Py_END_ALLOW_THREADS if (rc < 0) return raise_core();
    Py_RETURN_NONE;
}
static PyObject *mem_stat(int which) {
    int64_t s[3];
    mt_cuda_memory_stats(&s[0], &s[1], &s[2]);
    return PyLong_FromLongLong((long long)s[which]);
}
static PyObject *f_memory_allocated(PyObject *m, PyObject *u) { (void)m; (void)u; return mem_stat(0); }
static PyObject *f_max_memory_allocated(PyObject *m, PyObject *u) { (void)m; (void)u; return mem_stat(1); }
static PyObject *f_memory_reserved(PyObject *m, PyObject *u) { (void)m; (void)u; return mem_stat(2); }
static PyObject *f_empty_cache(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    if (n_devices > 0) mt_cuda_empty_cache();
    Py_RETURN_NONE;
}
static PyObject *f_reset_peak(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    mt_cuda_reset_peak();
    Py_RETURN_NONE;
}
static PyObject *f_set_allow_tf32(PyObject *m, PyObject *arg) {
    (void)m;
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
    if (mt_cuda_set_allow_tf32(on) < 0) return raise_core();
    Py_RETURN_NONE;
}
static PyObject *f_get_allow_tf32(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    return PyBool_FromLong(mt_cuda_get_allow_tf32());
}
static PyObject *f_set_allow_tf32_rnn(PyObject *m, PyObject *arg) {
    (void)m;
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
    mt_cuda_set_allow_tf32_rnn(on);
    Py_RETURN_NONE;
}
static PyObject *f_get_allow_tf32_rnn(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    return PyBool_FromLong(mt_cuda_get_allow_tf32_rnn());
}
static PyObject *f_has_cublas(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    return PyBool_FromLong(mt_cuda_has_cublas());
}
static PyObject *f_manual_seed(PyObject *m, PyObject *arg) {
    (void)m;
    unsigned long long s = PyLong_AsUnsignedLongLongMask(arg);
    if (PyErr_Occurred()) return NULL;
    mt_generator *g = api->default_generator(MT_CUDA);
    if (g) api->manual_seed(g, s);
    Py_RETURN_NONE;
}
static PyObject *f_init_error(PyObject *m, PyObject *u) {
    (void)m; (void)u;
    return PyUnicode_FromString(init_msg);
}

static PyMethodDef methods[] = {
    {"device_count", f_device_count, METH_NOARGS, "Number of CUDA devices (0 without a device or driver)."},
    {"get_device_name", f_get_device_name, METH_VARARGS, NULL},
    {"synchronize", f_synchronize, METH_NOARGS, "Waits for all queued CUDA work."},
    {"memory_allocated", f_memory_allocated, METH_NOARGS, "Bytes held by live CUDA tensors (rounded block sizes)."},
    {"max_memory_allocated", f_max_memory_allocated, METH_NOARGS, NULL},
    {"memory_reserved", f_memory_reserved, METH_NOARGS, "Bytes obtained from cudaMalloc (live + cached)."},
    {"empty_cache", f_empty_cache, METH_NOARGS, "Returns cached, unused blocks to the driver."},
    {"reset_peak_memory_stats", f_reset_peak, METH_NOARGS, NULL},
    {"set_allow_tf32", f_set_allow_tf32, METH_O, "Lets float32 GEMMs use TF32 tensor cores (off by default)."},
    {"get_allow_tf32", f_get_allow_tf32, METH_NOARGS, NULL},
    {"set_allow_tf32_rnn", f_set_allow_tf32_rnn, METH_O,
     "Lets the recurrent layers' float32 GEMMs use TF32 (on by default, like torch.backends.cudnn.allow_tf32)."},
    {"get_allow_tf32_rnn", f_get_allow_tf32_rnn, METH_NOARGS, NULL},
    {"has_cublas", f_has_cublas, METH_NOARGS, NULL},
    {"manual_seed", f_manual_seed, METH_O, "Seeds the CUDA generator (offset 0)."},
    {"init_error", f_init_error, METH_NOARGS, "Why no device was found, if so."},
    {NULL, NULL, 0, NULL},
};

/* _attach(core): binds this backend to the core module the package imported (minitorch._C, or <pkg>._C when the
 * package was imported under another name: importing "minitorch._C" by name here would load a second copy of the
 * Python layer) and registers the CUDA kernels. minitorch/cuda.py calls it right after importing this module;
 * ImportError when the core does not match or no device can be used. */
static PyObject *f_attach(PyObject *self, PyObject *core) {
    (void)self;
    if (api) Py_RETURN_NONE;
    PyObject *cap = PyObject_GetAttrString(core, "_core_api");
    if (!cap) return NULL;
    const mt_core_api *a = PyCapsule_GetPointer(cap, MT_CORE_API_CAPSULE);
    Py_DECREF(cap); /* the table is static in the core module, which stays loaded */
    if (!a) return NULL;
    if (a->version != MT_CORE_API_VERSION || a->max_dims != MT_MAX_DIMS || a->tensor_size != sizeof(mt_tensor)) {
        PyErr_SetString(PyExc_ImportError,
                        "minitorch._C_cuda was built against a different minitorch._C (core API mismatch); rebuild");
        return NULL;
    }
    int n = mt_cuda_init(a, init_msg, sizeof init_msg);
    if (n < 0) {
        PyErr_SetString(PyExc_ImportError, init_msg);
        return NULL;
    }
    api = a;
    n_devices = n;
    Py_RETURN_NONE;
}

static PyMethodDef attach_method = {"_attach", f_attach, METH_O, "Binds the backend to the core module."};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_C_cuda", "minitorch's CUDA backend", -1,
                                       methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__C_cuda(void) {
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    PyObject *f = PyCFunction_New(&attach_method, NULL);
    if (!f || PyModule_AddObject(m, "_attach", f) < 0) {
        Py_XDECREF(f);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
