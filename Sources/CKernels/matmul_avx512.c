// AVX-512 weight-streaming matmul: register tiles of up to 4 rows x 4 tokens (16 zmm accumulators),
// so each widened weight vector feeds 4 FMAs and each activation vector 4 more. Weights are widened
// to f32 in registers (bf16: one shift or mask per 16 weights, thanks to the even/odd activation
// layout), never rounded the other way, so results equal f32 math on the widened weights.
#if defined(__x86_64__)
#include "common.h"
#include <immintrin.h>

/// Register tiles: 3 rows x up to 8 tokens; with at most 4 tokens, 4 rows (more rows streaming at
/// once: 4 tokens went from 1.35x to 1.0x the 1-token time). 2 x 8 tiles measured 40% slower.
enum { TILE_ROWS = 3, TILE_TOKENS = 8, TILE_ROWS_MAX = 4, SMALL_TOKENS = 4 };
#ifndef SMALL_TILE_ROWS
#define SMALL_TILE_ROWS 4
#endif
/// Software prefetch of the rows PREFETCH_TILES tiles ahead (into L2). Measured on Zen 4 with 4 KB
/// pages: 2 tiles ahead lifts the 1-token step from ~27 to ~33 GB/s and 8 tokens from 1.6x to 1.2x
/// of the roofline; 1 tile is too late, 3 too early.
#ifndef PREFETCH_TILES
#define PREFETCH_TILES 2
#endif
/// Plus a short-distance L1 prefetch within the tile's rows (a few percent at 4+ tokens).
#ifndef PREFETCH_L1_BLOCKS
#define PREFETCH_L1_BLOCKS 4
#endif

/// Widens half `h` (16 columns) of block b (32 columns) of a stored row into f32, pairing with
/// prepared activations [32b + 16h, 32b + 16h + 16). `mask` selects the valid columns of a tail block.
CK_INLINE CK_AVX512 __m512 load_half(int wtype, const uint8_t *row, size_t b, int h, int tail, __mmask32 mask) {
    switch (wtype) {
    case CK_W_F32: {
        const float *p = (const float *)row + 32 * b + 16 * h;
        return tail ? _mm512_maskz_loadu_ps((__mmask16)(mask >> (16 * h)), p) : _mm512_loadu_ps(p);
    }
    case CK_W_F16: {
        const uint16_t *p = (const uint16_t *)row + 32 * b + 16 * h;
        __m256i v = tail ? _mm256_maskz_loadu_epi16((__mmask16)(mask >> (16 * h)), p)
                         : _mm256_loadu_si256((const __m256i *)p);
        return _mm512_cvtph_ps(v);
    }
    case CK_W_BF16: {
        // Both halves come from the same 32 weights: even ones by a shift, odd ones by a mask.
        const uint16_t *p = (const uint16_t *)row + 32 * b;
        __m512i v = tail ? _mm512_maskz_loadu_epi16(mask, p) : _mm512_loadu_si512(p);
        return h == 0 ? _mm512_castsi512_ps(_mm512_slli_epi32(v, 16))
                      : _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32((int)0xFFFF0000u)));
    }
    default: {  // q8_0: columns are a multiple of 32, so there is never a tail
        const uint8_t *block = row + b * CK_Q8_BLOCK;
        __m512 d = _mm512_set1_ps(_cvtsh_ss(ck_load_u16(block)));
        __m128i q = _mm_loadu_si128((const __m128i *)(block + 2 + 16 * h));
        return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)));
    }
    }
}

/// Prefetches each cache line that starts within [p, p + bytes) (into L2 if `far`, else L1), so a
/// 34-byte q8_0 block issues a prefetch only every other block.
CK_INLINE CK_AVX512 void prefetch_lines(const char *p, size_t bytes, int far) {
    uintptr_t line = ((uintptr_t)p + 63) & ~(uintptr_t)63, end = (uintptr_t)p + bytes;
    for (; line < end; line += 64) {
        if (far) _mm_prefetch((const char *)line, _MM_HINT_T1);
        else _mm_prefetch((const char *)line, _MM_HINT_T0);
    }
}

#ifndef REDUCE8
#define REDUCE8 1
#endif
/// Horizontal sums of 8 vectors at once (a transpose-and-add tree: ~24 instructions instead of ~70).
CK_INLINE CK_AVX512 void reduce8(const __m512 a[8], float out[8]) {
    __m512 b[4], c[2];
    for (int i = 0; i < 4; i++)  // lanes 0-7: a[2i] halves summed, lanes 8-15: a[2i+1]
        b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44),
                             _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xEE));
    for (int i = 0; i < 2; i++)  // 128-bit block q holds 4 partial sums of a[4i + q]
        c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88),
                             _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xDD));
    __m512 s = _mm512_add_ps(_mm512_unpacklo_ps(c[0], c[1]), _mm512_unpackhi_ps(c[0], c[1]));
    s = _mm512_add_ps(s, _mm512_permute_ps(s, 0x4E));  // block q: lane 0 = a[q], lane 1 = a[4 + q]
    float lanes[16];
    _mm512_storeu_ps(lanes, s);
    for (int q = 0; q < 4; q++) {
        out[q] = lanes[4 * q];
        out[4 + q] = lanes[4 * q + 1];
    }
}

/// One R x T tile: y[t*ldy + r] (+)= row r of w · token t of xp, r < R, t < T
/// (3 x 8 accumulators + 3 weight vectors + 1 activation vector of the 32 zmm registers).
CK_INLINE CK_AVX512 void tile(int wtype, int R, int T, const uint8_t *w, size_t row_bytes, size_t blocks,
                              __mmask32 tail_mask, const float *xp, size_t ldx, float *y, size_t ldy,
                              int accumulate) {
    __m512 acc[TILE_ROWS_MAX][TILE_TOKENS];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    size_t total = blocks + (tail_mask != 0);
    size_t block_bytes = ck_row_bytes(wtype, 32);
    for (size_t b = 0; b < total; b++) {
        int tail = b == blocks;
        // Pull the next tile's rows towards L2 while this one computes: hardware prefetchers stop at
        // 4 KB pages and do not run far enough ahead to hide memory latency behind the FMAs.
        for (int r = 0; r < R && PREFETCH_TILES > 0; r++)
            prefetch_lines((const char *)w + (PREFETCH_TILES * R + r) * row_bytes + b * block_bytes, block_bytes, 1);
        // ... and this tile's own rows a few blocks ahead into L1.
        for (int r = 0; r < R && PREFETCH_L1_BLOCKS > 0; r++)
            prefetch_lines((const char *)w + r * row_bytes + (b + PREFETCH_L1_BLOCKS) * block_bytes, block_bytes, 0);
        if (wtype == CK_W_BF16) {
            // bf16: both halves come from one load (shift and mask); measured ~3% faster than
            // two half-block passes despite the 6 live weight vectors.
            __m512 lo[TILE_ROWS_MAX], hi[TILE_ROWS_MAX];
            for (int r = 0; r < R; r++) {
                lo[r] = load_half(wtype, w + r * row_bytes, b, 0, tail, tail_mask);
                hi[r] = load_half(wtype, w + r * row_bytes, b, 1, tail, tail_mask);
            }
            for (int t = 0; t < T; t++) {
                __m512 xl = _mm512_loadu_ps(xp + t * ldx + 32 * b);
                for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(lo[r], xl, acc[r][t]);
            }
            for (int t = 0; t < T; t++) {
                __m512 xh = _mm512_loadu_ps(xp + t * ldx + 32 * b + 16);
                for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(hi[r], xh, acc[r][t]);
            }
            continue;
        }
        // One half-block at a time keeps only R weight vectors live beside the R x T accumulators.
        for (int h = 0; h < 2; h++) {
            __m512 wv[TILE_ROWS_MAX];
            for (int r = 0; r < R; r++) wv[r] = load_half(wtype, w + r * row_bytes, b, h, tail, tail_mask);
            for (int t = 0; t < T; t++) {
                __m512 xv = _mm512_loadu_ps(xp + t * ldx + 32 * b + 16 * h);
                for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
            }
        }
    }
    if (T == 8 && REDUCE8) {
        for (int r = 0; r < R; r++) {
            float sums[8];
            reduce8(acc[r], sums);
            for (int t = 0; t < 8; t++) y[t * ldy + r] = accumulate ? y[t * ldy + r] + sums[t] : sums[t];
        }
        return;
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) {
            float s = _mm512_reduce_add_ps(acc[r][t]);
            y[t * ldy + r] = accumulate ? y[t * ldy + r] + s : s;
        }
}

typedef void (*tile_fn)(const uint8_t *, size_t, size_t, __mmask32, const float *, size_t, float *, size_t, int);

#define TILE_FN(TY, R, T)                                                                                  \
    static CK_AVX512 void tile_##TY##_##R##_##T(const uint8_t *w, size_t rb, size_t blocks, __mmask32 m,   \
                                                const float *xp, size_t ldx, float *y, size_t ldy, int a) { \
        tile(TY, R, T, w, rb, blocks, m, xp, ldx, y, ldy, a);                                              \
    }
#define TILE_ROW(TY, R) TILE_FN(TY, R, 1) TILE_FN(TY, R, 2) TILE_FN(TY, R, 3) TILE_FN(TY, R, 4) \
    TILE_FN(TY, R, 5) TILE_FN(TY, R, 6) TILE_FN(TY, R, 7) TILE_FN(TY, R, 8)
#define TILE_ALL(TY) TILE_ROW(TY, 1) TILE_ROW(TY, 2) TILE_ROW(TY, 3) \
    TILE_FN(TY, 4, 1) TILE_FN(TY, 4, 2) TILE_FN(TY, 4, 3) TILE_FN(TY, 4, 4)
TILE_ALL(CK_W_F32)
TILE_ALL(CK_W_F16)
TILE_ALL(CK_W_BF16)
TILE_ALL(CK_W_Q8_0)

#define TABLE_ROW(TY, R)                                                                                  \
    { tile_##TY##_##R##_1, tile_##TY##_##R##_2, tile_##TY##_##R##_3, tile_##TY##_##R##_4,                  \
      tile_##TY##_##R##_5, tile_##TY##_##R##_6, tile_##TY##_##R##_7, tile_##TY##_##R##_8 }
#define TABLE(TY)                                                                                   \
    { TABLE_ROW(TY, 1), TABLE_ROW(TY, 2), TABLE_ROW(TY, 3),                                          \
      { tile_##TY##_4_1, tile_##TY##_4_2, tile_##TY##_4_3, tile_##TY##_4_4, 0, 0, 0, 0 } }
static const tile_fn tiles[4][TILE_ROWS_MAX][TILE_TOKENS] = {
    TABLE(CK_W_F32), TABLE(CK_W_F16), TABLE(CK_W_BF16), TABLE(CK_W_Q8_0),
};

void ck_matmul_rows_avx512(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                           const float *xp, size_t n, float *y, size_t ldy, int accumulate) {
    size_t row_bytes = ck_row_bytes(wtype, columns), ldx = ck_activation_stride(columns);
    size_t blocks = columns / 32, rem = columns % 32;
    __mmask32 tail_mask = rem ? (__mmask32)((1u << rem) - 1) : 0;
    size_t tile_rows = n <= SMALL_TOKENS ? SMALL_TILE_ROWS : TILE_ROWS;
    // The tiles prefetch PREFETCH_TILES ahead; start that pipeline for the first ones here.
    size_t head_rows = PREFETCH_TILES * tile_rows < row_end - row_begin ? PREFETCH_TILES * tile_rows : row_end - row_begin;
    for (size_t off = 0; off < head_rows * row_bytes; off += 64)
        _mm_prefetch((const char *)w + row_begin * row_bytes + off, _MM_HINT_T1);
    // All token groups of a tile while its rows are in L1: weights stream at one even rate under the
    // arithmetic (see ck_matmul_rows_bf16dot).
    size_t groups = (n + TILE_TOKENS - 1) / TILE_TOKENS;
    for (size_t r = row_begin; r < row_end; r += tile_rows) {
        size_t R = row_end - r < tile_rows ? row_end - r : tile_rows;
        for (size_t t = 0, g = 0; g < groups; t += n / groups + (g < n % groups), g++) {
            size_t T = n / groups + (g < n % groups);
            tiles[wtype][R - 1][T - 1](w + r * row_bytes, row_bytes, blocks, tail_mask, xp + t * ldx, ldx,
                                       y + t * ldy + r, ldy, accumulate);
        }
    }
}

/// Even/odd split of `blocks` full blocks of 32 activations (see ck_prepare_activations).
CK_AVX512 void ck_split_blocks_avx512(const float *src, float *dst, size_t blocks) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (size_t b = 0; b < blocks; b++) {
        __m512 a = _mm512_loadu_ps(src + 32 * b), c = _mm512_loadu_ps(src + 32 * b + 16);
        _mm512_storeu_ps(dst + 32 * b, _mm512_permutex2var_ps(a, even, c));
        _mm512_storeu_ps(dst + 32 * b + 16, _mm512_permutex2var_ps(a, odd, c));
    }
}

// Widening for the sgemm path: natural column order (no activation permutation there).
CK_INLINE CK_AVX512 void widen_row(int wtype, const uint8_t *row, size_t columns, float *dst) {
    size_t k = 0;
    switch (wtype) {
    case CK_W_F32: memcpy(dst, row, columns * 4); return;
    case CK_W_F16:
    case CK_W_BF16: {
        const uint16_t *p = (const uint16_t *)row;
        for (; k < columns; k += 16) {
            size_t left = columns - k;
            __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            __m256i v = _mm256_maskz_loadu_epi16(m, p + k);
            __m512 f = wtype == CK_W_F16 ? _mm512_cvtph_ps(v)
                                         : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
            _mm512_mask_storeu_ps(dst + k, m, f);
        }
        return;
    }
    default:
        for (size_t b = 0; b < columns / 32; b++) {
            _mm512_storeu_ps(dst + 32 * b, load_half(CK_W_Q8_0, row, b, 0, 0, 0));
            _mm512_storeu_ps(dst + 32 * b + 16, load_half(CK_W_Q8_0, row, b, 1, 0, 0));
        }
        return;
    }
}

CK_AVX512 void ck_widen_rows_avx512(int wtype, const uint8_t *w, size_t columns, size_t row_begin,
                                    size_t row_end, float *out, size_t ldo) {
    size_t row_bytes = ck_row_bytes(wtype, columns);
    for (size_t r = row_begin; r < row_end; r++) widen_row(wtype, w + r * row_bytes, columns, out + (r - row_begin) * ldo);
}
#endif
