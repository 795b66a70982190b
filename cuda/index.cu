/* Indexing kernels: index_select, index_add (atomicAdd), gather, scatter / scatter-add.
 *
 * Like the CPU kernels, every index value is validated before anything is written, so a bad
 * index raises (with the CPU's message) and leaves the output untouched. The validation runs on
 * the device (a min/max-style scan writing the first bad value into a flag) and reading the flag
 * back synchronises the stream once per indexing op. The main kernels also skip out-of-range
 * indices, so nothing can be accessed out of bounds even in principle. Index tensors are int64
 * (the op layer converts), laid out by their strides. With repeated indices, scatter (not add)
 * keeps one of the written values (unspecified which, as in PyTorch). */
#include "common.cuh"

namespace {

struct walk {
    int nd;
    int64_t shape[MT_MAX_DIMS], sx[MT_MAX_DIMS], sp[MT_MAX_DIMS], sd[MT_MAX_DIMS];
    int64_t dsize, dstride;
};

#define SZ(t, d) ((t)->ndim ? (t)->shape[d] : 1)
#define ST(t, d) ((t)->ndim ? (t)->strides[d] : 0)

void walk_init(walk *w, const mt_tensor *index, const mt_tensor *same, const mt_tensor *indexed, int dim) {
    w->nd = index->ndim ? index->ndim : 1;
    for (int d = 0; d < w->nd; d++) {
        w->shape[d] = SZ(index, d);
        w->sx[d] = ST(index, d);
        w->sp[d] = ST(same, d);
        w->sd[d] = d == dim ? 0 : ST(indexed, d);
    }
    w->dsize = SZ(indexed, dim);
    w->dstride = ST(indexed, dim);
}

__device__ __forceinline__ void walk_offsets(const walk &w, int64_t i, int64_t &ox, int64_t &op, int64_t &od) {
    ox = op = od = 0;
    for (int d = w.nd - 1; d >= 0; d--) {
        int64_t q = i % w.shape[d];
        i /= w.shape[d];
        ox += q * w.sx[d];
        op += q * w.sp[d];
        od += q * w.sd[d];
    }
}

/* flag[0] = 1 and flag[1] = a bad value when some index is outside [0, size) */
struct idx_geom {
    int nd;
    int64_t shape[MT_MAX_DIMS], st[MT_MAX_DIMS];
};
__global__ void check_k(const int64_t *ix, idx_geom g, int64_t n, int64_t size, unsigned long long *flag) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t off = 0, r = i;
        for (int d = g.nd - 1; d >= 0; d--) {
            off += (r % g.shape[d]) * g.st[d];
            r /= g.shape[d];
        }
        int64_t v = ix[off];
        if (v < 0 || v >= size) {
            if (atomicCAS(flag, 0ull, 1ull) == 0ull) flag[1] = (unsigned long long)v;
        }
    }
}

/* 0: all in range; 1: *bad = an offending value; -1: CUDA error */
int check_indices(const mt_tensor *index, int64_t size, int64_t *bad) {
    int64_t n = cu_numel(index);
    if (n == 0) return 0;
    idx_geom g;
    g.nd = index->ndim ? index->ndim : 1;
    for (int d = 0; d < g.nd; d++) {
        g.shape[d] = SZ(index, d);
        g.st[d] = ST(index, d);
    }
    cu_scratch s;
    unsigned long long *flag = (unsigned long long *)s.get(16);
    if (!flag) return -1;
    unsigned long long host[2] = {0, 0};
    CU_CHECK(cudaMemsetAsync(flag, 0, 16, cu_stream));
    check_k<<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>((const int64_t *)cu_data(index), g, n, size, flag);
    CU_CHECK_LAUNCH();
    CU_CHECK(cudaMemcpyAsync(host, flag, 16, cudaMemcpyDeviceToHost, cu_stream));
    CU_CHECK(cudaStreamSynchronize(cu_stream));
    if (host[0]) {
        *bad = (int64_t)host[1];
        return 1;
    }
    return 0;
}

int need_int64(const mt_tensor *index) {
    if (index->dtype != MT_INT64) {
        cu_api->error(MT_ERR_RUNTIME, "cuda indexing kernel: expected an int64 index, got %s",
                      cu_api->dtype_names[index->dtype]);
        return -1;
    }
    return 0;
}

template <typename U>
__global__ void index_select_k(U *out, const U *in, const int64_t *ix, int64_t is, int64_t ni, int64_t in_dim,
                               int64_t inner, int64_t total) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t t = tid; t < total; t += step) {
        int64_t j = t % inner, r = t / inner, i = r % ni, o = r / ni;
        int64_t v = ix[i * is];
        if (v < 0 || v >= in_dim) continue;
        out[t] = in[(o * in_dim + v) * inner + j];
    }
}

template <typename T>
__device__ __forceinline__ void atomic_add_(T *d, T v) {
    if constexpr (std::is_same<T, bool>::value) {
        if (v) *d = true;
    } else if constexpr (std::is_same<T, int64_t>::value) {
        atomicAdd((unsigned long long *)d, (unsigned long long)v);
    } else {
        atomicAdd(d, v);
    }
}

template <typename T>
__global__ void index_add_k(T *out, const T *src, const int64_t *ix, int64_t is, int64_t ni, int64_t out_dim,
                            int64_t inner, int64_t total) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t t = tid; t < total; t += step) {
        int64_t j = t % inner, r = t / inner, i = r % ni, o = r / ni;
        int64_t v = ix[i * is];
        if (v < 0 || v >= out_dim) continue;
        atomic_add_<T>(out + (o * out_dim + v) * inner + j, src[t]);
    }
}

template <typename U>
__global__ void gather_k(walk w, U *out, const U *in, const int64_t *ix, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t ox, op, od;
        walk_offsets(w, i, ox, op, od);
        int64_t v = ix[ox];
        if (v < 0 || v >= w.dsize) continue;
        out[op] = in[od + v * w.dstride];
    }
}

template <typename T, bool ADD>
__global__ void scatter_k(walk w, T *out, const T *src, const int64_t *ix, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t ox, op, od;
        walk_offsets(w, i, ox, op, od);
        int64_t v = ix[ox];
        if (v < 0 || v >= w.dsize) continue;
        if constexpr (ADD) atomic_add_<T>(out + od + v * w.dstride, src[op]);
        else out[od + v * w.dstride] = src[op];
    }
}

} // namespace

int cu_index_select(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int64_t outer, int64_t in_dim,
                    int64_t inner) {
    if (need_int64(index) < 0) return -1;
    int64_t ni = cu_numel(index), is = index->ndim ? index->strides[index->ndim - 1] : 1, bad;
    int rc = check_indices(index, in_dim, &bad);
    if (rc < 0) return -1;
    if (rc) {
        cu_api->error(MT_ERR_INDEX, "index out of range in self");
        return -1;
    }
    int64_t total = outer * ni * inner;
    if (total == 0) return 0;
    const int64_t *ix = (const int64_t *)cu_data(index);
    switch (cu_esize(in->dtype)) {
    case 1: index_select_k<uint8_t><<<cu_blocks(total), CU_THREADS, 0, cu_stream>>>((uint8_t *)cu_data(out), (const uint8_t *)cu_data(in), ix, is, ni, in_dim, inner, total); break;
    case 4: index_select_k<uint32_t><<<cu_blocks(total), CU_THREADS, 0, cu_stream>>>((uint32_t *)cu_data(out), (const uint32_t *)cu_data(in), ix, is, ni, in_dim, inner, total); break;
    default: index_select_k<uint64_t><<<cu_blocks(total), CU_THREADS, 0, cu_stream>>>((uint64_t *)cu_data(out), (const uint64_t *)cu_data(in), ix, is, ni, in_dim, inner, total); break;
    }
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_index_add(mt_tensor *out, const mt_tensor *src, const mt_tensor *index, int64_t outer, int64_t out_dim,
                 int64_t inner) {
    if (need_int64(index) < 0) return -1;
    int64_t ni = cu_numel(index), is = index->ndim ? index->strides[index->ndim - 1] : 1, bad;
    int rc = check_indices(index, out_dim, &bad);
    if (rc < 0) return -1;
    if (rc) {
        cu_api->error(MT_ERR_INDEX, "index_add(): index %lld is out of bounds for a dimension of size %lld",
                      (long long)bad, (long long)out_dim);
        return -1;
    }
    int64_t total = outer * ni * inner;
    if (total == 0) return 0;
    const int64_t *ix = (const int64_t *)cu_data(index);
    unsigned nb = cu_blocks(total);
    CU_DISPATCH_ALL(out->dtype,
                    index_add_k<scalar_t><<<nb, CU_THREADS, 0, cu_stream>>>(
                        (scalar_t *)cu_data(out), (const scalar_t *)cu_data(src), ix, is, ni, out_dim, inner, total));
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_gather(mt_tensor *out, const mt_tensor *in, const mt_tensor *index, int dim) {
    if (need_int64(index) < 0) return -1;
    int64_t n = cu_numel(index), bad;
    if (n == 0) return 0;
    walk w;
    walk_init(&w, index, out, in, dim);
    int rc = check_indices(index, w.dsize, &bad);
    if (rc < 0) return -1;
    if (rc) {
        cu_api->error(MT_ERR_RUNTIME, "index %lld is out of bounds for dimension %d with size %lld", (long long)bad, dim,
                      (long long)w.dsize);
        return -1;
    }
    const int64_t *ix = (const int64_t *)cu_data(index);
    switch (cu_esize(in->dtype)) {
    case 1: gather_k<uint8_t><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(w, (uint8_t *)cu_data(out), (const uint8_t *)cu_data(in), ix, n); break;
    case 4: gather_k<uint32_t><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(w, (uint32_t *)cu_data(out), (const uint32_t *)cu_data(in), ix, n); break;
    default: gather_k<uint64_t><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(w, (uint64_t *)cu_data(out), (const uint64_t *)cu_data(in), ix, n); break;
    }
    CU_CHECK_LAUNCH();
    return 0;
}

int cu_scatter(mt_tensor *out, const mt_tensor *index, const mt_tensor *src, int dim, bool add) {
    if (need_int64(index) < 0) return -1;
    int64_t n = cu_numel(index), bad;
    if (n == 0) return 0;
    walk w;
    walk_init(&w, index, src, out, dim);
    int rc = check_indices(index, w.dsize, &bad);
    if (rc < 0) return -1;
    if (rc) {
        cu_api->error(MT_ERR_RUNTIME, "index %lld is out of bounds for dimension %d with size %lld", (long long)bad, dim,
                      (long long)w.dsize);
        return -1;
    }
    const int64_t *ix = (const int64_t *)cu_data(index);
    unsigned nb = cu_blocks(n);
    if (add) {
        CU_DISPATCH_ALL(out->dtype, scatter_k<scalar_t, true><<<nb, CU_THREADS, 0, cu_stream>>>(
                                        w, (scalar_t *)cu_data(out), (const scalar_t *)cu_data(src), ix, n));
    } else {
        switch (cu_esize(out->dtype)) {
        case 1: scatter_k<uint8_t, false><<<nb, CU_THREADS, 0, cu_stream>>>(w, (uint8_t *)cu_data(out), (const uint8_t *)cu_data(src), ix, n); break;
        case 4: scatter_k<uint32_t, false><<<nb, CU_THREADS, 0, cu_stream>>>(w, (uint32_t *)cu_data(out), (const uint32_t *)cu_data(src), ix, n); break;
        default: scatter_k<uint64_t, false><<<nb, CU_THREADS, 0, cu_stream>>>(w, (uint64_t *)cu_data(out), (const uint64_t *)cu_data(src), ix, n); break;
        }
    }
    CU_CHECK_LAUNCH();
    return 0;
}
