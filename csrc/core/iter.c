#include "iter.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

int mt_num_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void mt_set_num_threads(int n) { /* OpenMP's alone: OpenBLAS stays single-threaded (matmul.c) */
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

int mt_broadcast_shapes(const int64_t *a, int na, const int64_t *b, int nb, int64_t *out, int *nout) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = na - n + i, ib = nb - n + i;
        int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            mt_error(MT_ERR_RUNTIME,
                     "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton dimension %d",
                     (long long)sa, (long long)sb, i);
            return -1;
        }
        out[i] = sa == 1 ? sb : sa;
    }
    *nout = n;
    return 0;
}

int mt_broadcast_strides(const mt_tensor *t, const int64_t *shape, int ndim, int64_t *strides) {
    if (t->ndim > ndim) return -1;
    for (int i = 0; i < ndim; i++) {
        int it = t->ndim - ndim + i;
        if (it < 0) { strides[i] = 0; continue; }
        if (t->shape[it] == shape[i]) strides[i] = shape[i] == 1 ? 0 : t->strides[it];
        else if (t->shape[it] == 1) strides[i] = 0;
        else return -1;
    }
    return 0;
}

int mt_iter_init(mt_iter *it, int nops, mt_tensor *const *ops, void *const *scalar_ptrs) {
    const mt_tensor *out = ops[0];
    int nd = out->ndim;
    int64_t st[MT_ITER_MAX_OPS][MT_MAX_DIMS];
    it->nops = nops;
    for (int k = 0; k < nops; k++) {
        if (ops[k]) {
            if (mt_broadcast_strides(ops[k], out->shape, nd, st[k]) < 0) {
                mt_error(MT_ERR_RUNTIME, "shape %s cannot be broadcast to %s", mt_shape_str(ops[k]->shape, ops[k]->ndim),
                         mt_shape_str(out->shape, nd));
                return -1;
            }
            size_t es = mt_dtype_sizes[ops[k]->dtype];
            for (int i = 0; i < nd; i++) st[k][i] *= (int64_t)es;
            it->data[k] = (char *)mt_data(ops[k]);
        } else {
            for (int i = 0; i < nd; i++) st[k][i] = 0;
            it->data[k] = scalar_ptrs[k];
        }
    }
    /* drop size-1 dims, then merge dim i into i+1 when every operand is contiguous across them */
    int m = 0;
    int64_t shape[MT_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        if (out->shape[i] == 1) continue;
        shape[m] = out->shape[i];
        for (int k = 0; k < nops; k++) st[k][m] = st[k][i];
        m++;
    }
    /* coalesce from the innermost outwards */
    int w = m - 1;
    if (m > 0) {
        int64_t cshape[MT_MAX_DIMS];
        int64_t cst[MT_ITER_MAX_OPS][MT_MAX_DIMS];
        int c = 0;
        cshape[0] = shape[m - 1];
        for (int k = 0; k < nops; k++) cst[k][0] = st[k][m - 1];
        for (w = m - 2; w >= 0; w--) {
            bool merge = true;
            for (int k = 0; k < nops; k++)
                if (st[k][w] != cst[k][c] * cshape[c]) { merge = false; break; }
            if (merge) {
                cshape[c] *= shape[w];
            } else {
                c++;
                cshape[c] = shape[w];
                for (int k = 0; k < nops; k++) cst[k][c] = st[k][w];
            }
        }
        /* store innermost last */
        it->ndim = c + 1;
        for (int i = 0; i <= c; i++) {
            it->shape[i] = cshape[c - i];
            for (int k = 0; k < nops; k++) it->strides[k][i] = cst[k][c - i];
        }
    } else {
        it->ndim = 1; /* a 0-d or all-ones shape: one element */
        it->shape[0] = mt_numel(out) ? 1 : 0;
        for (int k = 0; k < nops; k++) it->strides[k][0] = 0;
    }
    for (int i = 0; i < nd; i++)
        if (out->shape[i] == 0) it->shape[0] = 0;
    return 0;
}

/* Runs the linear index range [begin, end) of the iteration. */
static void run_range(const mt_iter *it, mt_loop_fn fn, void *ctx, int64_t begin, int64_t end) {
    int nd = it->ndim, nops = it->nops;
    int64_t inner = it->shape[nd - 1];
    int64_t idx[MT_MAX_DIMS];
    int64_t rem = begin;
    for (int i = nd - 1; i >= 0; i--) {
        idx[i] = rem % it->shape[i];
        rem /= it->shape[i];
    }
    char *ptr[MT_ITER_MAX_OPS];
    int64_t inner_strides[MT_ITER_MAX_OPS];
    for (int k = 0; k < nops; k++) {
        inner_strides[k] = it->strides[k][nd - 1];
        ptr[k] = it->data[k];
        for (int i = 0; i < nd; i++) ptr[k] += idx[i] * it->strides[k][i];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = inner - idx[nd - 1];
        if (n > end - pos) n = end - pos;
        fn(ptr, inner_strides, n, ctx);
        pos += n;
        if (pos >= end) break;
        /* advance to the start of the next row */
        for (int k = 0; k < nops; k++) ptr[k] -= idx[nd - 1] * inner_strides[k];
        idx[nd - 1] = 0;
        for (int i = nd - 2; i >= 0; i--) {
            idx[i]++;
            for (int k = 0; k < nops; k++) ptr[k] += it->strides[k][i];
            if (idx[i] < it->shape[i]) break;
            for (int k = 0; k < nops; k++) ptr[k] -= it->shape[i] * it->strides[k][i];
            idx[i] = 0;
        }
    }
}

void mt_iter_run(const mt_iter *it, mt_loop_fn fn, void *ctx, int64_t grain) {
    int64_t total = 1;
    for (int i = 0; i < it->ndim; i++) total *= it->shape[i];
    if (total == 0) return;
    int nt = mt_num_threads();
    if (grain <= 0) grain = 1 << 15;
    if (nt <= 1 || total < 2 * grain) {
        run_range(it, fn, ctx, 0, total);
        return;
    }
#ifdef _OPENMP
    int64_t chunks = total / grain;
    if (chunks > nt) chunks = nt;
#pragma omp parallel for num_threads(chunks) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        /* chunk edges rounded to 16 elements so threads never share a cache line of output */
        int64_t b = (total * c / chunks) & ~(int64_t)15, e = c == chunks - 1 ? total : (total * (c + 1) / chunks) & ~(int64_t)15;
        run_range(it, fn, ctx, b, e);
    }
#endif
}
