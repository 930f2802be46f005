// Shared helpers of the CKernels implementation files (not part of the public header).
#pragma once
#include "ckernels.h"
#include <string.h>

#define CK_INLINE static inline __attribute__((always_inline))
#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))

/// Bytes per q8_0 block: f16 scale + 32 int8.
#define CK_Q8_BLOCK 34

/// Bytes of one stored row of `columns` elements of type `wtype` (q8_0: columns % 32 == 0). Inline, so
/// a kernel's block size (`ck_row_bytes(wtype, 32)`) is a constant in each tile's loop.
CK_INLINE size_t ck_row_bytes(int wtype, size_t columns) {
    switch (wtype) {
    case CK_W_F32: return columns * 4;
    case CK_W_F16: case CK_W_BF16: return columns * 2;
    default: return columns / 32 * CK_Q8_BLOCK;
    }
}

/// Rows per cache block: the kernels sweep all token tiles over this many rows before moving on, so
/// after the first token tile the rows come from L2 instead of memory (~256 KB of weights).
CK_INLINE size_t ck_rows_per_block(size_t row_bytes, size_t multiple) {
    size_t rows = (256 * 1024) / (row_bytes ? row_bytes : 1);
    rows -= rows % multiple;
    return rows < multiple ? multiple : rows;
}

CK_INLINE float ck_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) { bits = sign; }
        else {  // subnormal: normalise
            int e = -1;
            do { man <<= 1; e++; } while ((man & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000 | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f; memcpy(&f, &bits, 4); return f;
}

CK_INLINE float ck_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16; float f; memcpy(&f, &bits, 4); return f;
}

CK_INLINE uint16_t ck_load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

// Per-level implementations (defined in matmul_*.c / ops.c).
void ck_matmul_rows_avx512(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                           const float *xp, size_t n, float *y, size_t ldy, int accumulate);
void ck_matmul_rows_avx2(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                         const float *xp, size_t n, float *y, size_t ldy, int accumulate);
void ck_matmul_rows_scalar(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                           const float *xp, size_t n, float *y, size_t ldy, int accumulate);
void ck_split_blocks_avx512(const float *src, float *dst, size_t blocks);
void ck_widen_rows_avx512(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                          float *out, size_t ldo);
void ck_widen_rows_scalar(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                          float *out, size_t ldo);
