// AVX2 weight-streaming matmul for CPUs without AVX-512: register tiles of up to 3 rows x 4 tokens
// (12 ymm accumulators of the 16 registers: two FMA pipes of 4-cycle latency need 8 chains in flight,
// and 2 x 4 left none to spare; on Zen 3, bf16 3 x 4 tiles reach 1.4x the FLOP/s of 2 x 4 at 8-32 tokens).
// Steps of 5-6 tokens take one pass of 2 x 5 or 2 x 6 tiles (f32, bf16) rather than a second pass over
// the weights for the last 1-2 tokens: on the 1B shape a 5-token step cost 1.39x a 4-token one, now 1.21x.
// (Wider 1-token tiles, 6 or 12 rows, and column chunks that keep activations in L1 measured slower.)
// Every tile adds an output's products in the same order (one chain over its columns, quarter by
// quarter), so a token's result does not depend on how many tokens share its step: greedy speculation
// verifies drafts in multi-token steps and equals `off` because of it.
// Full blocks stream straight from the rows; a tail block is copied into a zero-padded buffer first.
#if defined(__x86_64__)
#include "common.h"
#include <immintrin.h>

enum { TILE_ROWS = 3, TILE_TOKENS = 6, TAIL_BYTES = 128 };

/// Quarter s (8 columns) of block b, widened; `xoff` receives where its activations sit in the
/// prepared block (bf16 pairs even/odd halves, see ck_prepare_activations).
CK_INLINE CK_AVX2 __m256 load_quarter(int wtype, const uint8_t *block, int s, int *xoff) {
    switch (wtype) {
    case CK_W_F32: *xoff = 8 * s; return _mm256_loadu_ps((const float *)block + 8 * s);
    case CK_W_F16:
        *xoff = 8 * s;
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)block + 8 * s)));
    case CK_W_BF16: {
        __m256i v = _mm256_loadu_si256((const __m256i *)((const uint16_t *)block + 16 * (s >> 1)));
        *xoff = (s & 1) * 16 + (s >> 1) * 8;
        return (s & 1) ? _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xFFFF0000u)))
                       : _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
    default: {
        __m256 d = _mm256_set1_ps(_cvtsh_ss(ck_load_u16(block)));
        __m128i q = _mm_loadl_epi64((const __m128i *)(block + 2 + 8 * s));
        *xoff = 8 * s;
        return _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)));
    }
    }
}

CK_INLINE CK_AVX2 float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// acc[r][t] += (block of 32 columns of row r) . (the same 32 prepared activations of token t).
/// acc: [TILE_ROWS][TILE_TOKENS] x 8 lanes; rows `row_bytes` apart, tokens `ldx` floats apart.
CK_INLINE CK_AVX2 void block(int wtype, int R, int T, const uint8_t *w, size_t row_bytes, const float *x,
                             size_t ldx, __m256 acc[TILE_ROWS][TILE_TOKENS]) {
    for (int s = 0; s < 4; s++) {
        // bf16 quarters 0/1 (and 2/3) widen one 32-byte load. Hidden from the optimiser, the pointer
        // makes each quarter load again (an L1 hit): kept in registers, the three raw loads spilled
        // the accumulators and cost a quarter of the FLOP/s.
        const uint8_t *wq = w;
        if (wtype == CK_W_BF16) __asm__ volatile("" : "+r"(wq));
        __m256 wv[TILE_ROWS];
        int xoff = 0;
        for (int r = 0; r < R; r++) wv[r] = load_quarter(wtype, wq + r * row_bytes, s, &xoff);
        for (int t = 0; t < T; t++) {
            __m256 xv = _mm256_loadu_ps(x + t * ldx + xoff);
            for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
}

CK_INLINE CK_AVX2 void tile(int wtype, int R, int T, const uint8_t *w, size_t row_bytes, size_t columns,
                            const float *xp, size_t ldx, float *y, size_t ldy, int accumulate) {
    size_t block_bytes = ck_row_bytes(wtype, 32), full = columns / 32;
    __m256 acc[TILE_ROWS][TILE_TOKENS];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    for (size_t b = 0; b < full; b++) {
        // As in the AVX-512 kernel: fetch the rows two tiles ahead into L2.
        for (int r = 0; r < R; r++) {
            const char *next = (const char *)w + (2 * R + r) * row_bytes + b * block_bytes;
            for (size_t off = 0; off < block_bytes; off += 64) _mm_prefetch(next + off, _MM_HINT_T1);
        }
        block(wtype, R, T, w + b * block_bytes, row_bytes, xp + 32 * b, ldx, acc);
    }
    if (32 * full < columns) {
        uint8_t tail[TILE_ROWS][TAIL_BYTES];
        for (int r = 0; r < R; r++) {
            memset(tail[r], 0, TAIL_BYTES);
            memcpy(tail[r], w + r * row_bytes + full * block_bytes, ck_row_bytes(wtype, columns - 32 * full));
        }
        block(wtype, R, T, tail[0], TAIL_BYTES, xp + 32 * full, ldx, acc);
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) {
            float s = hsum(acc[r][t]);
            y[t * ldy + r] = accumulate ? y[t * ldy + r] + s : s;
        }
}

/// Whether the type's widening leaves registers for 12 accumulators beside 3 weight vectors (f32,
/// bf16); f16 and q8_0 spill at 3 rows and measured faster at 2.
CK_INLINE int widens_lightly(int wtype) { return wtype == CK_W_F32 || wtype == CK_W_BF16; }

/// Rows per tile: 3 for tiles of up to 4 tokens of a lightly widened type, else 2.
CK_INLINE size_t rows_per_tile(int wtype, size_t T) { return widens_lightly(wtype) && T <= 4 ? 3 : 2; }

/// Tokens in the tile that starts `left` tokens from the end: groups of 4, where a remainder of 1-2
/// tokens joins the last group in one pass over the weights (f32, bf16), rather than a second pass
/// of 1-2 tokens.
CK_INLINE size_t tile_tokens(int wtype, size_t left) {
    return widens_lightly(wtype) && (left == 5 || left == 6) ? left : left < 4 ? left : 4;
}

typedef void (*tile_fn)(const uint8_t *, size_t, size_t, const float *, size_t, float *, size_t, int);

#define TILE_FN(TY, R, T)                                                                               \
    static CK_AVX2 void tile_##TY##_##R##_##T(const uint8_t *w, size_t rb, size_t columns, const float *xp, \
                                              size_t ldx, float *y, size_t ldy, int a) {                 \
        tile(TY, R, T, w, rb, columns, xp, ldx, y, ldy, a);                                             \
    }
#define TILE_ROW(TY, R) TILE_FN(TY, R, 1) TILE_FN(TY, R, 2) TILE_FN(TY, R, 3) TILE_FN(TY, R, 4)
#define TILE_ALL2(TY) TILE_ROW(TY, 1) TILE_ROW(TY, 2)
#define TILE_ALL3(TY) TILE_ALL2(TY) TILE_ROW(TY, 3) TILE_FN(TY, 1, 5) TILE_FN(TY, 1, 6) TILE_FN(TY, 2, 5) TILE_FN(TY, 2, 6)
TILE_ALL3(CK_W_F32)
TILE_ALL2(CK_W_F16)
TILE_ALL3(CK_W_BF16)
TILE_ALL2(CK_W_Q8_0)

#define TABLE_ROW(TY, R) { tile_##TY##_##R##_1, tile_##TY##_##R##_2, tile_##TY##_##R##_3, tile_##TY##_##R##_4 }
#define TABLE_ROW6(TY, R) \
    { tile_##TY##_##R##_1, tile_##TY##_##R##_2, tile_##TY##_##R##_3, tile_##TY##_##R##_4, tile_##TY##_##R##_5, tile_##TY##_##R##_6 }
#define TABLE2(TY) { TABLE_ROW(TY, 1), TABLE_ROW(TY, 2) }
#define TABLE3(TY) { TABLE_ROW6(TY, 1), TABLE_ROW6(TY, 2), TABLE_ROW(TY, 3) }
/// Tiles beyond a type's `rows_per_tile` and `tile_tokens` are never asked for: those entries stay empty.
static const tile_fn tiles[4][TILE_ROWS][TILE_TOKENS] = {
    TABLE3(CK_W_F32), TABLE2(CK_W_F16), TABLE3(CK_W_BF16), TABLE2(CK_W_Q8_0),
};

void ck_matmul_rows_avx2(int wtype, const uint8_t *w, size_t columns, size_t row_begin, size_t row_end,
                         const float *xp, size_t n, float *y, size_t ldy, int accumulate) {
    size_t row_bytes = ck_row_bytes(wtype, columns), ldx = ck_activation_stride(columns);
    // Blocks hold whole tiles of 2 and of 3 rows.
    size_t block_rows = ck_rows_per_block(row_bytes, 6);
    for (size_t r0 = row_begin; r0 < row_end; r0 += block_rows) {
        size_t r1 = r0 + block_rows < row_end ? r0 + block_rows : row_end;
        for (size_t t = 0, T; t < n; t += T) {
            T = tile_tokens(wtype, n - t);
            size_t tile_rows = rows_per_tile(wtype, T);
            for (size_t r = r0; r < r1; r += tile_rows) {
                size_t R = r1 - r < tile_rows ? r1 - r : tile_rows;
                tiles[wtype][R - 1][T - 1](w + r * row_bytes, row_bytes, columns, xp + t * ldx, ldx,
                                           y + t * ldy + r, ldy, accumulate);
            }
        }
    }
}
#endif
