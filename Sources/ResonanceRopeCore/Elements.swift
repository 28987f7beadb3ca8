// Storage formats of rotated elements: float32, IEEE half (float16) and bfloat16, converted to and
// from float32 sixteen lanes at a time with integer bit operations only.
//
// Why not Float16 / F16C: on baseline x86-64 (SSE2) `Float(Float16)` and `Float16(Float)` are
// calls into compiler-rt (__extendhfsf2, __truncsfhf2) per element; the bit-level conversions
// below vectorize with SSE2 and give the same results (tested exhaustively against Float16 for
// every half and against a float64 reference for rounding). They are also exact under a host's
// flush-to-zero / denormals-are-zero mode: no arithmetic here has a subnormal float operand
// except the one whose result is flushed to the correct value anyway (see `Float16Element`).

/// The number of float32 lanes the kernels work on at once: one zmm register with AVX-512,
/// two ymm with AVX2, four xmm on baseline x86-64.
package typealias FloatLanes = SIMD16<Float>

/// One element storage format: how 16 consecutive elements become float32 lanes and back.
/// Narrowing rounds to nearest, ties to even; NaN stays NaN (quiet), infinities stay infinite.
package protocol RotaryElement {
  associatedtype Bits: SIMDScalar
  static func widen(_ v: SIMD16<Bits>) -> FloatLanes
  static func narrow(_ v: FloatLanes) -> SIMD16<Bits>
}

extension RotaryElement {
  @inline(__always)
  static func load(_ p: UnsafePointer<Bits>) -> FloatLanes {
    widen(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Bits>.self))
  }

  @inline(__always)
  static func store(_ v: FloatLanes, _ p: UnsafeMutablePointer<Bits>) {
    UnsafeMutableRawPointer(p).storeBytes(of: narrow(v), as: SIMD16<Bits>.self)
  }

  /// The first `n` (< 16) elements; the other lanes are 0. Same conversion as full loads, so
  /// tails round exactly like the body.
  @inline(__always)
  static func load(_ p: UnsafePointer<Bits>, count n: Int) -> FloatLanes {
    var b = SIMD16<Bits>()
    for l in 0 ..< n { b[l] = p[l] }
    return widen(b)
  }

  @inline(__always)
  static func store(_ v: FloatLanes, _ p: UnsafeMutablePointer<Bits>, count n: Int) {
    let b = narrow(v)
    for l in 0 ..< n { p[l] = b[l] }
  }
}

/// float32: stored as is.
package enum Float32Element: RotaryElement {
  package typealias Bits = Float
  @inline(__always) package static func widen(_ v: SIMD16<Float>) -> FloatLanes { v }
  @inline(__always) package static func narrow(_ v: FloatLanes) -> SIMD16<Float> { v }
}

/// IEEE 754 binary16 in a UInt16 (1 sign, 5 exponent, 10 fraction bits).
package enum Float16Element: RotaryElement {
  package typealias Bits = UInt16

  /// Exact widening (F. Giesen, "half_to_float_fast4"): a normal half's bits << 13 with 112
  /// added to the exponent is the float; a subnormal half mant * 2^-24 is obtained as
  /// (2^-14 + mant * 2^-24) - 2^-14, both normal floats, so the subtraction is exact and DAZ
  /// cannot touch it; exponent 31 (Inf/NaN) gets the float exponent 255, payload kept.
  @inline(__always)
  package static func widen(_ v: SIMD16<UInt16>) -> FloatLanes {
    let h = SIMD16<UInt32>(truncatingIfNeeded: v)
    let em = h & 0x7FFF
    let shifted = em &<< 13
    let normal = shifted &+ 0x3800_0000  // exponent + (127 - 15) << 23
    let sub = unsafeBitCast(shifted &+ 0x3880_0000, to: FloatLanes.self) - FloatLanes(repeating: 0x1p-14)
    var bits = normal
    bits.replace(with: unsafeBitCast(sub, to: SIMD16<UInt32>.self), where: em .< 0x0400)
    bits.replace(with: shifted | 0x7F80_0000, where: em .>= 0x7C00)
    return unsafeBitCast(bits | ((h & 0x8000) &<< 16), to: FloatLanes.self)
  }

  /// Rounding to nearest even (F. Giesen, "float_to_half_fast3_rtne"):
  ///   |x| >= 65536 (float bits >= 0x4780_0000): Inf, or quiet NaN 0x7E00 for NaN;
  ///   |x| < 2^-14 (half subnormals): x + 0.5 in float rounds the 24-bit fraction to the half
  ///     subnormal grid 2^-24 by the FPU's own round-to-nearest-even; the fraction bits are the
  ///     result (a float-subnormal x is below half the smallest half subnormal, so DAZ/FTZ give
  ///     the same 0);
  ///   otherwise: rebias the exponent, add 0x0FFF plus the lowest kept bit (ties to even), shift;
  ///     a carry out of the fraction correctly bumps the exponent (65520 .. 65535 become Inf).
  @inline(__always)
  package static func narrow(_ v: FloatLanes) -> SIMD16<UInt16> {
    let f = unsafeBitCast(v, to: SIMD16<UInt32>.self)
    let sign = f & 0x8000_0000
    let a = f ^ sign
    let denorm = unsafeBitCast(unsafeBitCast(a, to: FloatLanes.self) + FloatLanes(repeating: 0.5), to: SIMD16<UInt32>.self) &- 0x3F00_0000
    let odd = (a &>> 13) & 1
    let normal = (a &+ 0xC800_0FFF &+ odd) &>> 13  // 0xC8000FFF = (15 - 127) << 23 + 0xFFF (mod 2^32)
    var o = normal
    o.replace(with: denorm, where: a .< 0x3880_0000)
    var big = SIMD16<UInt32>(repeating: 0x7C00)
    big.replace(with: 0x7E00, where: a .> 0x7F80_0000)
    o.replace(with: big, where: a .>= 0x4780_0000)
    return SIMD16<UInt16>(truncatingIfNeeded: o | (sign &>> 16))
  }
}

/// bfloat16 in a UInt16: the upper half of a float32.
package enum BFloat16Element: RotaryElement {
  package typealias Bits = UInt16

  @inline(__always)
  package static func widen(_ v: SIMD16<UInt16>) -> FloatLanes {
    unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: v) &<< 16, to: FloatLanes.self)
  }

  /// Round to nearest even on the dropped 16 bits: add 0x7FFF plus the lowest kept bit. A carry
  /// into the exponent is the correct rounding (FLT_MAX becomes Inf); NaN is kept quiet
  /// (bit 6 set) so rounding cannot turn it into Inf.
  @inline(__always)
  package static func narrow(_ v: FloatLanes) -> SIMD16<UInt16> {
    let f = unsafeBitCast(v, to: SIMD16<UInt32>.self)
    var o = (f &+ 0x7FFF &+ ((f &>> 16) & 1)) &>> 16
    o.replace(with: (f &>> 16) | 0x0040, where: (f & 0x7FFF_FFFF) .> 0x7F80_0000)
    return SIMD16<UInt16>(truncatingIfNeeded: o)
  }
}

/// The element formats the C ABI accepts, for dispatch to the one generic kernel.
package enum ElementFormat: Sendable, CaseIterable {
  case float32, float16, bfloat16

  package var size: Int { self == .float32 ? 4 : 2 }
  package var name: String {
    switch self {
    case .float32: "f32"
    case .float16: "f16"
    case .bfloat16: "bf16"
    }
  }
}

/// Scalar conversions through the same lane code (used by tests and the benchmark).
package func float16Bits(_ x: Float) -> UInt16 { Float16Element.narrow(FloatLanes(repeating: x))[0] }
package func floatFromFloat16Bits(_ b: UInt16) -> Float { Float16Element.widen(SIMD16(repeating: b))[0] }
package func bfloat16Bits(_ x: Float) -> UInt16 { BFloat16Element.narrow(FloatLanes(repeating: x))[0] }
package func floatFromBFloat16Bits(_ b: UInt16) -> Float { BFloat16Element.widen(SIMD16(repeating: b))[0] }
