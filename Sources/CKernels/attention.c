// Attention inner loops over one head's keys/values stored as contiguous rows (a cache block).
// target_clones picks AVX-512, AVX2 or plain code at load time; the explicit 16-lane vectors make each
// row's dot product a few vector FMAs instead of one long scalar dependency chain (float addition is
// not associative, so the compiler will not reorder a plain `sum += q[d] * k[d]` by itself).
#include <string.h>
#include "ckernels.h"

typedef float v16 __attribute__((vector_size(64)));

// Macros, not functions: a 64-byte vector passed to or returned from a function compiled without
// AVX-512 would change the calling convention of the default clone.
#define load16(p) ({ v16 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store16(p, v) do { v16 v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_attention_scores(const float *q, const float *keys, size_t count, size_t head_dim, float scale,
                         float *scores) {
    for (size_t s = 0; s < count; s++) {
        const float *k = keys + s * head_dim;
        v16 acc = {0};
        size_t d = 0;
        for (; d + 16 <= head_dim; d += 16) acc += load16(q + d) * load16(k + d);
        float sum = 0;
        for (int j = 0; j < 16; j++) sum += acc[j];
        for (; d < head_dim; d++) sum += q[d] * k[d];
        scores[s] = sum * scale;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_attention_accumulate(const float *p, const float *values, size_t count, size_t head_dim, float *out) {
    size_t d = 0;
    for (; d + 16 <= head_dim; d += 16) {
        v16 acc = load16(out + d);
        for (size_t s = 0; s < count; s++) acc += p[s] * load16(values + s * head_dim + d);
        store16(out + d, acc);
    }
    for (; d < head_dim; d++) {
        float acc = out[d];
        for (size_t s = 0; s < count; s++) acc += p[s] * values[s * head_dim + d];
        out[d] = acc;
    }
}
