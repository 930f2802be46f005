// Portable fallback: one row x one token at a time; correct everywhere, fast nowhere.
#include "common.h"

/// Weight k of a stored row as f32.
CK_INLINE float weight_at(int wtype, const uint8_t *row, size_t k) {
    switch (wtype) {
    case CK_W_F32: { float v; memcpy(&v, row + 4 * k, 4); return v; }
    case CK_W_F16: return ck_f16_to_f32(ck_load_u16(row + 2 * k));
    case CK_W_BF16: return ck_bf16_to_f32(ck_load_u16(row + 2 * k));
    default: {
        const uint8_t *block = row + (k / 32) * CK_Q8_BLOCK;
        return ck_f16_to_f32(ck_load_u16(block)) * (float)(int8_t)block[2 + k % 32];
    }
    }
}

/// Where column k sits in a prepared activation row (bf16: even/odd split within blocks of 32).
CK_INLINE size_t activation_index(int wtype, size_t k) {
    if (wtype != CK_W_BF16) return k;
    size_t j = k % 32;
    return (k - j) + (j & 1) * 16 + j / 2;
}

void ck_matmul_rows_scalar(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                           const float *xp, size_t n, float *y, size_t ldy, int accumulate) {
    size_t row_bytes = ck_row_bytes(wtype, columns), ldx = ck_activation_stride(columns);
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *row = w + r * row_bytes;
        for (size_t t = 0; t < n; t++) {
            const float *x = xp + t * ldx;
            float sum = 0;
            for (size_t k = 0; k < columns; k++) sum += weight_at(wtype, row, k) * x[activation_index(wtype, k)];
            y[t * ldy + r] = accumulate ? y[t * ldy + r] + sum : sum;
        }
    }
}

void ck_widen_rows_scalar(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                          float *out, size_t ldo) {
    size_t row_bytes = ck_row_bytes(wtype, columns);
    for (size_t r = row_begin; r < row_end; r++) {
        const uint8_t *row = w + r * row_bytes;
        float *dst = out + (r - row_begin) * ldo;
        if (wtype == CK_W_F32) { memcpy(dst, row, columns * 4); continue; }
        for (size_t k = 0; k < columns; k++) dst[k] = weight_at(wtype, row, k);
    }
}
