/* The MPI engine behind minitorch.distributed's CPU backend.
 *
 * libmpi is loaded at run time (dlopen of the path Python found, e.g. the mpich wheel's), so the
 * build needs no MPI. Handles follow the MPICH ABI (MPICH, Intel MPI, MVAPICH, Cray MPICH): every
 * handle is an int and the predefined ones are the constants below (from MPICH's mpi.h).
 *
 * Collectives run on one engine thread, in the order they were submitted, with blocking MPI calls
 * (MPI's best algorithms) and without the GIL: an all-reduce started from a backward hook overlaps
 * the rest of the backward pass. Point-to-point calls are nonblocking and issued by the calling
 * thread (MPI_THREAD_MULTIPLE), so a send never waits behind a queued collective. */
#ifndef MT_DIST_MPI_H
#define MT_DIST_MPI_H

#include <stdint.h>

#define MTMPI_COMM_WORLD 0x44000000
#define MTMPI_COMM_SELF 0x44000001
#define MTMPI_COMM_NULL 0x04000000
#define MTMPI_UNDEFINED (-32766)
#define MTMPI_ANY_SOURCE (-2)

typedef enum {
    MTJ_ALLREDUCE, MTJ_BCAST, MTJ_REDUCE, MTJ_ALLGATHER, MTJ_GATHER, MTJ_SCATTER, MTJ_REDUCE_SCATTER,
    MTJ_ALLTOALLV, MTJ_BARRIER, MTJ_SPLIT, MTJ_FREE, MTJ_NUM_KINDS
} mtmpi_kind;

/* One collective: what the engine thread runs. In-place all-reduce: send == recv. Alltoallv's four
 * int arrays (send counts, send displacements, receive counts, receive displacements; in elements)
 * are copied in and owned by the job. */
typedef struct mtmpi_job mtmpi_job;
typedef struct {
    mtmpi_kind kind;
    int comm;
    void *send, *recv;
    int64_t count; /* elements per rank (allgather/gather/scatter/reduce_scatter: one rank's block) */
    int dtype, op, root;
    int color, key;             /* MTJ_SPLIT */
    const int *v[4]; int nv;    /* MTJ_ALLTOALLV */
} mtmpi_args;

/* 0 on success; -1 with the reason in mtmpi_error(). */
int mtmpi_load(const char *path);
int mtmpi_init(int *rank, int *size); /* MPI_Init_thread(MULTIPLE) once, then the engine thread */
int mtmpi_initialized(void);
int mtmpi_finalize(void);             /* stops the engine thread, MPI_Finalize */
const char *mtmpi_error(void);
const char *mtmpi_library_version(void);
int mtmpi_comm_rank_size(int comm, int *rank, int *size);

mtmpi_job *mtmpi_submit(const mtmpi_args *a);
/* Waits up to `seconds` (GIL must be released by the caller). 1 done, 0 still running. */
int mtmpi_job_wait(mtmpi_job *j, double seconds);
/* After done: 0 or -1 (message copied to mtmpi_error()); *result: the new comm of MTJ_SPLIT. */
int mtmpi_job_status(mtmpi_job *j, int *result);
void mtmpi_job_release(mtmpi_job *j); /* the submitter's reference */

/* Point to point, on the calling thread. Returns a request id >= 0 or -1. */
int mtmpi_isend(const void *buf, int64_t count, int dtype, int dst, int tag, int comm, int *req);
int mtmpi_irecv(void *buf, int64_t count, int dtype, int src, int tag, int comm, int *req);
/* Polls the request up to `seconds`: 1 done (*source set), 0 not yet, -1 error. */
int mtmpi_request_wait(int *req, double seconds, int *source);
int mtmpi_abort(int code);

#endif
