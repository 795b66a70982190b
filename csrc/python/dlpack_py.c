/* DLPack (https://dmlc.github.io/dlpack): tensors exchanged with NumPy, PyTorch, JAX, CuPy ... without a copy.
 * _to_dlpack(t) returns a "dltensor" capsule whose DLManagedTensor holds a reference to t's core tensor;
 * _from_dlpack(capsule) wraps a producer's memory in a tensor that calls the producer's deleter when its storage
 * dies, and renames the capsule "used_dltensor" (consumed once, as the protocol says). CPU memory only: a device
 * other than the CPU raises BufferError. The legacy (unversioned) ABI of DLPack 0.8, which every producer and
 * consumer accepts. */
#include "py.h"

#include <stdlib.h>
#include <string.h>

typedef struct { int32_t device_type; int32_t device_id; } DLDevice;
typedef struct { uint8_t code; uint8_t bits; uint16_t lanes; } DLDataType;
typedef struct {
    void *data;
    DLDevice device;
    int32_t ndim;
    DLDataType dtype;
    int64_t *shape;
    int64_t *strides;
    uint64_t byte_offset;
} DLTensor;
typedef struct DLManagedTensor {
    DLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensor *self);
} DLManagedTensor;

enum { kDLCPU = 1, kDLCUDA = 2 };
enum { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLComplex = 5, kDLBool = 6 };

/* the DLPack type of each mt_dtype, in mt_dtype's order */
static const DLDataType dl_types[MT_NUM_DTYPES] = {
    {kDLBool, 8, 1}, {kDLInt, 32, 1}, {kDLInt, 64, 1}, {kDLFloat, 32, 1}, {kDLFloat, 64, 1},
    {kDLUInt, 8, 1}, {kDLInt, 8, 1}, {kDLInt, 16, 1}, {kDLFloat, 16, 1}, {kDLBfloat, 16, 1}};

/* the producer's block: the managed tensor, its shape and strides, and the tensor that owns the memory */
typedef struct {
    DLManagedTensor m;
    int64_t shape[MT_MAX_DIMS], strides[MT_MAX_DIMS];
    mt_tensor *t;
} export_block;

static void export_delete(DLManagedTensor *self) {
    export_block *b = (export_block *)self->manager_ctx;
    /* consumers call this from Python code (NumPy frees its array with the GIL held) */
    mt_decref(b->t);
    free(b);
}

static void capsule_destructor(PyObject *cap) {
    if (!PyCapsule_IsValid(cap, "dltensor")) return; /* consumed ("used_dltensor"): the consumer owns it */
    DLManagedTensor *m = PyCapsule_GetPointer(cap, "dltensor");
    if (m && m->deleter) m->deleter(m);
}

static PyObject *f_to_dlpack(PyObject *mod, PyObject *arg) {
    (void)mod;
    if (!PyTensor_Check(arg)) { PyErr_SetString(PyExc_TypeError, "_to_dlpack: expected a Tensor"); return NULL; }
    mt_tensor *t = T(arg);
    if (t->storage->device.type != MT_CPU) {
        PyErr_SetString(PyExc_BufferError, "minitorch: DLPack export of CUDA tensors is not supported yet "
                                           "(move the tensor to the CPU first)");
        return NULL;
    }
    export_block *b = calloc(1, sizeof *b);
    if (!b) return PyErr_NoMemory();
    b->t = mt_incref(t);
    memcpy(b->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(b->strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
    b->m.dl_tensor = (DLTensor){mt_data(t), {kDLCPU, 0}, t->ndim, dl_types[t->dtype], b->shape, b->strides, 0};
    b->m.manager_ctx = b;
    b->m.deleter = export_delete;
    PyObject *cap = PyCapsule_New(&b->m, "dltensor", capsule_destructor);
    if (!cap) export_delete(&b->m);
    return cap;
}

/* the imported memory's release: the producer's deleter (with the GIL: it may run Python code) */
static void import_release(void *ctx, void *data) {
    (void)data;
    DLManagedTensor *m = ctx;
    if (!m->deleter) return;
    PyGILState_STATE st = PyGILState_Ensure();
    m->deleter(m);
    PyGILState_Release(st);
}

static PyObject *f_from_dlpack(PyObject *mod, PyObject *cap) {
    (void)mod;
    if (!PyCapsule_IsValid(cap, "dltensor")) {
        PyErr_SetString(PyExc_ValueError, PyCapsule_IsValid(cap, "used_dltensor")
                                              ? "from_dlpack: this DLPack capsule was already consumed"
                                              : "from_dlpack: expected a DLPack capsule named 'dltensor'");
        return NULL;
    }
    DLManagedTensor *m = PyCapsule_GetPointer(cap, "dltensor");
    if (!m) return NULL;
    const DLTensor *d = &m->dl_tensor;
    if (d->device.device_type != kDLCPU) {
        PyErr_Format(PyExc_BufferError, "minitorch: from_dlpack of device type %d is not supported (CPU memory only)",
                     (int)d->device.device_type);
        return NULL;
    }
    int dt = -1;
    for (int k = 0; k < MT_NUM_DTYPES; k++)
        if (dl_types[k].code == d->dtype.code && dl_types[k].bits == d->dtype.bits && d->dtype.lanes == 1) dt = k;
    if (dt < 0 || d->ndim < 0 || d->ndim > MT_MAX_DIMS) {
        PyErr_Format(PyExc_BufferError, "minitorch: from_dlpack of DLPack type (code %d, %d bits, %d lanes)%s is not "
                     "supported", d->dtype.code, d->dtype.bits, d->dtype.lanes, d->ndim > MT_MAX_DIMS ? " or rank" : "");
        return NULL;
    }
    int64_t strides[MT_MAX_DIMS];
    for (int i = 0; d->strides && i < d->ndim; i++)
        if (d->strides[i] < 0) {
            PyErr_SetString(PyExc_BufferError, "minitorch: from_dlpack of negative strides is not supported");
            return NULL;
        }
    if (d->strides) memcpy(strides, d->strides, sizeof(int64_t) * (size_t)d->ndim);
    else mt_contiguous_strides(d->shape, d->ndim, strides); /* NULL strides: compact row-major */
    mt_tensor *t = mt_from_blob((char *)d->data + d->byte_offset, d->shape, strides, d->ndim, (mt_dtype)dt,
                                import_release, m);
    if (!t) return mt_py_raise();
    if (PyCapsule_SetName(cap, "used_dltensor") < 0) { mt_decref(t); return NULL; }
    return mt_py_wrap(t);
}

PyMethodDef mt_dlpack_functions[] = {
    {"_to_dlpack", f_to_dlpack, METH_O, NULL},
    {"_from_dlpack", f_from_dlpack, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
