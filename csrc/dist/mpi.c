/* MPI engine: run-time loaded libmpi, one collective thread, nonblocking point to point (see mpi.h). */
#define _GNU_SOURCE
#include "mpi.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MTMPI_IN_PLACE ((void *)-1)
#define MTMPI_ERRORS_RETURN 0x54000001
#define MTMPI_THREAD_MULTIPLE 3
#define MTMPI_REQUEST_NULL 0x2c000000
#define MTMPI_MAX_ERROR_STRING 512

typedef struct { int count_lo, count_hi_and_cancelled, source, tag, error; } mtmpi_status; /* MPICH's MPI_Status */

/* The entry points used, with the MPICH ABI's signatures (every handle an int). */
#define MTMPI_FUNCS(X)                                                                                     \
    X(int, Init_thread, (int *, char ***, int, int *))                                                     \
    X(int, Initialized, (int *))                                                                           \
    X(int, Finalized, (int *))                                                                             \
    X(int, Finalize, (void))                                                                               \
    X(int, Abort, (int, int))                                                                              \
    X(int, Get_library_version, (char *, int *))                                                           \
    X(int, Error_string, (int, char *, int *))                                                             \
    X(int, Comm_set_errhandler, (int, int))                                                                \
    X(int, Comm_rank, (int, int *))                                                                        \
    X(int, Comm_size, (int, int *))                                                                        \
    X(int, Comm_split, (int, int, int, int *))                                                             \
    X(int, Comm_free, (int *))                                                                             \
    X(int, Barrier, (int))                                                                                 \
    X(int, Allreduce, (const void *, void *, int, int, int, int))                                          \
    X(int, Bcast, (void *, int, int, int, int))                                                            \
    X(int, Reduce, (const void *, void *, int, int, int, int, int))                                        \
    X(int, Allgather, (const void *, int, int, void *, int, int, int))                                     \
    X(int, Gather, (const void *, int, int, void *, int, int, int, int))                                   \
    X(int, Scatter, (const void *, int, int, void *, int, int, int, int))                                  \
    X(int, Reduce_scatter_block, (const void *, void *, int, int, int, int))                               \
    X(int, Alltoallv, (const void *, const int *, const int *, int, void *, const int *, const int *, int, int)) \
    X(int, Isend, (const void *, int, int, int, int, int, int *))                                          \
    X(int, Irecv, (void *, int, int, int, int, int, int *))                                                \
    X(int, Test, (int *, int *, mtmpi_status *))

#define DECLARE(ret, name, args) ret(*name) args;
static struct { MTMPI_FUNCS(DECLARE) } mpi;
#undef DECLARE

static _Thread_local char last_error[MTMPI_MAX_ERROR_STRING + 128];
static char library_version[256];
static void *handle;

static int fail(const char *fmt, const char *what) {
    snprintf(last_error, sizeof last_error, fmt, what);
    return -1;
}
const char *mtmpi_error(void) { return last_error; }
const char *mtmpi_library_version(void) { return library_version; }

/* MPI's own text for an error code, after the name of the call. */
static int mpi_fail(const char *call, int code, char *out, size_t cap) {
    char msg[MTMPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (!mpi.Error_string || mpi.Error_string(code, msg, &len) != 0) snprintf(msg, sizeof msg, "error code %d", code);
    snprintf(out, cap, "%s failed: %s", call, msg);
    return -1;
}

int mtmpi_load(const char *path) {
    if (handle) return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) return fail("cannot load the MPI library: %s", dlerror());
#define RESOLVE(ret, name, args)                                                                          \
    if (!(mpi.name = (ret(*) args)dlsym(h, "MPI_" #name))) {                                               \
        dlclose(h);                                                                                        \
        memset(&mpi, 0, sizeof mpi);                                                                       \
        return fail("the MPI library has no MPI_%s (minitorch needs an MPI with the MPICH ABI)", #name);   \
    }
    MTMPI_FUNCS(RESOLVE)
#undef RESOLVE
    handle = h;
    int len = 0;
    char buf[8192];
    if (mpi.Get_library_version(buf, &len) == 0) {
        buf[sizeof buf - 1] = 0;
        char *nl = strchr(buf, '\n');
        if (nl) *nl = 0;
        snprintf(library_version, sizeof library_version, "%.250s", buf);
    }
    return 0;
}

/* ---- engine thread ---- */

struct mtmpi_job {
    mtmpi_args a;
    int *v; /* owned copy of alltoallv's arrays */
    int done, err, result, refs;
    char msg[MTMPI_MAX_ERROR_STRING + 64];
    mtmpi_job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static mtmpi_job *head, *tail;
static int running, stopping;
static pthread_t engine;

static void unref_locked(mtmpi_job *j) {
    if (--j->refs == 0) {
        free(j->v);
        free(j);
    }
}

static int run_job(mtmpi_job *j) {
    const mtmpi_args *a = &j->a;
    int n = (int)a->count, rc = 0;
    const char *call = "?";
    switch (a->kind) {
    case MTJ_ALLREDUCE:
        call = "MPI_Allreduce";
        rc = mpi.Allreduce(a->send == a->recv ? MTMPI_IN_PLACE : a->send, a->recv, n, a->dtype, a->op, a->comm);
        break;
    case MTJ_BCAST: call = "MPI_Bcast"; rc = mpi.Bcast(a->recv, n, a->dtype, a->root, a->comm); break;
    case MTJ_REDUCE:
        call = "MPI_Reduce";
        rc = mpi.Reduce(a->send == a->recv ? MTMPI_IN_PLACE : a->send, a->recv, n, a->dtype, a->op, a->root, a->comm);
        break;
    case MTJ_ALLGATHER: call = "MPI_Allgather"; rc = mpi.Allgather(a->send, n, a->dtype, a->recv, n, a->dtype, a->comm); break;
    case MTJ_GATHER: call = "MPI_Gather"; rc = mpi.Gather(a->send, n, a->dtype, a->recv, n, a->dtype, a->root, a->comm); break;
    case MTJ_SCATTER: call = "MPI_Scatter"; rc = mpi.Scatter(a->send, n, a->dtype, a->recv, n, a->dtype, a->root, a->comm); break;
    case MTJ_REDUCE_SCATTER:
        call = "MPI_Reduce_scatter_block";
        rc = mpi.Reduce_scatter_block(a->send, a->recv, n, a->dtype, a->op, a->comm);
        break;
    case MTJ_ALLTOALLV: {
        int p = a->nv;
        call = "MPI_Alltoallv";
        rc = mpi.Alltoallv(a->send, j->v, j->v + p, a->dtype, a->recv, j->v + 2 * p, j->v + 3 * p, a->dtype, a->comm);
        break;
    }
    case MTJ_BARRIER: call = "MPI_Barrier"; rc = mpi.Barrier(a->comm); break;
    case MTJ_SPLIT:
        call = "MPI_Comm_split";
        rc = mpi.Comm_split(a->comm, a->color, a->key, &j->result);
        if (rc == 0 && j->result != MTMPI_COMM_NULL) rc = mpi.Comm_set_errhandler(j->result, MTMPI_ERRORS_RETURN);
        break;
    case MTJ_FREE: {
        int c = a->comm;
        call = "MPI_Comm_free";
        rc = mpi.Comm_free(&c);
        break;
    }
    default: snprintf(j->msg, sizeof j->msg, "unknown MPI job %d", (int)a->kind); return -1;
    }
    return rc == 0 ? 0 : mpi_fail(call, rc, j->msg, sizeof j->msg);
}

static void *engine_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!head && !stopping) pthread_cond_wait(&work_cv, &lock);
        if (!head) break;
        mtmpi_job *j = head;
        head = j->next;
        if (!head) tail = NULL;
        pthread_mutex_unlock(&lock);
        int err = run_job(j);
        pthread_mutex_lock(&lock);
        j->err = err;
        j->done = 1;
        pthread_cond_broadcast(&done_cv);
        unref_locked(j);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int mtmpi_initialized(void) {
    int flag = 0;
    return handle && mpi.Initialized(&flag) == 0 && flag;
}

int mtmpi_init(int *rank, int *size) {
    if (!handle) return fail("%s", "MPI is not loaded");
    int flag = 0, provided = 0;
    mpi.Initialized(&flag);
    if (!flag) {
        int rc = mpi.Init_thread(NULL, NULL, MTMPI_THREAD_MULTIPLE, &provided);
        if (rc != 0) return mpi_fail("MPI_Init_thread", rc, last_error, sizeof last_error);
        if (provided < MTMPI_THREAD_MULTIPLE)
            return fail("%s", "the MPI library does not provide MPI_THREAD_MULTIPLE, which minitorch.distributed needs");
        mpi.Comm_set_errhandler(MTMPI_COMM_WORLD, MTMPI_ERRORS_RETURN);
    }
    pthread_mutex_lock(&lock);
    int err = 0;
    if (!running) {
        stopping = 0;
        err = pthread_create(&engine, NULL, engine_main, NULL);
        running = err == 0;
    }
    pthread_mutex_unlock(&lock);
    if (err) return fail("cannot start the MPI engine thread: %s", strerror(err));
    return mtmpi_comm_rank_size(MTMPI_COMM_WORLD, rank, size);
}

int mtmpi_comm_rank_size(int comm, int *rank, int *size) {
    int rc = mpi.Comm_rank(comm, rank);
    if (rc == 0) rc = mpi.Comm_size(comm, size);
    return rc == 0 ? 0 : mpi_fail("MPI_Comm_rank", rc, last_error, sizeof last_error);
}

int mtmpi_finalize(void) {
    pthread_mutex_lock(&lock);
    int was_running = running;
    stopping = 1;
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&lock);
    if (was_running) pthread_join(engine, NULL);
    running = 0;
    int flag = 0;
    if (!handle || mpi.Finalized(&flag) != 0 || flag) return 0;
    int rc = mpi.Finalize();
    return rc == 0 ? 0 : mpi_fail("MPI_Finalize", rc, last_error, sizeof last_error);
}

mtmpi_job *mtmpi_submit(const mtmpi_args *a) {
    if (!running) return fail("%s", "the MPI engine is not running (call init_process_group first)"), NULL;
    if (a->count < 0 || a->count > INT_MAX)
        return fail("%s", "a collective over more than 2^31-1 elements per rank is not supported by the MPI backend"), NULL;
    mtmpi_job *j = calloc(1, sizeof *j);
    if (!j) return fail("%s", "out of memory"), NULL;
    j->a = *a;
    if (a->kind == MTJ_ALLTOALLV) {
        j->v = malloc(sizeof(int) * 4 * (size_t)(a->nv ? a->nv : 1));
        if (!j->v) return free(j), fail("%s", "out of memory"), NULL;
        for (int k = 0; k < 4; k++) memcpy(j->v + k * a->nv, a->v[k], sizeof(int) * (size_t)a->nv);
    }
    j->refs = 2; /* the submitter and the engine */
    pthread_mutex_lock(&lock);
    if (tail) tail->next = j; else head = j;
    tail = j;
    pthread_cond_signal(&work_cv);
    pthread_mutex_unlock(&lock);
    return j;
}

static struct timespec deadline_after(double seconds) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double s = seconds < 0 ? 0 : seconds > 1e6 ? 1e6 : seconds;
    long ns = ts.tv_nsec + (long)((s - (double)(long)s) * 1e9);
    ts.tv_sec += (time_t)s + ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    return ts;
}

int mtmpi_job_wait(mtmpi_job *j, double seconds) {
    struct timespec until = deadline_after(seconds);
    pthread_mutex_lock(&lock);
    while (!j->done && pthread_cond_timedwait(&done_cv, &lock, &until) != ETIMEDOUT) {}
    int done = j->done;
    pthread_mutex_unlock(&lock);
    return done;
}

int mtmpi_job_status(mtmpi_job *j, int *result) {
    pthread_mutex_lock(&lock);
    int err = j->err;
    if (result) *result = j->result;
    if (err) snprintf(last_error, sizeof last_error, "%s", j->msg);
    pthread_mutex_unlock(&lock);
    return err;
}

void mtmpi_job_release(mtmpi_job *j) {
    pthread_mutex_lock(&lock);
    unref_locked(j);
    pthread_mutex_unlock(&lock);
}

/* ---- point to point ---- */

int mtmpi_isend(const void *buf, int64_t count, int dtype, int dst, int tag, int comm, int *req) {
    if (count > INT_MAX) return fail("%s", "a send of more than 2^31-1 elements is not supported by the MPI backend");
    int rc = mpi.Isend(buf, (int)count, dtype, dst, tag, comm, req);
    return rc == 0 ? 0 : mpi_fail("MPI_Isend", rc, last_error, sizeof last_error);
}

int mtmpi_irecv(void *buf, int64_t count, int dtype, int src, int tag, int comm, int *req) {
    if (count > INT_MAX) return fail("%s", "a receive of more than 2^31-1 elements is not supported by the MPI backend");
    int rc = mpi.Irecv(buf, (int)count, dtype, src, tag, comm, req);
    return rc == 0 ? 0 : mpi_fail("MPI_Irecv", rc, last_error, sizeof last_error);
}

int mtmpi_request_wait(int *req, double seconds, int *source) {
    struct timespec start, now, nap = {0, 2000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int flag = 0;
        mtmpi_status st = {0};
        int rc = mpi.Test(req, &flag, &st);
        if (rc != 0) return mpi_fail("MPI_Test", rc, last_error, sizeof last_error);
        if (flag) {
            if (source) *source = st.source;
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - start.tv_sec) + 1e-9 * (double)(now.tv_nsec - start.tv_nsec) >= seconds) return 0;
        nanosleep(&nap, NULL); /* backs off from 2 us to 0.5 ms: a waiting rank should not take a core from the others */
        if (nap.tv_nsec < 500000) nap.tv_nsec *= 2;
    }
}

int mtmpi_abort(int code) { return handle ? mpi.Abort(MTMPI_COMM_WORLD, code) : 0; }
