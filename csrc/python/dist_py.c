/* minitorch._C's MPI entry points for minitorch/distributed/_mpi.py (engine in csrc/dist/mpi.c).
 * Buffers arrive as addresses: the Python caller keeps the tensors alive until the job is done. */
#include "py.h"
#include "../dist/mpi.h"

#define JOB_CAPSULE "minitorch._C.mpi_job"

static PyObject *mpi_error(void) {
    PyErr_SetString(PyExc_RuntimeError, mtmpi_error());
    return NULL;
}

static PyObject *f_mpi_load(PyObject *mod, PyObject *arg) {
    (void)mod;
    const char *path = PyUnicode_AsUTF8(arg);
    if (!path) return NULL;
    if (mtmpi_load(path) < 0) return mpi_error();
    return PyUnicode_FromString(mtmpi_library_version());
}

static PyObject *f_mpi_init(PyObject *mod, PyObject *unused) {
    (void)mod, (void)unused;
    int rank = 0, size = 0, rc;
    Py_BEGIN_ALLOW_THREADS rc = mtmpi_init(&rank, &size);
    Py_END_ALLOW_THREADS if (rc < 0) return mpi_error();
    return Py_BuildValue("(ii)", rank, size);
}

static PyObject *f_mpi_initialized(PyObject *mod, PyObject *unused) {
    (void)mod, (void)unused;
    return PyBool_FromLong(mtmpi_initialized());
}

static PyObject *f_mpi_finalize(PyObject *mod, PyObject *unused) {
    (void)mod, (void)unused;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = mtmpi_finalize();
    Py_END_ALLOW_THREADS if (rc < 0) return mpi_error();
    Py_RETURN_NONE;
}

static PyObject *f_mpi_comm_rank_size(PyObject *mod, PyObject *arg) {
    (void)mod;
    int comm = (int)PyLong_AsLong(arg), rank, size;
    if (PyErr_Occurred()) return NULL;
    if (mtmpi_comm_rank_size(comm, &rank, &size) < 0) return mpi_error();
    return Py_BuildValue("(ii)", rank, size);
}

static void job_destroy(PyObject *cap) { mtmpi_job_release(PyCapsule_GetPointer(cap, JOB_CAPSULE)); }

/* _mpi_submit(kind, comm, send, recv, count, dtype, op, root, color, key, v): v is None or a tuple of four
 * equal-length int sequences (alltoallv's counts and displacements). */
static PyObject *f_mpi_submit(PyObject *mod, PyObject *args) {
    (void)mod;
    mtmpi_args a = {0};
    int kind;
    unsigned long long send, recv;
    long long count;
    PyObject *v;
    if (!PyArg_ParseTuple(args, "iiKKLiiiiiO", &kind, &a.comm, &send, &recv, &count, &a.dtype, &a.op, &a.root,
                          &a.color, &a.key, &v))
        return NULL;
    if (kind < 0 || kind >= MTJ_NUM_KINDS) return PyErr_Format(PyExc_ValueError, "unknown MPI job kind %d", kind);
    a.kind = (mtmpi_kind)kind;
    a.send = (void *)(uintptr_t)send;
    a.recv = (void *)(uintptr_t)recv;
    a.count = count;
    int *arrays = NULL;
    if (v != Py_None) {
        if (!PyTuple_Check(v) || PyTuple_GET_SIZE(v) != 4) return PyErr_Format(PyExc_TypeError, "v: four int sequences");
        Py_ssize_t p = PySequence_Size(PyTuple_GET_ITEM(v, 0));
        if (p < 0) return NULL;
        arrays = PyMem_Malloc(sizeof(int) * 4 * (size_t)(p ? p : 1));
        if (!arrays) return PyErr_NoMemory();
        for (int k = 0; k < 4; k++) {
            PyObject *seq = PyTuple_GET_ITEM(v, k);
            if (PySequence_Size(seq) != p) {
                PyMem_Free(arrays);
                return PyErr_Format(PyExc_ValueError, "alltoallv: count and displacement lists differ in length");
            }
            for (Py_ssize_t i = 0; i < p; i++) {
                PyObject *item = PySequence_GetItem(seq, i);
                long x = item ? PyLong_AsLong(item) : -1;
                Py_XDECREF(item);
                if (x == -1 && PyErr_Occurred()) return PyMem_Free(arrays), NULL;
                if (x < 0 || x > INT_MAX) {
                    PyMem_Free(arrays);
                    return PyErr_Format(PyExc_ValueError, "alltoallv: a count or displacement of %ld elements", x);
                }
                arrays[k * p + i] = (int)x;
            }
            a.v[k] = arrays + k * p;
        }
        a.nv = (int)p;
    }
    mtmpi_job *j = mtmpi_submit(&a);
    PyMem_Free(arrays);
    if (!j) return mpi_error();
    PyObject *cap = PyCapsule_New(j, JOB_CAPSULE, job_destroy);
    if (!cap) mtmpi_job_release(j);
    return cap;
}

static PyObject *f_mpi_job_wait(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *cap;
    double seconds;
    if (!PyArg_ParseTuple(args, "Od", &cap, &seconds)) return NULL;
    mtmpi_job *j = PyCapsule_GetPointer(cap, JOB_CAPSULE);
    if (!j) return NULL;
    int done;
    Py_BEGIN_ALLOW_THREADS done = mtmpi_job_wait(j, seconds);
    Py_END_ALLOW_THREADS return PyBool_FromLong(done);
}

/* The finished job's result (the new communicator of a split, else 0); RuntimeError with MPI's message
 * if it failed. */
static PyObject *f_mpi_job_result(PyObject *mod, PyObject *cap) {
    (void)mod;
    mtmpi_job *j = PyCapsule_GetPointer(cap, JOB_CAPSULE);
    if (!j) return NULL;
    int result = 0;
    if (mtmpi_job_status(j, &result) < 0) return mpi_error();
    return PyLong_FromLong(result);
}

/* _mpi_p2p(is_send, buf, count, dtype, peer, tag, comm) -> request id */
static PyObject *f_mpi_p2p(PyObject *mod, PyObject *args) {
    (void)mod;
    int is_send, dtype, peer, tag, comm, req = 0, rc;
    unsigned long long buf;
    long long count;
    if (!PyArg_ParseTuple(args, "pKLiiii", &is_send, &buf, &count, &dtype, &peer, &tag, &comm)) return NULL;
    void *p = (void *)(uintptr_t)buf;
    rc = is_send ? mtmpi_isend(p, count, dtype, peer, tag, comm, &req) : mtmpi_irecv(p, count, dtype, peer, tag, comm, &req);
    if (rc < 0) return mpi_error();
    return PyLong_FromLong(req);
}

/* _mpi_request_wait(req, seconds) -> (done, req, source): req is MPI's updated handle */
static PyObject *f_mpi_request_wait(PyObject *mod, PyObject *args) {
    (void)mod;
    int req, source = -1, rc;
    double seconds;
    if (!PyArg_ParseTuple(args, "id", &req, &seconds)) return NULL;
    Py_BEGIN_ALLOW_THREADS rc = mtmpi_request_wait(&req, seconds, &source);
    Py_END_ALLOW_THREADS if (rc < 0) return mpi_error();
    return Py_BuildValue("(Oii)", rc ? Py_True : Py_False, req, source);
}

static PyObject *f_mpi_abort(PyObject *mod, PyObject *arg) {
    (void)mod;
    int code = (int)PyLong_AsLong(arg);
    if (PyErr_Occurred()) return NULL;
    mtmpi_abort(code);
    Py_RETURN_NONE;
}

PyMethodDef mt_dist_functions[] = {
    {"_mpi_load", f_mpi_load, METH_O, "dlopen an MPICH-ABI libmpi; returns its version string"},
    {"_mpi_init", f_mpi_init, METH_NOARGS, "MPI_Init_thread(MULTIPLE) and the engine thread; (rank, size)"},
    {"_mpi_initialized", f_mpi_initialized, METH_NOARGS, NULL},
    {"_mpi_finalize", f_mpi_finalize, METH_NOARGS, NULL},
    {"_mpi_comm_rank_size", f_mpi_comm_rank_size, METH_O, NULL},
    {"_mpi_submit", f_mpi_submit, METH_VARARGS, "queue a collective on the engine thread"},
    {"_mpi_job_wait", f_mpi_job_wait, METH_VARARGS, "wait (without the GIL) up to seconds; True when done"},
    {"_mpi_job_result", f_mpi_job_result, METH_O, NULL},
    {"_mpi_p2p", f_mpi_p2p, METH_VARARGS, "MPI_Isend / MPI_Irecv on the calling thread"},
    {"_mpi_request_wait", f_mpi_request_wait, METH_VARARGS, NULL},
    {"_mpi_abort", f_mpi_abort, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
