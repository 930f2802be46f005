// Run-time selection of the instruction-set level and the entry points that route to it.
#include "common.h"

int ck_detect_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return CK_ISA_AVX2;
#endif
    return CK_ISA_SCALAR;
}

size_t ck_activation_stride(size_t columns) {
    // Rounded up to whole blocks of 32, plus one cache line so the rows of consecutive tokens do not
    // all fall into the same L1 set (8 tokens x 8 KB strides would thrash an 8-way cache).
    return ((columns + 31) & ~(size_t)31) + 16;
}

/// Even/odd split of one full block of 32 activations.
static void split_block_scalar(const float *src, float *dst) {
    for (size_t j = 0; j < 16; j++) {
        dst[j] = src[2 * j];
        dst[16 + j] = src[2 * j + 1];
    }
}

void ck_prepare_activations(int isa, int wtype, const float *x, size_t ldx, size_t n, size_t columns, float *xp) {
    size_t stride = ck_activation_stride(columns), full = columns / 32 * 32;
    for (size_t t = 0; t < n; t++) {
        const float *src = x + t * ldx;
        float *dst = xp + t * stride;
        if (wtype != CK_W_BF16) {
            memcpy(dst, src, columns * sizeof(float));
            for (size_t k = columns; k < stride; k++) dst[k] = 0;
            continue;
        }
#if defined(__x86_64__)
        if (isa == CK_ISA_AVX512) ck_split_blocks_avx512(src, dst, full / 32);
        else
#endif
            for (size_t b = 0; b < full; b += 32) split_block_scalar(src + b, dst + b);
        if (full < columns) {  // zero-padded tail block
            float tail[32] = {0};
            memcpy(tail, src + full, (columns - full) * sizeof(float));
            split_block_scalar(tail, dst + full);
        }
        for (size_t k = (columns + 31) / 32 * 32; k < stride; k++) dst[k] = 0;
    }
}

void ck_matmul_rows(int isa, int wtype, const void *w, size_t columns, size_t row_begin, size_t row_end,
                    const float *xp, size_t n, float *y, size_t ldy, int accumulate) {
    if (row_begin >= row_end || n == 0) return;
    switch (isa) {
#if defined(__x86_64__)
    case CK_ISA_AVX512:
        ck_matmul_rows_avx512(wtype, w, columns, row_begin, row_end, xp, n, y, ldy, accumulate); return;
    case CK_ISA_AVX2:
        ck_matmul_rows_avx2(wtype, w, columns, row_begin, row_end, xp, n, y, ldy, accumulate); return;
#endif
    default:
        ck_matmul_rows_scalar(wtype, w, columns, row_begin, row_end, xp, n, y, ldy, accumulate); return;
    }
}

void ck_widen_rows(int isa, int wtype, const void *w, size_t columns, size_t row_begin, size_t row_end,
                   float *out, size_t ldo) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) { ck_widen_rows_avx512(wtype, w, columns, row_begin, row_end, out, ldo); return; }
#endif
    ck_widen_rows_scalar(wtype, w, columns, row_begin, row_end, out, ldo);
}

void ck_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
