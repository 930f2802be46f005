// Attention inner loops over one head's keys/values stored as contiguous rows (a cache block).
// target_clones picks AVX-512, AVX2 or plain code at load time; the explicit 16-lane vectors make each
// row's dot product a few vector FMAs instead of one long scalar dependency chain (float addition is
// not associative, so the compiler will not reorder a plain `sum += q[d] * k[d]` by itself).
#include "ckernels.h"
#include "vexp.h"

// Rows of keys scored together: each row's products land in one vector; a transpose-and-add tree
// then turns 16 such vectors into the 16 rows' sums with ~3 vector operations per row instead of a
// 15-add scalar reduction. Every row goes through the same tree (lanes i and i+8, then i+4, i+2,
// i+1), whatever rows share its group, so a row's score does not depend on how a step groups rows.
#define HALVES(a, b) (__builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) \
                    + __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
#define QUARTERS(a, b) (__builtin_shufflevector(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27) \
                      + __builtin_shufflevector(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
#define EIGHTHS(a, b) (__builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29) \
                     + __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
#define PAIRS(a, b) (__builtin_shufflevector(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30) \
                   + __builtin_shufflevector(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))

// The tree leaves lane l holding the input at bit-reversed position l, so inputs go in bit-reversed.
static const unsigned char bit_reversed16[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_attention_scores(const float *q, const float *keys, size_t count, size_t head_dim, float scale,
                         float *scores) {
    size_t vector_dims = head_dim - head_dim % 16;
    for (size_t first = 0; first < count; first += 16) {
        size_t rows = count - first < 16 ? count - first : 16;
        v16 acc[16];
        for (int slot = 0; slot < 16; slot++) {
            size_t row = bit_reversed16[slot];
            v16 sum = {0};
            if (row < rows) {
                const float *k = keys + (first + row) * head_dim;
                for (size_t d = 0; d < vector_dims; d += 16) sum += load16(q + d) * load16(k + d);
            }
            acc[slot] = sum;
        }
        v16 h0 = HALVES(acc[0], acc[1]), h1 = HALVES(acc[2], acc[3]), h2 = HALVES(acc[4], acc[5]);
        v16 h3 = HALVES(acc[6], acc[7]), h4 = HALVES(acc[8], acc[9]), h5 = HALVES(acc[10], acc[11]);
        v16 h6 = HALVES(acc[12], acc[13]), h7 = HALVES(acc[14], acc[15]);
        v16 q0 = QUARTERS(h0, h1), q1 = QUARTERS(h2, h3), q2 = QUARTERS(h4, h5), q3 = QUARTERS(h6, h7);
        v16 sums = PAIRS(EIGHTHS(q0, q1), EIGHTHS(q2, q3));
        float out[16];
        store16(out, sums);
        for (size_t row = 0; row < rows; row++) {
            const float *k = keys + (first + row) * head_dim;
            float sum = out[row];
            for (size_t d = vector_dims; d < head_dim; d++) sum += q[d] * k[d];
            scores[first + row] = sum * scale;
        }
    }
}

// Four partial sums over rows, so consecutive rows' multiply-adds do not wait on each other.
__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_attention_accumulate(const float *p, const float *values, size_t count, size_t head_dim, float *out) {
    size_t d = 0;
    for (; d + 16 <= head_dim; d += 16) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        size_t s = 0;
        for (; s + 4 <= count; s += 4) {
            a0 += p[s] * load16(values + s * head_dim + d);
            a1 += p[s + 1] * load16(values + (s + 1) * head_dim + d);
            a2 += p[s + 2] * load16(values + (s + 2) * head_dim + d);
            a3 += p[s + 3] * load16(values + (s + 3) * head_dim + d);
        }
        for (; s < count; s++) a0 += p[s] * load16(values + s * head_dim + d);
        store16(out + d, load16(out + d) + ((a0 + a1) + (a2 + a3)));
    }
    for (; d < head_dim; d++) {
        float acc = out[d];
        for (size_t s = 0; s < count; s++) acc += p[s] * values[s * head_dim + d];
        out[d] = acc;
    }
}

// Softmax over one row of attention scores, in place.
__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_softmax(float *x, size_t n) {
    if (n == 0) return;
    size_t vector_n = n - n % 16;
    // The maximum is exact in any order, so lanes may take it in parallel (scores are never NaN).
    float m = x[0];
    if (vector_n > 0) {
        v16 lanes = load16(x);
        for (size_t i = 16; i < vector_n; i += 16) lanes = __builtin_elementwise_max(lanes, load16(x + i));
        for (int j = 0; j < 16; j++) m = lanes[j] > m ? lanes[j] : m;
    }
    for (size_t i = vector_n; i < n; i++) m = x[i] > m ? x[i] : m;
    v16 sum = {0};
    for (size_t i = 0; i < vector_n; i += 16) {
        v16 e = vexp16(load16(x + i) - splat16(m));
        store16(x + i, e);
        sum += e;
    }
    float total = 0;
    for (int j = 0; j < 16; j++) total += sum[j];
    if (vector_n < n) {
        // The tail through the same polynomial, padded with m (e^0, never summed).
        float tail[16];
        for (int j = 0; j < 16; j++) tail[j] = vector_n + j < n ? x[vector_n + j] : m;
        store16(tail, vexp16(load16(tail) - splat16(m)));
        for (size_t i = vector_n; i < n; i++) {
            x[i] = tail[i - vector_n];
            total += x[i];
        }
    }
    float inv = 1.0f / total;
    for (size_t i = 0; i < vector_n; i += 16) store16(x + i, load16(x + i) * splat16(inv));
    for (size_t i = vector_n; i < n; i++) x[i] *= inv;
}

void ck_prefetch(const void *p, size_t bytes, int near) {
    const char *c = (const char *)p;
    if (near)
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 3);
    else
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 2);
}
