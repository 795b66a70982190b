/* Random fills: the op layer reserves Philox counters from the device's
 * generator; kernels compute element i from (seed, offset, i) alone, so every
 * device produces the same numbers for the same seed. */
#include "ops.h"
#include "cpu_kernels.h"
#include "../core/random.h"

#include <math.h>

int mt_cpu_random(mt_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t off) {
    int64_t n = mt_numel(out);
    void *p = mt_data(out);
    /* out is contiguous: the op layer guarantees it. The op layer reserved the counters; the bulk
     * fills of core/random.c (one Philox block per 4 floats / 2 doubles, equal to the per-element
     * definition the CUDA kernels use) run on a generator positioned there. */
    mt_generator g = {seed, off};
    switch (kind * MT_NUM_DTYPES + out->dtype) {
    case MT_RAND_UNIFORM * MT_NUM_DTYPES + MT_FLOAT32: mt_fill_uniform_f32(&g, p, n, a, b); return 0;
    case MT_RAND_UNIFORM * MT_NUM_DTYPES + MT_FLOAT64: mt_fill_uniform_f64(&g, p, n, a, b); return 0;
    case MT_RAND_NORMAL * MT_NUM_DTYPES + MT_FLOAT32: mt_fill_normal_f32(&g, p, n, a, b); return 0;
    case MT_RAND_NORMAL * MT_NUM_DTYPES + MT_FLOAT64: mt_fill_normal_f64(&g, p, n, a, b); return 0;
    case MT_RAND_INT * MT_NUM_DTYPES + MT_INT64: mt_fill_randint_i64(&g, p, n, (int64_t)a, (int64_t)b); return 0;
    default:
        mt_error(MT_ERR_RUNTIME, "random fill kind %d not implemented for '%s'", kind, mt_dtype_names[out->dtype]);
        return -1;
    }
}

int mt_random_(mt_tensor *t, int kind, double a, double b, mt_generator *gen) {
    if (!t || mt_check_inplace(t) < 0) return -1;
    if (kind == MT_RAND_INT ? !(b > a) : (kind == MT_RAND_UNIFORM && !(a <= b))) {
        if (kind == MT_RAND_INT)
            mt_error(MT_ERR_RUNTIME, "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
                     (long long)a, (long long)b);
        else
            mt_error(MT_ERR_RUNTIME, "uniform_ expects to return a [from, to) range, but found from=%g > to=%g", a, b);
        return -1;
    }
    if (kind == MT_RAND_NORMAL && !(b >= 0)) {
        mt_error(MT_ERR_RUNTIME, "normal expects std >= 0.0, but found std %g", b);
        return -1;
    }
    if (kind != MT_RAND_INT && !mt_is_floating(t->dtype)) {
        mt_error(MT_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", kind == MT_RAND_NORMAL ? "normal_kernel_cpu" : "check_uniform_bounds",
                 mt_type_name(t->dtype));
        return -1;
    }
    int64_t n = mt_numel(t);
    if (n == 0) return 0;
    mt_dtype gen_dtype = kind == MT_RAND_INT ? MT_INT64 : mt_wide_dtype(t->dtype); /* a narrow float: drawn as float32 */
    mt_generator *g = gen ? gen : mt_default_generator(t->storage->device.type);
    uint64_t blocks = (gen_dtype == MT_FLOAT32) ? mt_philox_blocks_f32(n) : mt_philox_blocks_f64(n);
    uint64_t off = g->offset;
    g->offset += blocks;
    mt_tensor *tmp = (gen_dtype == t->dtype && mt_is_contiguous(t)) ? mt_incref(t)
                                                                     : mt_empty(t->shape, t->ndim, gen_dtype, t->storage->device);
    if (!tmp) return -1;
    int rc = mt_backend_of(t)->random(tmp, kind, a, b, g->seed, off);
    if (rc == 0 && tmp != t) rc = mt_copy_into(t, tmp);
    mt_decref(tmp);
    if (rc == 0) mt_bump_version(t);
    return rc;
}
