// bf16 weights times bf16-rounded activations with AVX512-BF16 (`vdpbf16ps`): one instruction does
// 32 multiply-adds (pairs of bf16 products, exact in f32, summed into f32 lanes) where the f32 path
// needs two FMAs plus the widening of the weights. Multi-token steps are bound by multiply-adds, not
// by memory, so this halves their arithmetic; the price is activations rounded to bf16 (8 bits of
// mantissa), the precision llama.cpp and oneDNN use for bf16 models. Opt-in: see MatMul.Precision.
#if defined(__x86_64__)
#include "common.h"
#include <immintrin.h>

#define CK_BF16DOT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,f16c")))

/// Register tiles of 4 rows x up to 6 tokens (24 accumulators, 4 weight registers, 1 activation).
/// Four rows stream from memory at once: with 3-row tiles of 8 tokens an 8-token step reached only
/// two thirds of the read bandwidth (82 ms against 62 for 4-row tiles, 1B shape).
enum { DOT_ROWS = 4, DOT_TOKENS = 6, DOT_PREFETCH_TILES = 2 };

int ck_has_bf16_dot(void) {
    __builtin_cpu_init();
    return ck_detect_isa() == CK_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
}

size_t ck_bf16_activation_stride(size_t columns) {
    // Whole blocks of 32 plus one cache line, for the same L1-set reason as ck_activation_stride.
    return ((columns + 31) & ~(size_t)31) + 32;
}

CK_BF16DOT void ck_prepare_activations_bf16(const float *x, size_t ldx, size_t n, size_t columns, uint16_t *xp) {
    size_t stride = ck_bf16_activation_stride(columns);
    for (size_t t = 0; t < n; t++) {
        const float *src = x + t * ldx;
        uint16_t *dst = xp + t * stride;
        for (size_t k = 0; k < stride; k += 32) {
            size_t left = k < columns ? columns - k : 0;
            __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            __mmask16 m1 = left >= 32 ? (__mmask16)0xFFFF : left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0;
            __m512 lo = _mm512_maskz_loadu_ps(m0, src + k), hi = _mm512_maskz_loadu_ps(m1, src + k + 16);
            // Round to nearest even; padding columns become +0.
            _mm512_storeu_si512(dst + k, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
    }
}

CK_INLINE CK_BF16DOT void prefetch_block(const uint8_t *p, int far) {
    if (far) _mm_prefetch((const char *)p, _MM_HINT_T1);
    else _mm_prefetch((const char *)p, _MM_HINT_T0);
}

/// One R x T tile: y[t*ldy + r] (+)= row r of w · token t of xp over `blocks` blocks of 32 columns
/// (the last one masked by `tail_mask` when columns % 32 != 0; its activations are zero-padded).
CK_INLINE CK_BF16DOT void dot_tile(int R, int T, const uint16_t *w, size_t ldw, size_t blocks, __mmask32 tail_mask,
                                   const uint16_t *xp, size_t ldx, float *y, size_t ldy, int accumulate) {
    __m512 acc[DOT_ROWS][DOT_TOKENS];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    size_t total = blocks + (tail_mask != 0);
    for (size_t b = 0; b < total; b++) {
        // Memory latency is not hidden by the hardware prefetchers at 4 KB page boundaries: pull the
        // rows two tiles ahead towards L2 and this tile's rows four blocks ahead into L1.
        for (int r = 0; r < R; r++) {
            prefetch_block((const uint8_t *)(w + (DOT_PREFETCH_TILES * R + r) * ldw + 32 * b), 1);
            prefetch_block((const uint8_t *)(w + r * ldw + 32 * (b + 4)), 0);
        }
        __m512bh wv[DOT_ROWS];
        for (int r = 0; r < R; r++)
            wv[r] = (__m512bh)(b == blocks ? _mm512_maskz_loadu_epi16(tail_mask, w + r * ldw + 32 * b)
                                           : _mm512_loadu_si512(w + r * ldw + 32 * b));
        for (int t = 0; t < T; t++) {
            __m512bh xv = (__m512bh)_mm512_loadu_si512(xp + t * ldx + 32 * b);
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv[r], xv);
        }
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) {
            float s = _mm512_reduce_add_ps(acc[r][t]);
            y[t * ldy + r] = accumulate ? y[t * ldy + r] + s : s;
        }
}

typedef void (*dot_tile_fn)(const uint16_t *, size_t, size_t, __mmask32, const uint16_t *, size_t, float *, size_t, int);

#define DOT_FN(R, T)                                                                                     \
    static CK_BF16DOT void dot_tile_##R##_##T(const uint16_t *w, size_t ldw, size_t blocks, __mmask32 m,  \
                                              const uint16_t *xp, size_t ldx, float *y, size_t ldy, int a) { \
        dot_tile(R, T, w, ldw, blocks, m, xp, ldx, y, ldy, a);                                          \
    }
#define DOT_ROW(R) DOT_FN(R, 1) DOT_FN(R, 2) DOT_FN(R, 3) DOT_FN(R, 4) DOT_FN(R, 5) DOT_FN(R, 6)
DOT_ROW(1) DOT_ROW(2) DOT_ROW(3) DOT_ROW(4)

#define DOT_TABLE_ROW(R) { dot_tile_##R##_1, dot_tile_##R##_2, dot_tile_##R##_3, dot_tile_##R##_4, \
                           dot_tile_##R##_5, dot_tile_##R##_6 }
static const dot_tile_fn dot_tiles[DOT_ROWS][DOT_TOKENS] = {
    DOT_TABLE_ROW(1), DOT_TABLE_ROW(2), DOT_TABLE_ROW(3), DOT_TABLE_ROW(4),
};

CK_BF16DOT void ck_matmul_rows_bf16dot(const uint16_t *w, size_t columns, size_t row_begin, size_t row_end,
                                       const uint16_t *xp, size_t n, float *y, size_t ldy, int accumulate) {
    if (row_begin >= row_end || n == 0) return;
    size_t ldx = ck_bf16_activation_stride(columns), blocks = columns / 32, rem = columns % 32;
    __mmask32 tail_mask = rem ? (__mmask32)((1u << rem) - 1) : 0;
    size_t tile_rows = DOT_ROWS;
    size_t head = DOT_PREFETCH_TILES * tile_rows < row_end - row_begin ? DOT_PREFETCH_TILES * tile_rows : row_end - row_begin;
    for (size_t off = 0; off < head * columns * 2; off += 64)
        _mm_prefetch((const char *)(w + row_begin * columns) + off, _MM_HINT_T1);
    // Every token group of a tile runs while its rows are in L1, so the weights stream from memory at
    // one even rate under all the arithmetic (group-outer order streamed them during the first group
    // only and left memory idle during the others: step time was memory time plus compute time).
    size_t groups = (n + DOT_TOKENS - 1) / DOT_TOKENS;
    for (size_t r = row_begin; r < row_end; r += tile_rows) {
        size_t R = row_end - r < tile_rows ? row_end - r : tile_rows;
        for (size_t t = 0, g = 0; g < groups; t += n / groups + (g < n % groups), g++) {
            size_t T = n / groups + (g < n % groups);
            dot_tiles[R - 1][T - 1](w + r * columns, columns, blocks, tail_mask, xp + t * ldx, ldx,
                                    y + t * ldy + r, ldy, accumulate);
        }
    }
}
#else
#include "common.h"
int ck_has_bf16_dot(void) { return 0; }
size_t ck_bf16_activation_stride(size_t columns) { return ((columns + 31) & ~(size_t)31) + 32; }
void ck_prepare_activations_bf16(const float *x, size_t ldx, size_t n, size_t columns, uint16_t *xp) {
    (void)x; (void)ldx; (void)n; (void)columns; (void)xp;
}
void ck_matmul_rows_bf16dot(const uint16_t *w, size_t columns, size_t row_begin, size_t row_end,
                            const uint16_t *xp, size_t n, float *y, size_t ldy, int accumulate) {
    (void)w; (void)columns; (void)row_begin; (void)row_end; (void)xp; (void)n; (void)y; (void)ldy; (void)accumulate;
}
#endif
