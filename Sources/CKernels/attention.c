// Attention inner loops over one head's keys/values stored as contiguous rows (a cache block).
// target_clones picks AVX-512, AVX2 or plain code at load time.
#include "ckernels.h"

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_attention_scores(const float *q, const float *keys, size_t count, size_t head_dim, float scale,
                         float *scores) {
    for (size_t s = 0; s < count; s++) {
        const float *k = keys + s * head_dim;
        float sum = 0;
        for (size_t d = 0; d < head_dim; d++) sum += q[d] * k[d];
        scores[s] = sum * scale;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_attention_accumulate(const float *p, const float *values, size_t count, size_t head_dim, float *out) {
    for (size_t s = 0; s < count; s++) {
        const float *v = values + s * head_dim;
        const float w = p[s];
        for (size_t d = 0; d < head_dim; d++) out[d] += w * v[d];
    }
}
