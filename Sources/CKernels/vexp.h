// exp over 16 float lanes, for the attention softmax and the SwiGLU gate: one polynomial for every
// lane instead of a libm call per element. Range reduction x = n·ln2 + r with |r| <= ln2/2, a degree-6
// polynomial for e^r (Cephes' expf coefficients, ~1 ulp), then 2^n built in the exponent bits.
// Inputs are clamped to [-87.3, 88.7], so the result is always a finite, normal float.
// Macros, not functions: a 64-byte vector passed to or returned from a function compiled without
// AVX-512 would change the calling convention of the default target_clones clone.
#pragma once
#include <string.h>

typedef float v16 __attribute__((vector_size(64)));
typedef int vi16 __attribute__((vector_size(64)));

#define load16(p) ({ v16 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store16(p, v) do { v16 v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)
#define splat16(s) ((v16){0} + (float)(s))

#define vexp16(x_in) ({                                                                             \
    v16 x_ = (x_in);                                                                                \
    x_ = __builtin_elementwise_min(__builtin_elementwise_max(x_, splat16(-87.3f)), splat16(88.7f));   \
    /* round(x / ln2) by the 1.5·2^23 trick: exact for |x / ln2| < 2^22 */                          \
    v16 n_ = (x_ * splat16(1.44269504088896341f) + splat16(12582912.0f)) - splat16(12582912.0f);    \
    v16 r_ = x_ - n_ * splat16(0.693359375f) - n_ * splat16(-2.12194440e-4f);                       \
    v16 p_ = splat16(1.9875691500e-4f);                                                             \
    p_ = p_ * r_ + splat16(1.3981999507e-3f);                                                       \
    p_ = p_ * r_ + splat16(8.3334519073e-3f);                                                       \
    p_ = p_ * r_ + splat16(4.1665795894e-2f);                                                       \
    p_ = p_ * r_ + splat16(1.6666665459e-1f);                                                       \
    p_ = p_ * r_ + splat16(5.0000001201e-1f);                                                       \
    p_ = p_ * r_ * r_ + r_ + splat16(1.0f);                                                         \
    vi16 e_ = (__builtin_convertvector(n_, vi16) + 127) << 23;                                      \
    v16 scale_; memcpy(&scale_, &e_, sizeof scale_);                                                \
    p_ * scale_; })
