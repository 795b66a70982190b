/* The CPU backend's kernels (see core/backend.h for the contract of each). */
#ifndef MT_CPU_KERNELS_H
#define MT_CPU_KERNELS_H

#include "../core/backend.h"

int mt_cpu_unary(int op, mt_tensor *out, const mt_tensor *a, const double *params);       /* elementwise_cpu.c */
int mt_cpu_binary(int op, mt_tensor *out, const mt_tensor *a, const mt_tensor *b, const mt_scalar *s,
                  bool scalar_first);                                                       /* elementwise_cpu.c */
int mt_cpu_where(mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b);
int mt_cpu_copy(mt_tensor *dst, const mt_tensor *src);                                     /* copy.c */
int mt_cpu_fill(mt_tensor *dst, mt_scalar v);                                              /* copy.c */
int mt_cpu_reduce(const mt_reduce_args *r, mt_tensor *out, mt_tensor *idx, const mt_tensor *in); /* reduce_cpu.c */
int mt_cpu_softmax(mt_tensor *out, const mt_tensor *in, int64_t outer, int64_t inner, bool log);
int mt_cpu_softmax_backward(mt_tensor *gin, const mt_tensor *gout, const mt_tensor *y, int64_t outer, int64_t inner,
                            bool log);
int mt_cpu_gemm(mt_dtype dtype, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
                double beta, void *c, int64_t ldc, int64_t stride_c);                      /* matmul.c */
int mt_cpu_index_select(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int64_t outer, int64_t in_dim,
                        int64_t inner);                                                    /* index.c */
int mt_cpu_index_add(mt_tensor *out, const mt_tensor *src, const mt_tensor *index, int64_t outer, int64_t out_dim,
                     int64_t inner);
int mt_cpu_gather(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int dim);
int mt_cpu_scatter(mt_tensor *out, const mt_tensor *index, const mt_tensor *src, int dim, bool add);
int mt_cpu_scan(int op, mt_tensor *out, mt_tensor *idx, const mt_tensor *in, int64_t outer, int64_t n, int64_t inner,
                bool reverse);                                                             /* scan_cpu.c */
int mt_cpu_tri(mt_tensor *out, const mt_tensor *in, int64_t batch, int64_t rows, int64_t cols, int64_t k, bool upper);
int mt_cpu_random(mt_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t offset); /* random_ops.c */

#endif
