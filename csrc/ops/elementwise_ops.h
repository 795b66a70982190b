/* The elementwise op declarations: one row per op. Everything else about an elementwise op
 * comes from its row: the op enum (ops.h), its dtype rules and autograd node (elementwise.c),
 * the CPU kernel-table slot (elementwise_cpu.c: a missing loop is an undeclared identifier),
 * the CUDA functor branch (cuda/unary.cu, cuda/binary.cu: a missing branch is a static_assert),
 * the Tensor methods and minitorch.* functions (python/methods.c, minitorch/__init__.py) and the
 * manifest minitorch._C._ops that tests/test_op_table.py enumerates. How to add an op:
 * csrc/ops/README.md.
 *
 * Columns of a unary row  U(ID, name, KIND, SAVES, VARIANTS, node, derivative):
 *   KIND      dtype rule, MT_K_* below
 *   SAVES     what the derivative reads as `x`: NONE, IN (the input) or OUT (the output)
 *   VARIANTS  F function minitorch.name, M method, I in-place method name_, C the Python binding
 *             is written by hand (extra arguments); combinations below as MT_V_FMI etc.
 *   node      PyTorch's grad_fn name; NULL: not differentiable (no node is recorded)
 *   derivative  grad of the input, written with the ops of elementwise.c's small DSL, in terms
 *             of g (the incoming gradient), x (per SAVES) and prm[] (the op's parameters);
 *             NOT_IMPL: backward raises "the derivative for 'name' is not implemented".
 * Columns of a binary row  B(ID, name, KIND, DA_USES, DB_USES, VARIANTS, node, node_scalar,
 *                            node_scalar_first, da, db):
 *   DA_USES / DB_USES  which of a, b and the output y the derivative for a (b) reads, as
 *             U_A | U_B | U_Y (U_0: none); only those are saved, and only when that side
 *             requires grad
 *   VARIANTS  as above, plus S: `other` may be a Python number (else a TypeError, as torch)
 *   node, node_scalar, node_scalar_first  grad_fn names for tensor-tensor, tensor-scalar and
 *             scalar-tensor (reflected operators such as 2 - x); a scalar operand is a 0-d
 *             tensor inside the derivative
 *   da, db    grads of a and b, in terms of g, a, b, y. */
#ifndef MT_ELEMENTWISE_OPS_H
#define MT_ELEMENTWISE_OPS_H

/* dtype rules */
enum {
    MT_K_FLOAT,     /* integer and bool inputs compute in float32 (the default dtype) */
    MT_K_FLOATONLY, /* float dtypes only: others raise NotImplementedError */
    MT_K_SAME,      /* numeric dtypes, output of the input dtype; bool raises */
    MT_K_SAMEB,     /* as SAME, bool computes in int64 (square, as torch's pow(x, 2)) */
    MT_K_ROUND,     /* float compute; the identity on integers; bool raises */
    MT_K_IDINT,     /* float compute; the identity on integers and bool (nan_to_num) */
    MT_K_SIGN,      /* numeric compute; the identity on bool */
    MT_K_PRED,      /* any dtype in, bool out */
    MT_K_INTEGER,   /* integer and bool dtypes only (bitwise ops) */
    MT_K_INTONLY,   /* integer dtypes only (shifts) */
    MT_K_ARITH,     /* binary: the promoted dtype, bool included */
    MT_K_SAMEDT,    /* binary: both operands of one dtype (heaviside) */
    MT_NUM_KINDS
};
#define MT_K_NAMES {"float", "floatonly", "same", "sameb", "round", "idint", "sign", "pred", "integer", \
                    "intonly", "arith", "samedtype"}

/* variants */
enum { MT_V_F = 1, MT_V_M = 2, MT_V_I = 4, MT_V_S = 8, MT_V_C = 16 };
#define MT_V_FM (MT_V_F | MT_V_M)
#define MT_V_FMI (MT_V_F | MT_V_M | MT_V_I)
#define MT_V_FMIS (MT_V_F | MT_V_M | MT_V_I | MT_V_S)
#define MT_V_FMS (MT_V_F | MT_V_M | MT_V_S)
#define MT_V_FMIC (MT_V_F | MT_V_M | MT_V_I | MT_V_C)
#define MT_V_FMISC (MT_V_F | MT_V_M | MT_V_I | MT_V_S | MT_V_C)
#define MT_V_MIC (MT_V_M | MT_V_I | MT_V_C)
#define MT_V_NONE 0

/* saves / uses */
enum { MT_S_NONE, MT_S_IN, MT_S_OUT };
enum { U_0 = 0, U_A = 1, U_B = 2, U_Y = 4 };

#define MT_UNARY_OPS(U)                                                                                          \
    U(NEG, neg, SAME, NONE, FMI, "NegBackward0", NEG(g))                                                         \
    U(ABS, abs, SAME, IN, FMI, "AbsBackward0", MUL(g, U_(SIGN, x)))                                              \
    U(EXP, exp, FLOAT, OUT, FMI, "ExpBackward0", MUL(g, x))                                                      \
    U(LOG, log, FLOAT, IN, FMI, "LogBackward0", DIV(g, x))                                                       \
    U(LOG1P, log1p, FLOAT, IN, FMI, "Log1PBackward0", DIV(g, ADDS(x, 1.0)))                                      \
    U(EXPM1, expm1, FLOAT, OUT, FMI, "Expm1Backward0", MUL(g, ADDS(x, 1.0)))                                     \
    U(SQRT, sqrt, FLOAT, OUT, FMI, "SqrtBackward0", DIV(g, MULS(x, 2.0)))                                        \
    U(RSQRT, rsqrt, FLOAT, OUT, FMI, "RsqrtBackward0", MUL(g, MULS(MUL(x, MUL(x, x)), -0.5)))                    \
    U(SIN, sin, FLOAT, IN, FMI, "SinBackward0", MUL(g, U_(COS, x)))                                              \
    U(COS, cos, FLOAT, IN, FMI, "CosBackward0", MUL(g, NEG(U_(SIN, x))))                                         \
    U(TANH, tanh, FLOAT, OUT, FMI, "TanhBackward0", MUL(g, RSUBS(1.0, MUL(x, x))))                               \
    U(SIGMOID, sigmoid, FLOAT, OUT, FMI, "SigmoidBackward0", MUL(g, MUL(x, RSUBS(1.0, x))))                      \
    U(RELU, relu, SAME, OUT, FMI, "ReluBackward0", MUL(g, BS_(GT, x, 0.0)))                                      \
    U(SIGN, sign, SIGN, NONE, FMI, "SignBackward0", ZEROS)                                                       \
    U(FLOOR, floor, ROUND, NONE, FMI, "FloorBackward0", ZEROS)                                                   \
    U(CEIL, ceil, ROUND, NONE, FMI, "CeilBackward0", ZEROS)                                                      \
    U(ROUND, round, ROUND, NONE, FMI, "RoundBackward0", ZEROS)                                                   \
    U(TRUNC, trunc, ROUND, NONE, FMI, "TruncBackward0", ZEROS)                                                   \
    U(RECIPROCAL, reciprocal, FLOAT, OUT, FMI, "ReciprocalBackward0", MUL(g, NEG(MUL(x, x))))                    \
    U(LOGICAL_NOT, logical_not, PRED, NONE, FMI, NULL, NOT_IMPL)                                                 \
    U(ISNAN, isnan, PRED, NONE, FM, NULL, NOT_IMPL)                                                              \
    U(ISINF, isinf, PRED, NONE, FM, NULL, NOT_IMPL)                                                              \
    U(ISFINITE, isfinite, PRED, NONE, FM, NULL, NOT_IMPL)                                                        \
    /* prm: {has_lo, lo, has_hi, hi}; the gradient passes where lo <= x <= hi */                                 \
    U(CLAMP, clamp, SAME, IN, FMIC, "ClampBackward1", MUL(g, clamp_mask(x, prm)))                               \
    U(ERF, erf, FLOAT, IN, FMI, "ErfBackward0", MUL(g, MULS(U_(EXP, NEG(MUL(x, x))), 1.1283791670955126)))       \
    U(TAN, tan, FLOAT, OUT, FMI, "TanBackward0", MUL(g, ADDS(MUL(x, x), 1.0)))                                   \
    U(ATAN, atan, FLOAT, IN, FMI, "AtanBackward0", DIV(g, ADDS(MUL(x, x), 1.0)))                                 \
    U(ASIN, asin, FLOAT, IN, FMI, "AsinBackward0", MUL(g, U_(RSQRT, RSUBS(1.0, MUL(x, x)))))                     \
    U(ACOS, acos, FLOAT, IN, FMI, "AcosBackward0", NEG(MUL(g, U_(RSQRT, RSUBS(1.0, MUL(x, x))))))                \
    U(SINH, sinh, FLOAT, IN, FMI, "SinhBackward0", MUL(g, U_(COSH, x)))                                          \
    U(COSH, cosh, FLOAT, IN, FMI, "CoshBackward0", MUL(g, U_(SINH, x)))                                          \
    U(ASINH, asinh, FLOAT, IN, FMI, "AsinhBackward0", MUL(g, U_(RSQRT, ADDS(MUL(x, x), 1.0))))                   \
    U(ACOSH, acosh, FLOAT, IN, FMI, "AcoshBackward0", MUL(g, U_(RSQRT, ADDS(MUL(x, x), -1.0))))                  \
    U(ATANH, atanh, FLOAT, IN, FMI, "AtanhBackward0", DIV(g, RSUBS(1.0, MUL(x, x))))                             \
    U(LOG2, log2, FLOAT, IN, FMI, "Log2Backward0", DIV(g, MULS(x, 0.6931471805599453)))                          \
    U(LOG10, log10, FLOAT, IN, FMI, "Log10Backward0", DIV(g, MULS(x, 2.302585092994046)))                        \
    U(EXP2, exp2, FLOAT, OUT, FMI, "Exp2Backward0", MUL(g, MULS(x, 0.6931471805599453)))                         \
    U(SGN, sgn, SIGN, NONE, FMI, "SgnBackward0", ZEROS)                                                          \
    U(FRAC, frac, FLOATONLY, NONE, FMI, "FracBackward0", IDENT)                                                  \
    U(SQUARE, square, SAMEB, IN, FMI, "PowBackward0", MUL(g, MULS(x, 2.0)))                                      \
    U(ERFINV, erfinv, FLOAT, OUT, FMI, "ErfinvBackward0", MUL(g, MULS(U_(EXP, MUL(x, x)), 0.886226925452758)))   \
    U(ERFC, erfc, FLOAT, IN, FMI, "ErfcBackward0", MUL(g, MULS(U_(EXP, NEG(MUL(x, x))), -1.1283791670955126)))   \
    U(LGAMMA, lgamma, FLOAT, IN, FMI, "LgammaBackward0", MUL(g, U_(DIGAMMA, x)))                                 \
    U(DIGAMMA, digamma, FLOAT, IN, FMI, "DigammaBackward0", MUL(g, U_(TRIGAMMA, x)))                             \
    /* polygamma(1, x); its own derivative (polygamma(2, x)) is not written yet */                               \
    U(TRIGAMMA, _trigamma, FLOAT, IN, M, "PolygammaBackward0", NOT_IMPL)                                      \
    U(SINC, sinc, FLOAT, IN, FMI, "SincBackward0", MUL(g, sinc_grad(x)))                                         \
    /* prm: {has_eps, eps}; with eps the input is clamped to [eps, 1 - eps] */                                   \
    U(LOGIT, logit, FLOAT, IN, FMIC, "LogitBackward0", logit_grad(g, x, prm))                                    \
    /* prm: {nan, posinf, neginf}, already resolved to the dtype's limits */                                     \
    U(NAN_TO_NUM, nan_to_num, IDINT, IN, FMIC, "NanToNumBackward0", MUL(g, U_(ISFINITE, x)))                     \
    U(BITWISE_NOT, bitwise_not, INTEGER, NONE, FMI, NULL, NOT_IMPL)                                              \
    /* F.gelu (approximate='none'), x Phi(x), in one pass: its derivative Phi(x) + x phi(x) is _gelu_grad, whose   \
       own is phi(x) (2 - x^2), so double backward is recorded too */                                            \
    U(GELU, _gelu, FLOATONLY, IN, M, "GeluBackward0", MUL(g, U_(GELU_GRAD, x)))                                  \
    U(GELU_GRAD, _gelu_grad, FLOATONLY, IN, M, "GeluBackwardBackward0",                                          \
      MUL(g, MUL(MULS(U_(EXP, MULS(MUL(x, x), -0.5)), 0.3989422804014327), RSUBS(2.0, MUL(x, x)))))            \
    MT_ACTIVATION_OPS(U)

/* The nn.functional activations, one kernel each (minitorch/nn/_functional_*.py call them; their Python
 * bindings in python/methods.c take the parameters positionally, defaulting as torch's functionals). Their
 * formulas, kinks and NaN handling are ATen's (native/cpu/Activation.cpp, derivatives.yaml); the derivatives
 * are helpers of elementwise.c written with recorded ops, so double backward works. */
#define MT_ACTIVATION_OPS(U)                                                                                     \
    /* prm: {negative_slope} */                                                                                  \
    U(LEAKY_RELU, _leaky_relu, FLOATONLY, IN, MIC, "LeakyReluBackward0", leaky_relu_grad(g, x, prm))             \
    /* prm: {alpha, scale, input_scale, the backward's input_scale}; selu is elu with its constants */           \
    U(ELU, _elu, FLOATONLY, IN, MIC, "EluBackward0", elu_grad(g, x, prm))                                        \
    /* elu(x, alpha, 1, 1 / alpha), whose backward takes input_scale = 1 / float(alpha), as torch's */           \
    U(CELU, _celu, FLOATONLY, IN, MIC, "CeluBackward0", elu_grad(g, x, prm))                                     \
    U(SILU, _silu, FLOATONLY, IN, MIC, "SiluBackward0", silu_grad(g, x))                                         \
    U(MISH, _mish, FLOATONLY, IN, MIC, "MishBackward0", mish_grad(g, x))                                         \
    /* prm: {beta, threshold} */                                                                                 \
    U(SOFTPLUS, _softplus, FLOATONLY, IN, MIC, "SoftplusBackward0", softplus_grad(g, x, prm))                    \
    /* prm: {min_val, max_val}, truncated on integer tensors (torch clamps them); bool raises as torch */        \
    U(HARDTANH, _hardtanh, SAME, IN, MIC, "HardtanhBackward0", hardtanh_grad(g, x, prm))                         \
    U(HARDSWISH, _hardswish, FLOATONLY, IN, MIC, "HardswishBackward0", hardswish_grad(g, x))                     \
    U(HARDSIGMOID, _hardsigmoid, FLOATONLY, IN, MIC, "HardsigmoidBackward0", hardsigmoid_grad(g, x))             \
    U(LOG_SIGMOID, _log_sigmoid, FLOATONLY, IN, MIC, "LogSigmoidBackward0", MUL(g, U_(SIGMOID, NEG(x))))         \
    /* prm: {lambd} */                                                                                           \
    U(SOFTSHRINK, _softshrink, FLOATONLY, IN, MIC, "SoftshrinkBackward0", shrink_grad(g, x, prm))                \
    U(HARDSHRINK, _hardshrink, FLOATONLY, IN, MIC, "HardshrinkBackward0", shrink_grad(g, x, prm))                \
    /* prm: {threshold, value}, cast to the tensor's dtype as torch's (an integer tensor truncates them) */      \
    U(THRESHOLD, _threshold, SAME, IN, MIC, "ThresholdBackward0", threshold_grad(g, x, prm))

/* In-place forms with a node of their own in torch (leaky_relu_, elu_, celu_ read the result; threshold_ the
 * input, as the out-of-place node): R(ID, node, SAVES, derivative), `x` being what SAVES names. */
#define MT_UNARY_RESULT_NODES(R)                                                                                 \
    R(LEAKY_RELU, "LeakyReluBackward1", OUT, leaky_relu_result_grad(g, x, prm))                                  \
    R(ELU, "EluBackward1", OUT, elu_result_grad(g, x, prm))                                                      \
    R(CELU, "CeluBackward1", OUT, elu_result_grad(g, x, prm))                                                    \
    R(THRESHOLD, "ThresholdBackward1", IN, threshold_grad(g, x, prm))

#define MT_BINARY_OPS(B)                                                                                         \
    B(ADD, add, ARITH, U_0, U_0, FMISC, "AddBackward0", "AddBackward0", "AddBackward0", IDENT, IDENT)            \
    B(SUB, sub, ARITH, U_0, U_0, FMISC, "SubBackward0", "SubBackward0", "RsubBackward1", IDENT, NEG(g))          \
    B(MUL, mul, ARITH, U_B, U_A, FMIS, "MulBackward0", "MulBackward0", "MulBackward0", MUL(g, b), MUL(g, a))     \
    /* s / x is x.reciprocal() * s in torch, hence MulBackward0; b's gradient in torch's order, -g * ((a / b) / b) \
       (g * a first overflowed float16 where torch's does not) */                                                \
    B(DIV, div, FLOAT, U_B, U_A | U_B, FMISC, "DivBackward0", "DivBackward0", "MulBackward0", DIV(g, b),         \
      NEG(MUL(g, DIV(DIV(a, b), b))))                                                                            \
    B(FLOOR_DIVIDE, floor_divide, ARITH, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                   \
    B(REMAINDER, remainder, ARITH, U_0, U_A | U_B, FMIS, "RemainderBackward1", "RemainderBackward0",             \
      "RemainderBackward0", IDENT, MUL(g, NEG(B_(FLOOR_DIVIDE, a, b))))                                          \
    B(POW, pow, ARITH, U_A | U_B, U_A | U_B | U_Y, FMIS, "PowBackward1", "PowBackward0", "PowBackward2",               \
      pow_grad_base(g, a, b), pow_grad_exponent(g, a, b, y))                                                     \
    /* ties split the gradient in half, as PyTorch does */                                                       \
    B(MAXIMUM, maximum, ARITH, U_A | U_B, U_A | U_B, FM, "MaximumBackward0", NULL, NULL,                         \
      MUL(g, maxmin_weight(a, b, MT_B_GT)), MUL(g, RSUBS(1.0, maxmin_weight(a, b, MT_B_GT))))                    \
    B(MINIMUM, minimum, ARITH, U_A | U_B, U_A | U_B, FM, "MinimumBackward0", NULL, NULL,                         \
      MUL(g, maxmin_weight(a, b, MT_B_LT)), MUL(g, RSUBS(1.0, maxmin_weight(a, b, MT_B_LT))))                    \
    B(EQ, eq, PRED, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                                        \
    B(NE, ne, PRED, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                                        \
    B(LT, lt, PRED, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                                        \
    B(LE, le, PRED, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                                        \
    B(GT, gt, PRED, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                                        \
    B(GE, ge, PRED, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                                        \
    B(LOGICAL_AND, logical_and, PRED, U_0, U_0, FMI, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                      \
    B(LOGICAL_OR, logical_or, PRED, U_0, U_0, FMI, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                        \
    B(LOGICAL_XOR, logical_xor, PRED, U_0, U_0, FMI, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                      \
    B(ATAN2, atan2, FLOAT, U_A | U_B, U_A | U_B, FMI, "Atan2Backward0", NULL, NULL,                              \
      MUL(g, DIV(b, ADD(MUL(a, a), MUL(b, b)))), NEG(MUL(g, DIV(a, ADD(MUL(a, a), MUL(b, b))))))                 \
    B(HYPOT, hypot, FLOATONLY, U_A | U_Y, U_B | U_Y, FMI, "HypotBackward0", NULL, NULL, MUL(g, DIV(a, y)),       \
      MUL(g, DIV(b, y)))                                                                                         \
    B(FMOD, fmod, ARITH, U_0, U_A | U_B, FMIS, "FmodBackward1", "FmodBackward0", NULL, IDENT,                    \
      NEG(MUL(g, U_(TRUNC, DIV(a, b)))))                                                                         \
    B(COPYSIGN, copysign, FLOAT, U_A | U_Y, U_0, FMIS, "CopysignBackward0", "CopysignBackward1", NULL,           \
      MUL(g, copysign_ratio(a, y)), ZEROS)                                                                       \
    B(LOGADDEXP, logaddexp, FLOATONLY, U_A | U_B, U_A | U_B, FM, "LogaddexpBackward0", NULL, NULL,               \
      DIV(g, ADDS(U_(EXP, SUB(b, a)), 1.0)), DIV(g, ADDS(U_(EXP, SUB(a, b)), 1.0)))                              \
    B(LOGADDEXP2, logaddexp2, FLOATONLY, U_A | U_B, U_A | U_B, FM, "Logaddexp2Backward0", NULL, NULL,            \
      DIV(g, ADDS(U_(EXP2, SUB(b, a)), 1.0)), DIV(g, ADDS(U_(EXP2, SUB(a, b)), 1.0)))                            \
    B(NEXTAFTER, nextafter, FLOATONLY, U_0, U_0, FMI, "NextafterBackward0", NULL, NULL, NOT_IMPL, NOT_IMPL)      \
    B(XLOGY, xlogy, FLOAT, U_A | U_B, U_A | U_B, FMIS, "XlogyBackward0", "XlogyBackward2", "XlogyBackward1",     \
      xlogy_grad_self(g, a, b), MUL(g, DIV(a, b)))                                                               \
    B(HEAVISIDE, heaviside, SAMEDT, U_0, U_0, FMI, "HeavisideBackward0", NULL, NULL, NOT_IMPL, NOT_IMPL)         \
    B(BITWISE_AND, bitwise_and, INTEGER, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                   \
    B(BITWISE_OR, bitwise_or, INTEGER, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                     \
    B(BITWISE_XOR, bitwise_xor, INTEGER, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                   \
    B(LSHIFT, bitwise_left_shift, INTONLY, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)                 \
    B(RSHIFT, bitwise_right_shift, INTONLY, U_0, U_0, FMIS, NULL, NULL, NULL, NOT_IMPL, NOT_IMPL)

#endif
