// CKernels: vectorised inner loops for the Kernels module (weight-streaming matmul, widening,
// element-wise ops). Each entry point takes an explicit instruction-set level so Swift can pick the
// best one the CPU supports at run time (ck_detect_isa) and tests can exercise every level.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, best last. AVX512 = F+BW+VL+DQ with FMA/F16C; AVX2 = AVX2+FMA+F16C.
enum { CK_ISA_SCALAR = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };
/// Weight element types; q8_0 = GGUF blocks of 32 along a row: f16 scale then 32 x int8.
enum { CK_W_F32 = 0, CK_W_F16 = 1, CK_W_BF16 = 2, CK_W_Q8_0 = 3 };

/// The best level this CPU (and OS) supports.
int ck_detect_isa(void);

/// Floats per prepared activation row: columns rounded up to a multiple of 32, plus 16.
size_t ck_activation_stride(size_t columns);

/// Copies activations x[n, columns] (row stride ldx) into xp[n, ck_activation_stride(columns)] in the
/// layout the matmul kernels read for `wtype`: zero padding and, for bf16, each
/// block of 32 split into its 16 even then 16 odd elements (the bf16 kernels widen weights in
/// even/odd halves with one shift or mask each).
void ck_prepare_activations(int isa, int wtype, const float *x, size_t ldx, size_t n, size_t columns, float *xp);

/// y[t*ldy + r] (+)= sum_k W[r, k] * x[t, k] for rows r in [row_begin, row_end) and tokens t < n.
/// w points at row 0 of W (rows stored contiguously, ck_row_bytes each); xp is prepared by
/// ck_prepare_activations (row stride ck_activation_stride(columns)). Each weight row is read once from
/// memory for all n tokens (per block of rows, tokens are processed in register tiles).
void ck_matmul_rows(int isa, int wtype, const void *w, size_t columns, size_t row_begin, size_t row_end,
                    const float *xp, size_t n, float *y, size_t ldy, int accumulate);

// bf16 weights x bf16-rounded activations (AVX512-BF16 `vdpbf16ps`); see matmul_bf16dot.c.
/// Whether this CPU has AVX512-BF16 (and the AVX-512 level above).
int ck_has_bf16_dot(void);
/// bf16 elements per prepared activation row: columns rounded up to a multiple of 32, plus 32.
size_t ck_bf16_activation_stride(size_t columns);
/// xp[t * stride + k] = bf16(x[t * ldx + k]) (round to nearest even), zero-padded to the stride.
void ck_prepare_activations_bf16(const float *x, size_t ldx, size_t n, size_t columns, uint16_t *xp);
/// As ck_matmul_rows for bf16 weights, with activations prepared by ck_prepare_activations_bf16.
/// Only call when ck_has_bf16_dot().
void ck_matmul_rows_bf16dot(const uint16_t *w, size_t columns, size_t row_begin, size_t row_end,
                            const uint16_t *xp, size_t n, float *y, size_t ldy, int accumulate);

/// out[(r - row_begin) * ldo + k] = W[r, k] as f32 for rows [row_begin, row_end).
void ck_widen_rows(int isa, int wtype, const void *w, size_t columns, size_t row_begin, size_t row_end,
                   float *out, size_t ldo);

// Element-wise operations (all f32).
float ck_dot(int isa, const float *a, const float *b, size_t n);
void ck_axpy(int isa, float alpha, const float *x, float *y, size_t n);         // y += alpha * x
void ck_add(int isa, const float *a, const float *b, float *out, size_t n);      // out = a + b
void ck_scale(int isa, float alpha, float *x, size_t n);                         // x *= alpha
void ck_rmsnorm(int isa, const float *x, const float *weight, float eps, size_t n, float *out);
void ck_silu_gate(float *gate, const float *up, size_t n);                       // gate = silu(gate) * up
void ck_softmax(float *x, size_t n);
size_t ck_argmax(const float *x, size_t n);

// Attention over one head's rows in a cache block (keys/values contiguous, head_dim floats each).
/// scores[s] = scale * dot(q, keys[s]) for s < count.
void ck_attention_scores(const float *q, const float *keys, size_t count, size_t head_dim, float scale, float *scores);
/// out += sum over s < count of p[s] * values[s].
void ck_attention_accumulate(const float *p, const float *values, size_t count, size_t head_dim, float *out);
/// Asks for `bytes` bytes at `p` ahead of use: into L1 (`near` != 0) or L2. A cache block's rows sit
/// at an address the hardware prefetchers cannot guess (the block table is in any order).
void ck_prefetch(const void *p, size_t bytes, int near);

// Benchmark helpers: run on one thread each; Swift runs them on every pool thread at once.
/// Sums `bytes` bytes of `data` with vector loads (reads each cache line once); returns a checksum.
double ck_read_stream(int isa, const void *data, size_t bytes);
/// Runs `iterations` x 16 independent register-resident FMA chains; returns the flops done.
double ck_fma_loop(int isa, size_t iterations);
/// A spin-wait hint (x86 PAUSE).
void ck_cpu_relax(void);

#ifdef __cplusplus
}
#endif
