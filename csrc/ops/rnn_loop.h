/* The state of one LSTM layer's time loop, shared by the op layer (ops/rnn.c) and the CPU time
 * loops (ops/rnn_cpu.c). Pointers are device memory of the layer's dtype; row b of step t of a
 * (T, B, W) buffer is at ((t * B) + b) * W elements. Private to the LSTM sources. */
#ifndef MT_RNN_LOOP_H
#define MT_RNN_LOOP_H

#include "../core/backend.h"
#include "rnn.h"

typedef struct mt_lstm_loop {
    mt_backend *be;
    const mt_rnn_backend *rb;
    mt_dtype dtype;
    size_t es;
    int64_t T, B, I, H;
    bool reverse;
    const char *x;     /* (T, B, I) */
    const char *w_ih;  /* (4H, I) */
    /* forward */
    char *gates;       /* (T, B, 4H): activations out (the generic loop first puts x @ w_ih^T there; the
                        * AVX-512 loop writes them only with keep_c) */
    char *cbuf;        /* (T, B, H) with grad, else (2, B, H) ping-pong */
    bool keep_c;       /* the backward will run: keep every step's c and gate activations */
    char *out;         /* (T, B, H) */
    const char *h0;    /* (B, H) or NULL (zeros) */
    const char *c0;    /* (B, H): c0 or zeros */
    const char *bias;  /* (4H) */
    const char *w_hh;  /* (4H, H) */
    /* backward */
    const char *dout;  /* (T, B, H) or NULL; contiguous for the generic loops */
    int64_t dout_st[2]; /* its strides (elements) over T and B; along H it is contiguous */
    const char *zeros; /* (B, H) zeros, for dout == NULL */
    char *dg;          /* (T, B, 4H) dgates (the generic loops) */
    char *dh;          /* (B, H): dh_n in, recurrent gradient; dh0 out */
    char *dc;          /* (B, H): dc_n in, dc0 out */
    bool need_dh0;
    /* the CPU loops only */
    char *dx;          /* (T, B, I) or NULL */
    char *dw_ih;       /* (4H, I) zeros, or NULL */
    char *dw_hh;       /* (4H, H) zeros, or NULL */
    double *db;        /* (4H) zeros, or NULL */
} mt_lstm_loop;

/* The float32 CPU time loops with their own blocked AVX-512 GEMMs (ops/rnn_cpu.c), used when
 * mt_lstm_cpu_loops_apply says so: float32 CPU tensors, a CPU with AVX-512, and enough steps x batch
 * rows to pay for packing the weights (mt_lstm_cpu_loops_mode: 0 never, 1 that rule, 2 whenever the
 * CPU can; tests set 0 and 2 to check both loops on small shapes). The forward one
 * computes the input projection itself; the backward one, with scratch of its own (R->dg unused),
 * also writes dx, dw_ih, dw_hh and db (the bias gradient, summed in double) where not NULL. */
int mt_lstm_cpu_loops_apply(mt_device_type dev, mt_dtype dt, int64_t T, int64_t B);
int mt_lstm_cpu_forward_loop(const mt_lstm_loop *R);  /* 0, or -1 (out of memory) */
int mt_lstm_cpu_backward_loop(const mt_lstm_loop *R); /* 0, or -1 (out of memory) */
extern int mt_lstm_cpu_loops_mode;

#endif
