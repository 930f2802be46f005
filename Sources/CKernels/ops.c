// Element-wise f32 operations: AVX-512 versions of the ones attention calls per key (dot, axpy),
// portable loops for the rest (the compiler vectorises them for the baseline target).
#include "common.h"
#include "vexp.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>

static CK_AVX512 float dot_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static CK_AVX512 void axpy_avx512(float alpha, const float *x, float *y, size_t n) {
    __m512 a = _mm512_set1_ps(alpha);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 r = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(y + i, m, r);
    }
}

static CK_AVX512 double sum_squares_avx512(const float *x, size_t n) {
    __m512 s = _mm512_setzero_ps();
    double total = 0;
    // Partial sums of 16 lanes over 1024 elements stay f32-accurate; fold them into a double.
    for (size_t base = 0; base < n; base += 1024) {
        size_t end = base + 1024 < n ? base + 1024 : n;
        s = _mm512_setzero_ps();
        for (size_t i = base; i < end; i += 16) {
            __mmask16 m = end - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (end - i)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(m, x + i);
            s = _mm512_fmadd_ps(v, v, s);
        }
        total += (double)_mm512_reduce_add_ps(s);
    }
    return total;
}

#ifndef READ_PREFETCH_BYTES
#define READ_PREFETCH_BYTES 4096
#endif
/// Reads the buffer as 4 concurrent sequential streams (one per quarter) with software prefetch,
/// the access pattern of the matmul kernels (several rows at once), which DRAM serves faster than
/// a single stream.
static CK_AVX512 double read_stream_avx512(const void *data, size_t bytes) {
    size_t lines = bytes / 64 / 4;
    const __m512i *p[4];
    for (int j = 0; j < 4; j++) p[j] = (const __m512i *)data + j * lines;
    __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    for (size_t i = 0; i < lines; i++) {
        for (int j = 0; j < 4; j++) {
            _mm_prefetch((const char *)(p[j] + i) + READ_PREFETCH_BYTES, _MM_HINT_T1);
            a[j] = _mm512_add_epi64(a[j], _mm512_loadu_si512(p[j] + i));
        }
    }
    __m512i s = _mm512_add_epi64(_mm512_add_epi64(a[0], a[1]), _mm512_add_epi64(a[2], a[3]));
    return (double)_mm512_reduce_add_epi64(s);
}

static CK_AVX512 double fma_loop_avx512(size_t iterations) {
    __m512 acc[16];
    __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps((float)j);
    for (size_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(acc[j], m, c);
        __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]));
    }
    __m512 s = acc[0];
    for (int j = 1; j < 16; j++) s = _mm512_add_ps(s, acc[j]);
    return (double)_mm512_reduce_add_ps(s) * 0 + (double)iterations * 16 * 16 * 2;
}

/// 12 ymm chains: two FMA pipes of 4-cycle latency need 8 in flight to stay busy.
static CK_AVX2 double fma_loop_avx2(size_t iterations) {
    __m256 acc[12];
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < 12; j++) acc[j] = _mm256_set1_ps((float)j);
    for (size_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, c);
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
    }
    __m256 s = acc[0];
    for (int j = 1; j < 12; j++) s = _mm256_add_ps(s, acc[j]);
    return (double)_mm256_cvtss_f32(s) * 0 + (double)iterations * 12 * 8 * 2;
}
#endif

float ck_dot(int isa, const float *a, const float *b, size_t n) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) return dot_avx512(a, b, n);
#endif
    (void)isa;
    float s[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += a[i + j] * b[i + j];
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

void ck_axpy(int isa, float alpha, const float *x, float *y, size_t n) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) { axpy_avx512(alpha, x, y, n); return; }
#endif
    (void)isa;
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

void ck_add(int isa, const float *a, const float *b, float *out, size_t n) {
    (void)isa;
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void ck_scale(int isa, float alpha, float *x, size_t n) {
    (void)isa;
    for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

void ck_rmsnorm(int isa, const float *x, const float *weight, float eps, size_t n, float *out) {
    double squares = 0;
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) squares = sum_squares_avx512(x, n);
    else
#endif
        for (size_t i = 0; i < n; i++) squares += (double)x[i] * x[i];
    (void)isa;
    // transformers LlamaRMSNorm: variance in f32, x * rsqrt(variance + eps) in f32, then weight * that.
    float variance = (float)(squares / (double)n);
    float inv = (float)(1.0 / sqrt((double)(variance + eps)));
    for (size_t i = 0; i < n; i++) out[i] = weight[i] * (x[i] * inv);
}

// gate = g / (1 + e^-g) · up, 16 lanes at a time; the tail goes through the same polynomial.
__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_silu_gate(float *gate, const float *up, size_t n) {
    size_t vector_n = n - n % 16;
    for (size_t i = 0; i < vector_n; i += 16) {
        v16 g = load16(gate + i);
        store16(gate + i, g / (splat16(1.0f) + vexp16(-g)) * load16(up + i));
    }
    if (vector_n == n) return;
    float g[16] = {0}, u[16] = {0};
    memcpy(g, gate + vector_n, (n - vector_n) * sizeof(float));
    memcpy(u, up + vector_n, (n - vector_n) * sizeof(float));
    v16 gv = load16(g);
    store16(g, gv / (splat16(1.0f) + vexp16(-gv)) * load16(u));
    memcpy(gate + vector_n, g, (n - vector_n) * sizeof(float));
}

size_t ck_argmax(const float *x, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++) if (x[i] > x[best]) best = i;
    return best;
}

double ck_read_stream(int isa, const void *data, size_t bytes) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) return read_stream_avx512(data, bytes);
#endif
    (void)isa;
    const uint64_t *p = (const uint64_t *)data;
    uint64_t s = 0;
    for (size_t i = 0; i < bytes / 8; i += 8) s += p[i];  // one word per 64-byte line
    return (double)s;
}

double ck_fma_loop(int isa, size_t iterations) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) return fma_loop_avx512(iterations);
    if (isa == CK_ISA_AVX2) return fma_loop_avx2(iterations);
#endif
    (void)isa;
    float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (size_t i = 0; i < iterations; i++)
        for (int j = 0; j < 8; j++) acc[j] = acc[j] * 0.999999f + 1e-7f;
    volatile float sink = acc[0] + acc[7];
    (void)sink;
    return (double)iterations * 8 * 2;
}
