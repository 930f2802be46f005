// Scalar conversions between f32 and the stored 16-bit formats. Written out by hand (not `Float16`)
// so they behave the same on every platform Swift runs on; kernels have their own vector versions.

/// IEEE half (binary16) bits → Float, exact for every value including subnormals, infinities and NaN.
@inline(__always)
public func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x03FF)
    if exponent == 0x1F {  // inf or NaN
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {  // zero or subnormal: mantissa x 2^-24
        let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
        return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// Float → IEEE half bits, rounding to nearest even (what numpy/torch `.half()` do).
@inline(__always)
public func halfBitsFromFloat(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x007F_FFFF
    if exponent == 0xFF {  // inf / NaN (keep NaN quiet)
        return sign | 0x7C00 | (mantissa != 0 ? 0x0200 : 0)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F { return sign | 0x7C00 }  // overflow → inf
    if halfExponent <= 0 {  // subnormal half or zero
        if halfExponent < -10 { return sign }
        let full = mantissa | 0x0080_0000
        let shift = UInt32(14 - halfExponent)
        var half = full >> shift
        let remainder = full & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }
    var half = UInt32(halfExponent << 10) | (mantissa >> 13)
    let remainder = mantissa & 0x1FFF
    if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }  // may carry into inf: correct
    return sign | UInt16(half)
}

/// bfloat16 bits → Float (exact: bf16 is the top half of an f32).
@inline(__always)
public func floatFromBFloat16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

/// Float → bfloat16 bits, rounding to nearest even (what torch `.to(bfloat16)` does).
@inline(__always)
public func bfloat16BitsFromFloat(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    if f.isNaN { return UInt16(bits >> 16) | 0x0040 }
    let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}
