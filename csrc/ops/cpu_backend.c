/* The CPU entry of the device table. */
#include "cpu_kernels.h"

static mt_backend cpu_backend = {
    .name = "cpu",
    .alloc = NULL, /* CPU storage is allocated inline by core/tensor.c */
    .free = NULL,
    .unary = mt_cpu_unary,
    .binary = mt_cpu_binary,
    .where = mt_cpu_where,
    .copy = mt_cpu_copy,
    .fill = mt_cpu_fill,
    .reduce = mt_cpu_reduce,
    .gemm = mt_cpu_gemm,
    .index_select = mt_cpu_index_select,
    .index_add = mt_cpu_index_add,
    .gather = mt_cpu_gather,
    .scatter = mt_cpu_scatter,
    .softmax = mt_cpu_softmax,
    .softmax_backward = mt_cpu_softmax_backward,
    .random = mt_cpu_random,
    .scan = mt_cpu_scan,
    .tri = mt_cpu_tri,
};

mt_backend *mt_narrow_backend(const mt_backend *wide); /* narrow.c */

/* the kernels above, wrapped so that the narrow dtypes run through them (narrow.c) */
void mt_register_cpu_backend(void) { mt_backends[MT_CPU] = mt_narrow_backend(&cpu_backend); }
