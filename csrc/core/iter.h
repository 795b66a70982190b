/* The strided N-d iterator that drives every CPU elementwise kernel.
 *
 * Operand 0 is the output; the inputs are broadcast to its shape (stride 0).
 * Dimensions are coalesced where every operand is contiguous across them, so
 * a contiguous or simply-broadcast op becomes one flat inner loop. The inner
 * loop gets byte strides and checks for the contiguous case itself, where the
 * compiler vectorises. Large iterations are split across threads by linear
 * index. */
#ifndef MT_ITER_H
#define MT_ITER_H

#include "mt.h"

#define MT_ITER_MAX_OPS 4

typedef void (*mt_loop_fn)(char **data, const int64_t *strides, int64_t n, void *ctx);

typedef struct mt_iter {
    int ndim, nops;
    int64_t shape[MT_MAX_DIMS];
    char *data[MT_ITER_MAX_OPS];
    int64_t strides[MT_ITER_MAX_OPS][MT_MAX_DIMS]; /* bytes */
} mt_iter;

/* Broadcast the shapes of two tensors into out_shape; -1 with PyTorch's error on mismatch. */
int mt_broadcast_shapes(const int64_t *a, int na, const int64_t *b, int nb, int64_t *out, int *nout);
/* Strides (elements) of t viewed as broadcast to shape[ndim]; -1 if it cannot be. */
int mt_broadcast_strides(const mt_tensor *t, const int64_t *shape, int ndim, int64_t *strides);

/* ops[0] is the output. Inputs may be NULL: a stride-0 operand pointing at scalar_bufs[k]. */
int mt_iter_init(mt_iter *it, int nops, mt_tensor *const *ops, void *const *scalar_ptrs);
void mt_iter_run(const mt_iter *it, mt_loop_fn fn, void *ctx, int64_t grain);

int mt_num_threads(void);

#endif
