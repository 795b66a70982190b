/* The CUDA backend's runtime: error reporting, the stream, the caching allocator, the
 * strided-geometry helper and the registration of the backend table into the core.
 *
 * Caching allocator: requests are rounded up (512 B below 1 MiB, 2 MiB above) and a freed block
 * goes to the free list of its rounded size; the next request of that size reuses it without
 * cudaMalloc. All kernels run on the one stream cu_stream, so a block freed on the host while a
 * kernel still uses it can be handed out again at once: the next user's work is queued behind.
 * On cudaMalloc failure the cache is released (cudaFree) and the allocation retried once; a
 * second failure raises "CUDA out of memory. Tried to allocate ...". */
#include "common.cuh"

#include <stdio.h>
#include <string.h>
#include <unordered_map>
#include <vector>

const mt_core_api *cu_api;
cudaStream_t cu_stream;
int cu_num_sms;

int cu_fail(cudaError_t e, const char *what, const char *file, int line) {
    const char *f = strrchr(file, '/');
    cu_api->error(MT_ERR_RUNTIME, "CUDA error: %s (%s; %s at %s:%d)", cudaGetErrorString(e), cudaGetErrorName(e), what,
                  f ? f + 1 : file, line);
    return -1;
}

/* ---------------- geometry ---------------- */
int cu_geom_init(cu_geom *g, int nops, const mt_tensor *const *ops) {
    const mt_tensor *out = ops[0];
    int nd = out->ndim;
    int64_t st[CU_MAX_OPS][MT_MAX_DIMS];
    for (int k = 0; k < nops; k++) {
        const mt_tensor *t = ops[k];
        bool ok = !t || t->ndim <= nd;
        for (int i = 0; i < nd && ok; i++) {
            int it = t ? t->ndim - nd + i : -1;
            if (it < 0) st[k][i] = 0;
            else if (t->shape[it] == out->shape[i]) st[k][i] = out->shape[i] == 1 ? 0 : t->strides[it];
            else if (t->shape[it] == 1) st[k][i] = 0;
            else ok = false;
        }
        if (!ok) {
            cu_api->error(MT_ERR_RUNTIME, "shape %s of operand %d cannot be broadcast to the output shape", "", k);
            return -1;
        }
    }
    /* drop size-1 dims */
    int m = 0;
    int64_t shape[MT_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        if (out->shape[i] == 1) continue;
        shape[m] = out->shape[i];
        for (int k = 0; k < nops; k++) st[k][m] = st[k][i];
        m++;
    }
    /* merge dim i into the next inner one when contiguous across them for every operand */
    int c = 0;
    if (m > 0) {
        /* build from the innermost outwards, then reverse */
        int64_t cs[MT_MAX_DIMS], cst[CU_MAX_OPS][MT_MAX_DIMS];
        cs[0] = shape[m - 1];
        for (int k = 0; k < nops; k++) cst[k][0] = st[k][m - 1];
        c = 1;
        for (int i = m - 2; i >= 0; i--) {
            bool ok = true;
            for (int k = 0; k < nops; k++)
                if (st[k][i] != cst[k][c - 1] * cs[c - 1]) { ok = false; break; }
            if (ok) {
                cs[c - 1] *= shape[i];
            } else {
                cs[c] = shape[i];
                for (int k = 0; k < nops; k++) cst[k][c] = st[k][i];
                c++;
            }
        }
        for (int i = 0; i < c; i++) {
            g->shape[i] = cs[c - 1 - i];
            for (int k = 0; k < nops; k++) g->strides[k][i] = cst[k][c - 1 - i];
        }
    }
    for (int k = nops; k < CU_MAX_OPS; k++)
        for (int i = 0; i < c; i++) g->strides[k][i] = 0;
    g->ndim = c;
    return 0;
}

/* ---------------- caching allocator ---------------- */
namespace {
struct cu_allocator {
    std::unordered_map<size_t, std::vector<void *>> free_lists; /* rounded size -> cached blocks */
    std::unordered_map<void *, size_t> live;                   /* block -> rounded size */
    int64_t allocated = 0, max_allocated = 0, reserved = 0;
    int64_t n_malloc = 0, n_cache_hits = 0;
};
cu_allocator *A;

size_t round_size(int64_t n) {
    size_t s = n <= 0 ? 1 : (size_t)n;
    if (s < ((size_t)1 << 20)) return (s + 511) & ~(size_t)511;
    const size_t mb2 = (size_t)2 << 20;
    return (s + mb2 - 1) / mb2 * mb2;
}

void release_cache(void) {
    if (!A) return;
    bool any = false;
    for (auto &kv : A->free_lists)
        if (!kv.second.empty()) { any = true; break; }
    if (!any) return;
    cudaStreamSynchronize(cu_stream);
    for (auto &kv : A->free_lists) {
        for (void *p : kv.second) {
            cudaFree(p);
            A->reserved -= (int64_t)kv.first;
        }
        kv.second.clear();
    }
    A->free_lists.clear();
}

const char *fmt_bytes(double b, char *buf, size_t n) {
    if (b >= (double)(1 << 30)) snprintf(buf, n, "%.2f GiB", b / (double)(1 << 30));
    else if (b >= (double)(1 << 20)) snprintf(buf, n, "%.2f MiB", b / (double)(1 << 20));
    else if (b >= 1024) snprintf(buf, n, "%.2f KiB", b / 1024.0);
    else snprintf(buf, n, "%.0f bytes", b);
    return buf;
}
} // namespace

void *cu_alloc(int64_t nbytes, mt_device dev) {
    if (dev.index != 0) {
        cu_api->error(MT_ERR_RUNTIME, "CUDA error: invalid device ordinal (minitorch uses cuda:0 only, got cuda:%d)",
                      dev.index);
        return NULL;
    }
    if (!A) A = new cu_allocator();
    size_t sz = round_size(nbytes);
    auto it = A->free_lists.find(sz);
    void *p = NULL;
    if (it != A->free_lists.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        A->n_cache_hits++;
    } else {
        cudaError_t e = cudaMalloc(&p, sz);
        if (e == cudaErrorMemoryAllocation) {
            cudaGetLastError(); /* clear the (non-sticky) error */
            release_cache();
            e = cudaMalloc(&p, sz);
        }
        if (e != cudaSuccess) {
            cudaGetLastError();
            if (e == cudaErrorMemoryAllocation) {
                size_t fr = 0, tot = 0;
                cudaMemGetInfo(&fr, &tot);
                char b1[32], b2[32], b3[32], b4[32], b5[32];
                cu_api->error(MT_ERR_RUNTIME,
                              "CUDA out of memory. Tried to allocate %s. GPU 0 has a total capacity of %s of which "
                              "%s is free. Of the allocated memory %s is allocated by minitorch, and %s is reserved "
                              "by minitorch but unallocated.",
                              fmt_bytes((double)sz, b1, 32), fmt_bytes((double)tot, b2, 32), fmt_bytes((double)fr, b3, 32),
                              fmt_bytes((double)A->allocated, b4, 32),
                              fmt_bytes((double)(A->reserved - A->allocated), b5, 32));
            } else {
                cu_fail(e, "cudaMalloc", __FILE__, __LINE__);
            }
            return NULL;
        }
        A->reserved += (int64_t)sz;
        A->n_malloc++;
    }
    A->live[p] = sz;
    A->allocated += (int64_t)sz;
    if (A->allocated > A->max_allocated) A->max_allocated = A->allocated;
    return p;
}

void cu_free(void *p, mt_device dev) {
    (void)dev;
    if (!p || !A) return;
    auto it = A->live.find(p);
    if (it == A->live.end()) return; /* not ours: never happens */
    size_t sz = it->second;
    A->live.erase(it);
    A->allocated -= (int64_t)sz;
    A->free_lists[sz].push_back(p);
}

/* ---------------- backend table ---------------- */
static mt_backend cuda_backend;
/* fused kernels (optim.cu, loss.cu, rnn.cu) and loss.cu's asynchronous error reports */
const mt_optim_backend *cu_optim_backend(void);
const mt_loss_backend *cu_loss_backend(void);
const mt_rnn_backend *cu_rnn_backend(void);
extern "C" int cu_loss_take_error(void);
extern "C" int cu_copy_checked(mt_tensor *dst, const mt_tensor *src);

extern "C" {

/* Called by the module init with the core's table. Returns the number of devices (0: the
 * backend is not registered and CUDA tensors raise "not available"), or -1 (error set in
 * *msg) when the runtime is broken. */
int mt_cuda_init(const mt_core_api *api, char *msg, size_t msglen) {
    cu_api = api;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        snprintf(msg, msglen, "%s", cudaGetErrorString(e));
        return 0;
    }
    if (n <= 0) return 0;
    if ((e = cudaSetDevice(0)) != cudaSuccess ||
        (e = cudaStreamCreateWithFlags(&cu_stream, cudaStreamNonBlocking)) != cudaSuccess ||
        (e = cudaDeviceGetAttribute(&cu_num_sms, cudaDevAttrMultiProcessorCount, 0)) != cudaSuccess) {
        cudaGetLastError();
        snprintf(msg, msglen, "CUDA initialisation failed: %s", cudaGetErrorString(e));
        return -1;
    }
    cuda_backend.name = "cuda";
    cuda_backend.alloc = cu_alloc;
    cuda_backend.free = cu_free;
    cuda_backend.unary = cu_unary;
    cuda_backend.binary = cu_binary;
    cuda_backend.where = cu_where;
    cuda_backend.copy = cu_copy_checked; /* cu_copy + raising loss.cu's device-side reports after D2H copies */
    cuda_backend.fill = cu_fill;
    cuda_backend.reduce = cu_reduce;
    cuda_backend.gemm = cu_gemm;
    cuda_backend.index_select = cu_index_select;
    cuda_backend.index_add = cu_index_add;
    cuda_backend.gather = cu_gather;
    cuda_backend.scatter = cu_scatter;
    cuda_backend.softmax = cu_softmax;
    cuda_backend.softmax_backward = cu_softmax_backward;
    cuda_backend.random = cu_random;
    api->backends[MT_CUDA] = &cuda_backend;
    api->optim_backends[MT_CUDA] = cu_optim_backend();
    api->loss_backends[MT_CUDA] = cu_loss_backend();
    api->rnn_backends[MT_CUDA] = cu_rnn_backend();
    return n;
}

int mt_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) { cudaGetLastError(); return 0; }
    return n;
}

int mt_cuda_device_name(int dev, char *buf, size_t n) {
    cudaDeviceProp p;
    CU_CHECK(cudaGetDeviceProperties(&p, dev));
    snprintf(buf, n, "%s", p.name);
    return 0;
}

int mt_cuda_synchronize(void) {
    CU_CHECK(cudaStreamSynchronize(cu_stream));
    return cu_loss_take_error();
}

void mt_cuda_memory_stats(int64_t *allocated, int64_t *max_allocated, int64_t *reserved) {
    *allocated = A ? A->allocated : 0;
    *max_allocated = A ? A->max_allocated : 0;
    *reserved = A ? A->reserved : 0;
}

void mt_cuda_reset_peak(void) {
    if (A) A->max_allocated = A->allocated;
}

void mt_cuda_empty_cache(void) { release_cache(); }

} // extern "C"
