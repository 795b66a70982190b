/* minitorch._C._core_api: a PyCapsule holding the core API table (core/core_api.h) so the
 * CUDA extension (minitorch._C_cuda) can register its backend and call into the core. */
#include "py.h"
#include "../core/core_api.h"

static const mt_core_api core_api = {
    .version = MT_CORE_API_VERSION,
    .max_dims = MT_MAX_DIMS,
    .tensor_size = sizeof(mt_tensor),
    .backends = mt_backends,
    .dtype_sizes = mt_dtype_sizes,
    .dtype_names = mt_dtype_names,
    .error = mt_error,
    .err_kind = mt_err_kind,
    .err_msg = mt_err_msg,
    .err_clear = mt_err_clear,
    .numel = mt_numel,
    .is_contiguous = mt_is_contiguous,
    .empty = mt_empty,
    .alias = mt_alias,
    .decref = mt_decref,
    .contiguous = mt_contiguous,
    .copy_into = mt_copy_into,
    .default_generator = mt_default_generator,
    .manual_seed = mt_manual_seed,
    .optim_backends = mt_optim_backends,
    .loss_backends = mt_loss_backends,
    .rnn_backends = mt_rnn_backends,
};

const mt_core_api *mt_core_api_table(void) { return &core_api; }

/* New reference: the capsule (module attribute _core_api). */
PyObject *mt_py_core_api(void) {
    return PyCapsule_New((void *)&core_api, MT_CORE_API_CAPSULE, NULL);
}
