/* Random fills: element i of a draw is mt_philox_elem_*(seed, offset, i) from core/philox.h, the
 * very function the CPU fill uses, so a seed gives the same numbers on both devices (uniform and
 * randint bit-exact; normals to libm's last ulp, see philox.h). `out` is contiguous. */
#include "common.cuh"

#include "core/philox.h"

namespace {

template <int KIND, typename T>
__global__ void random_k(T *o, int64_t n, double a, double b, uint64_t seed, uint64_t off) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        uint64_t u = (uint64_t)i;
        if constexpr (KIND == MT_RAND_UNIFORM && std::is_same<T, float>::value)
            o[i] = mt_philox_elem_uniform_f32(seed, off, u, a, b);
        else if constexpr (KIND == MT_RAND_UNIFORM)
            o[i] = mt_philox_elem_uniform_f64(seed, off, u, a, b);
        else if constexpr (KIND == MT_RAND_NORMAL && std::is_same<T, float>::value)
            o[i] = mt_philox_elem_normal_f32(seed, off, u, a, b);
        else if constexpr (KIND == MT_RAND_NORMAL)
            o[i] = mt_philox_elem_normal_f64(seed, off, u, a, b);
        else
            o[i] = mt_philox_elem_randint_i64(seed, off, u, (int64_t)a, (int64_t)b);
    }
}

} // namespace

int cu_random(mt_tensor *out, int kind, double a, double b, uint64_t seed, uint64_t off) {
    int64_t n = cu_numel(out);
    if (n == 0) return 0;
    if (!cu_is_contig(out)) {
        cu_api->error(MT_ERR_RUNTIME, "cuda random fill: output must be contiguous");
        return -1;
    }
    void *p = cu_data(out);
    unsigned nb = cu_blocks(n);
    switch (kind * MT_NUM_DTYPES + out->dtype) {
    case MT_RAND_UNIFORM * MT_NUM_DTYPES + MT_FLOAT32: random_k<MT_RAND_UNIFORM, float><<<nb, CU_THREADS, 0, cu_stream>>>((float *)p, n, a, b, seed, off); break;
    case MT_RAND_UNIFORM * MT_NUM_DTYPES + MT_FLOAT64: random_k<MT_RAND_UNIFORM, double><<<nb, CU_THREADS, 0, cu_stream>>>((double *)p, n, a, b, seed, off); break;
    case MT_RAND_NORMAL * MT_NUM_DTYPES + MT_FLOAT32: random_k<MT_RAND_NORMAL, float><<<nb, CU_THREADS, 0, cu_stream>>>((float *)p, n, a, b, seed, off); break;
    case MT_RAND_NORMAL * MT_NUM_DTYPES + MT_FLOAT64: random_k<MT_RAND_NORMAL, double><<<nb, CU_THREADS, 0, cu_stream>>>((double *)p, n, a, b, seed, off); break;
    case MT_RAND_INT * MT_NUM_DTYPES + MT_INT64: random_k<MT_RAND_INT, int64_t><<<nb, CU_THREADS, 0, cu_stream>>>((int64_t *)p, n, a, b, seed, off); break;
    default:
        cu_api->error(MT_ERR_RUNTIME, "random fill kind %d not implemented for '%s'", kind,
                      cu_api->dtype_names[out->dtype]);
        return -1;
    }
    CU_CHECK_LAUNCH();
    return 0;
}
