/* Copies (strided, broadcasting, dtype-converting; host<->device), fill and where.
 *
 * mt_copy_into routes every copy with a CUDA side here. A host<->device copy moves one
 * contiguous buffer: the CPU side is first made contiguous in dst's dtype and shape with a
 * staging tensor (the CPU backend's copy does the conversion / broadcast), the CUDA side through
 * a device temporary when dst is not contiguous. Device->host copies synchronise the stream. */
#include "ew.cuh"

namespace {

template <typename D, typename S>
struct ConvF {
    __host__ __device__ __forceinline__ D operator()(S x) const { return (D)x; }
};

template <typename D>
int copy_to(mt_tensor *dst, const mt_tensor *src) {
    switch (src->dtype) {
    case MT_BOOL: return cu_launch_unary<bool>(ConvF<D, bool>(), dst, src);
    case MT_INT32: return cu_launch_unary<int32_t>(ConvF<D, int32_t>(), dst, src);
    case MT_INT64: return cu_launch_unary<int64_t>(ConvF<D, int64_t>(), dst, src);
    case MT_FLOAT32: return cu_launch_unary<float>(ConvF<D, float>(), dst, src);
    default: return cu_launch_unary<double>(ConvF<D, double>(), dst, src);
    }
}

/* both on this device */
int device_copy(mt_tensor *dst, const mt_tensor *src) {
    int64_t n = cu_numel(dst);
    if (n == 0) return 0;
    if (dst->dtype == src->dtype && cu_is_contig(dst) && cu_is_contig(src) && cu_numel(src) == n) {
        if (cu_data(dst) != cu_data(src))
            CU_CHECK(cudaMemcpyAsync(cu_data(dst), cu_data(src), (size_t)n * cu_esize(dst->dtype),
                                     cudaMemcpyDeviceToDevice, cu_stream));
        return 0;
    }
    switch (dst->dtype) {
    case MT_BOOL: return copy_to<bool>(dst, src);
    case MT_INT32: return copy_to<int32_t>(dst, src);
    case MT_INT64: return copy_to<int64_t>(dst, src);
    case MT_FLOAT32: return copy_to<float>(dst, src);
    default: return copy_to<double>(dst, src);
    }
}

struct tref { /* owns a core tensor reference */
    mt_tensor *t = nullptr;
    ~tref() {
        if (t) cu_api->decref(t);
    }
};

bool same_shape(const mt_tensor *a, const mt_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

/* host -> device */
int h2d(mt_tensor *dst, const mt_tensor *src) {
    int64_t n = cu_numel(dst);
    if (n == 0) return 0;
    tref stage, tmp;
    const mt_tensor *hs = src;
    if (src->dtype != dst->dtype || !cu_is_contig(src) || !same_shape(src, dst)) {
        stage.t = cu_api->empty(dst->shape, dst->ndim, dst->dtype, cu_cpu_dev());
        if (!stage.t || cu_api->backends[MT_CPU]->copy(stage.t, src) < 0) return -1;
        hs = stage.t;
    }
    mt_tensor *dd = dst;
    if (!cu_is_contig(dst)) {
        tmp.t = cu_api->empty(dst->shape, dst->ndim, dst->dtype, dst->storage->device);
        if (!tmp.t) return -1;
        dd = tmp.t;
    }
    /* pageable source: returns once the data is staged, so `stage` may be freed right after */
    CU_CHECK(cudaMemcpyAsync(cu_data(dd), cu_data(hs), (size_t)n * cu_esize(dst->dtype), cudaMemcpyHostToDevice,
                             cu_stream));
    if (dd != dst) return device_copy(dst, dd);
    return 0;
}

/* device -> host (synchronous) */
int d2h(mt_tensor *dst, const mt_tensor *src) {
    int64_t n = cu_numel(dst);
    if (n == 0) return 0;
    tref dtmp, stage;
    const mt_tensor *ds = src;
    if (src->dtype != dst->dtype || !cu_is_contig(src) || !same_shape(src, dst)) {
        dtmp.t = cu_api->empty(dst->shape, dst->ndim, dst->dtype, src->storage->device);
        if (!dtmp.t || device_copy(dtmp.t, src) < 0) return -1;
        ds = dtmp.t;
    }
    mt_tensor *hd = dst;
    if (!cu_is_contig(dst)) {
        stage.t = cu_api->empty(dst->shape, dst->ndim, dst->dtype, cu_cpu_dev());
        if (!stage.t) return -1;
        hd = stage.t;
    }
    CU_CHECK(cudaMemcpyAsync(cu_data(hd), cu_data(ds), (size_t)n * cu_esize(dst->dtype), cudaMemcpyDeviceToHost,
                             cu_stream));
    CU_CHECK(cudaStreamSynchronize(cu_stream));
    if (hd != dst) return cu_api->backends[MT_CPU]->copy(dst, hd);
    return 0;
}

/* ---------------- fill ---------------- */
template <typename U>
__global__ void fill_contig_k(U *o, U v, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) o[i] = v;
}
template <typename U>
__global__ void fill_strided_k(cu_geom g, U *o, U v, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t off[1];
        cu_offsets<1>(g, i, off);
        o[off[0]] = v;
    }
}
template <typename U>
int fill_bits(mt_tensor *dst, U v, int64_t n) {
    cu_geom g;
    const mt_tensor *ops[1] = {dst};
    if (cu_geom_init(&g, 1, ops) < 0) return -1;
    U *o = (U *)cu_data(dst);
    if (g.ndim == 0 || (g.ndim == 1 && g.strides[0][0] == 1))
        fill_contig_k<U><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(o, v, n);
    else
        fill_strided_k<U><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(g, o, v, n);
    CU_CHECK_LAUNCH();
    return 0;
}

/* ---------------- where ---------------- */
template <typename U>
__global__ void where_k(cu_geom g, U *o, const bool *c, const U *a, const U *b, int64_t n) {
    int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = tid; i < n; i += step) {
        int64_t off[4];
        cu_offsets<4>(g, i, off);
        o[off[0]] = c[off[1]] ? a[off[2]] : b[off[3]];
    }
}
template <typename U>
int where_launch(const cu_geom &g, mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b,
                 int64_t n) {
    where_k<U><<<cu_blocks(n), CU_THREADS, 0, cu_stream>>>(g, (U *)cu_data(out), (const bool *)cu_data(cond),
                                                           (const U *)cu_data(a), (const U *)cu_data(b), n);
    CU_CHECK_LAUNCH();
    return 0;
}

} // namespace

int cu_copy(mt_tensor *dst, const mt_tensor *src) {
    bool dc = cu_on_cuda(dst), sc = cu_on_cuda(src);
    if (dc && sc) {
        if (dst->storage->device.index != src->storage->device.index) {
            cu_api->error(MT_ERR_RUNTIME, "copies between CUDA devices are not supported (cuda:%d -> cuda:%d)",
                          src->storage->device.index, dst->storage->device.index);
            return -1;
        }
        return device_copy(dst, src);
    }
    if (dc) return h2d(dst, src);
    if (sc) return d2h(dst, src);
    return cu_api->backends[MT_CPU]->copy(dst, src);
}

int cu_fill(mt_tensor *dst, mt_scalar v) {
    int64_t n = cu_numel(dst);
    if (n == 0) return 0;
    /* the value converted like the CPU fill: from its own dtype (f64, i64 or bool) to dst's */
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t u8;
        uint32_t u32;
        uint64_t u64;
    } u;
    u.u64 = 0;
    switch (dst->dtype) {
    case MT_BOOL: u.b = v.dtype == MT_FLOAT64 ? v.f != 0 : v.i != 0; break;
    case MT_INT32: u.i32 = v.dtype == MT_FLOAT64 ? (int32_t)v.f : (int32_t)v.i; break;
    case MT_INT64: u.i64 = v.dtype == MT_FLOAT64 ? (int64_t)v.f : v.i; break;
    case MT_FLOAT32: u.f32 = v.dtype == MT_FLOAT64 ? (float)v.f : (float)v.i; break;
    default: u.f64 = v.dtype == MT_FLOAT64 ? v.f : (double)v.i; break;
    }
    if (u.u64 == 0 && cu_is_contig(dst)) {
        CU_CHECK(cudaMemsetAsync(cu_data(dst), 0, (size_t)n * cu_esize(dst->dtype), cu_stream));
        return 0;
    }
    switch (cu_esize(dst->dtype)) {
    case 1: return fill_bits<uint8_t>(dst, u.u8, n);
    case 4: return fill_bits<uint32_t>(dst, u.u32, n);
    default: return fill_bits<uint64_t>(dst, u.u64, n);
    }
}

int cu_where(mt_tensor *out, const mt_tensor *cond, const mt_tensor *a, const mt_tensor *b) {
    int64_t n = cu_numel(out);
    if (n == 0) return 0;
    if (cond->dtype != MT_BOOL) {
        cu_api->error(MT_ERR_RUNTIME, "where expected condition to be a boolean tensor, but got a tensor with dtype %s",
                      cu_api->dtype_names[cond->dtype]);
        return -1;
    }
    cu_geom g;
    const mt_tensor *ops[4] = {out, cond, a, b};
    if (cu_geom_init(&g, 4, ops) < 0) return -1;
    switch (cu_esize(out->dtype)) {
    case 1: return where_launch<uint8_t>(g, out, cond, a, b, n);
    case 4: return where_launch<uint32_t>(g, out, cond, a, b, n);
    default: return where_launch<uint64_t>(g, out, cond, a, b, n);
    }
}
