/* Fused optimizer steps (minitorch.optim).
 *
 * Each step updates one parameter in place with ONE pass over its data: the kernel reads the
 * parameter, its gradient and its state buffers once and writes the new parameter and state in
 * the same loop. The formulas and their operation order are PyTorch 2.x's single-tensor
 * (foreach=False) implementations (torch/optim/{sgd,adam,rmsprop,adagrad}.py), so float64 results
 * agree to the last bits and float32 results to float32 rounding.
 *
 * The op layer (optim.c) checks its arguments (defined, same device, floating dtype, same dtype,
 * same number of elements), works on contiguous copies of non-contiguous tensors and copies the
 * results back, computes the per-step scalars (bias corrections, step sizes) in double precision
 * as PyTorch's Python code does, and calls the kernel of the parameter's device through
 * mt_optim_backends. No autograd is recorded: these are in-place updates of leaf tensors, which
 * bump the version counter of every tensor they write (mt_bump_version).
 *
 * Ownership: every tensor argument is BORROWED. Functions return 0, or -1 with mt_error set.
 * Optional tensors are NULL when absent. */
#ifndef MT_OPTIM_H
#define MT_OPTIM_H

#include "../core/mt.h"

/* ---- per-step scalars handed to the device kernels (all already resolved) ---- */
typedef struct mt_sgd_args {
    double lr, momentum, dampening, weight_decay;
    bool nesterov, maximize;
    bool first_step;   /* momentum buffer is initialised to the (decayed) gradient */
} mt_sgd_args;

typedef struct mt_adam_args {
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled;
    /* resolved from the step number by the op layer */
    double step_size;     /* lr / (1 - beta1**step) */
    double bc2_sqrt;      /* (1 - beta2**step) ** 0.5 */
} mt_adam_args;

typedef struct mt_rmsprop_args {
    double lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} mt_rmsprop_args;

typedef struct mt_adagrad_args {
    double lr, lr_decay, weight_decay, eps;
    bool maximize;
    double clr;           /* lr / (1 + (step - 1) * lr_decay), resolved by the op layer */
} mt_adagrad_args;

/* ---- the per-device kernel table ----
 * Kernel contract: every tensor is contiguous, on the device, of the same floating dtype and the
 * same number of elements n; optional ones are NULL when the option is off. No version bumps
 * (the op layer does them). */
typedef struct mt_optim_backend {
    int (*sgd)(const mt_sgd_args *a, int64_t n, mt_tensor *param, const mt_tensor *grad, mt_tensor *momentum_buf);
    int (*adam)(const mt_adam_args *a, int64_t n, mt_tensor *param, const mt_tensor *grad, mt_tensor *exp_avg,
                mt_tensor *exp_avg_sq, mt_tensor *max_exp_avg_sq);
    int (*rmsprop)(const mt_rmsprop_args *a, int64_t n, mt_tensor *param, const mt_tensor *grad,
                   mt_tensor *square_avg, mt_tensor *grad_avg, mt_tensor *momentum_buf);
    int (*adagrad)(const mt_adagrad_args *a, int64_t n, mt_tensor *param, const mt_tensor *grad, mt_tensor *state_sum);
} mt_optim_backend;

/* Indexed by mt_device_type; [MT_CPU] is filled statically, a CUDA port fills [MT_CUDA]. */
extern const mt_optim_backend *mt_optim_backends[MT_NUM_DEVICE_TYPES];

/* ---- the ops ---- */

/* SGD. momentum_buf: NULL when momentum == 0, else a buffer shaped like param; with first_step its
 * old contents are ignored and it is set to the gradient (after weight decay / maximize). */
int mt_sgd_step(mt_tensor *param, mt_tensor *grad, mt_tensor *momentum_buf, double lr, double momentum,
                double dampening, bool nesterov, double weight_decay, bool maximize, bool first_step);

/* Adam / AdamW (decoupled = true). step: the step number AFTER this step's increment (1 on the first
 * call). max_exp_avg_sq: required when amsgrad, ignored otherwise. */
int mt_adam_step(mt_tensor *param, mt_tensor *grad, mt_tensor *exp_avg, mt_tensor *exp_avg_sq,
                 mt_tensor *max_exp_avg_sq, double step, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool amsgrad, bool maximize, bool decoupled);

/* RMSprop. grad_avg: required when centered; momentum_buf: required when momentum > 0. */
int mt_rmsprop_step(mt_tensor *param, mt_tensor *grad, mt_tensor *square_avg, mt_tensor *grad_avg,
                    mt_tensor *momentum_buf, double lr, double alpha, double eps, double weight_decay,
                    double momentum, bool centered, bool maximize);

/* Adagrad. step: the step number after this step's increment. (initial_accumulator_value only
 * matters when the state sum is created, which the Python layer does with full_like.) */
int mt_adagrad_step(mt_tensor *param, mt_tensor *grad, mt_tensor *state_sum, double step, double lr,
                    double lr_decay, double weight_decay, double eps, bool maximize);

/* Adds 1 to a one-element CPU step tensor (float or integer dtype) in place, bumps its version and
 * stores the new value in *out. */
int mt_optim_step_inc(mt_tensor *step, double *out);

#endif
