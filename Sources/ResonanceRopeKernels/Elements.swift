// Storage formats of rotated elements: float32, IEEE half (float16) and bfloat16, converted to and
// from float32 sixteen lanes at a time with integer bit operations only.
//
// Why not Float16 / F16C: on baseline x86-64 (SSE2) `Float(Float16)` and `Float16(Float)` are
// calls into compiler-rt (__extendhfsf2, __truncsfhf2) per element; the bit-level conversions
// below vectorize with SSE2 and give the same results (tested exhaustively against Float16 for
// every half and against a float64 reference for rounding). They are also exact under a host's
// flush-to-zero / denormals-are-zero mode: no arithmetic here has a subnormal float operand
// except the one whose result is flushed to the correct value anyway (see `Float16Element`).

import CKernelHints

/// Float lanes of the kernels: a block of 2L elements is handled as two halves of L lanes. L = 8
/// in the baseline copy (two xmm per half) and the x86-64-v3 copy (one ymm); L = 16 in the
/// x86-64-v4 copy (one zmm: AVX-512 halves the instructions per element, which is what bounds a
/// 16-bit prefill on CPUs whose caches outrun one 256-bit core). `WordHalf`: the same bits as
/// 32-bit integers (the software 16-bit conversions).
#if RR_KERNEL_AVX512
typealias FloatHalf = SIMD16<Float>
typealias WordHalf = SIMD16<UInt32>
#else
typealias FloatHalf = SIMD8<Float>
typealias WordHalf = SIMD8<UInt32>
#endif

/// L: lanes of one half (`FloatHalf`).
@inline(__always) var halfLanes: Int { FloatHalf.scalarCount }

/// One element storage format: how a block of 2L consecutive elements becomes two float32
/// halves of L lanes and back. Narrowing rounds to nearest, ties to even; NaN stays NaN (quiet),
/// infinities stay infinite.
///
/// 16-bit formats load the block as L 32-bit words, each holding elements 2k (low half) and
/// 2k + 1 (high half), and convert the words' high and low halves in place. So their halves are
/// (even elements, odd elements) (`interleavedHalves`): exactly the x and y of gptj pairs, and a
/// fixed permutation of the block for neox (the cos/sin rows get the same permutation). This
/// avoids any 16 <-> 32-bit lane conversion (`SIMD16<UInt32>(truncatingIfNeeded:)` is an
/// out-of-line generic call in Swift 6.3 and made the kernel 60x slower).
protocol RotaryElement {
  associatedtype Bits
  static var interleavedHalves: Bool { get }
  static func load(_ p: UnsafePointer<Bits>) -> (FloatHalf, FloatHalf)
  static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<Bits>)
}

extension RotaryElement {
  /// The first `n` (< 2L) elements, the rest 0; same conversion as full blocks, so tails round
  /// exactly like the body.
  @inline(__always)
  static func load(_ p: UnsafePointer<Bits>, count n: Int) -> (FloatHalf, FloatHalf) {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: _blockWords) { tmp in
      let raw = UnsafeMutableRawPointer(tmp.baseAddress!)
      raw.initializeMemory(as: UInt64.self, repeating: 0, count: _blockWords)
      raw.copyMemory(from: p, byteCount: n &* MemoryLayout<Bits>.stride)
      return load(raw.assumingMemoryBound(to: Bits.self))
    }
  }

  @inline(__always)
  static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<Bits>, count n: Int) {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: _blockWords) { tmp in
      let raw = UnsafeMutableRawPointer(tmp.baseAddress!)
      store(a, b, raw.bindMemory(to: Bits.self, capacity: 2 &* halfLanes))
      UnsafeMutableRawPointer(p).copyMemory(from: raw, byteCount: n &* MemoryLayout<Bits>.stride)
    }
  }
}

/// 64-bit words of a block of 2L float32 elements (the tails' temporary).
@inline(__always) private var _blockWords: Int { 2 &* MemoryLayout<FloatHalf>.size / 8 }

@inline(__always) private func _words(_ p: UnsafeRawPointer) -> WordHalf { p.loadUnaligned(as: WordHalf.self) }

// Lane masks by integer arithmetic: Swift 6.3 lowers SIMD comparisons (`.<`) and
// `replace(with:where:)` on SIMD8<UInt32> to a scalar loop over the lanes (measured: the f16
// kernel ran at 0.05 GB/s); subtract, shift, and, or stay vector instructions.

/// All ones in lanes where a < k, else 0; requires a, k < 2^31 (the difference's sign bit).
@inline(__always) func _maskLess(_ a: WordHalf, _ k: UInt32) -> WordHalf {
  WordHalf(repeating: 0) &- ((a &- k) &>> 31)
}

/// x where mask is all ones, y where it is 0.
@inline(__always) func _select(_ mask: WordHalf, _ x: WordHalf, _ y: WordHalf) -> WordHalf {
  (x & mask) | (y & ~mask)
}

/// float32: stored as is; halves are elements 0 ..< L and L ..< 2L.
enum Float32Element: RotaryElement {
  typealias Bits = Float
  static var interleavedHalves: Bool { false }
  @inline(__always) static func load(_ p: UnsafePointer<Float>) -> (FloatHalf, FloatHalf) {
    let r = UnsafeRawPointer(p)
    return (r.loadUnaligned(as: FloatHalf.self), r.loadUnaligned(fromByteOffset: MemoryLayout<FloatHalf>.size, as: FloatHalf.self))
  }
  @inline(__always) static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<Float>) {
    let r = UnsafeMutableRawPointer(p)
    r.storeBytes(of: a, as: FloatHalf.self)
    r.storeBytes(of: b, toByteOffset: MemoryLayout<FloatHalf>.size, as: FloatHalf.self)
  }
}

/// IEEE 754 binary16 in a UInt16 (1 sign, 5 exponent, 10 fraction bits).
enum Float16Element: RotaryElement {
  typealias Bits = UInt16
  static var interleavedHalves: Bool { true }

  /// Exact widening of halves held in the high 16 bits of each word (low bits zero), after
  /// F. Giesen's "half_to_float_fast4": a normal half's exponent and fraction moved to float
  /// position (>> 3 here, << 13 from the low half) with 112 added to the exponent is the float;
  /// a subnormal half mant * 2^-24 is obtained as (2^-14 + mant * 2^-24) - 2^-14, both normal
  /// floats, so the subtraction is exact and a host's DAZ mode cannot touch it; exponent 31
  /// (Inf/NaN) gets the float exponent 255, payload kept.
  @inline(__always)
  static func widenHigh(_ w: WordHalf) -> FloatHalf {
    let em = w & 0x7FFF_0000
    let shifted = em &>> 3
    let sub = unsafeBitCast(shifted &+ 0x3880_0000, to: FloatHalf.self) - FloatHalf(repeating: 0x1p-14)
    var bits = shifted &+ 0x3800_0000  // exponent + (127 - 15) << 23
    bits = _select(_maskLess(em, 0x0400_0000), unsafeBitCast(sub, to: WordHalf.self), bits)
    bits = _select(_maskLess(em, 0x7C00_0000), bits, shifted | 0x7F80_0000)
    return unsafeBitCast(bits | (w & 0x8000_0000), to: FloatHalf.self)
  }

  /// Rounding to nearest even, result in the low 16 bits (F. Giesen, "float_to_half_fast3_rtne"):
  ///   |x| >= 65536 (float bits >= 0x4780_0000): Inf, or quiet NaN 0x7E00 for NaN;
  ///   |x| < 2^-14 (half subnormals): x + 0.5 in float rounds the fraction to the half
  ///     subnormal grid 2^-24 by the FPU's own round-to-nearest-even; the low bits are the
  ///     result (a float-subnormal x is below half the smallest half subnormal, so DAZ/FTZ give
  ///     the same 0);
  ///   otherwise: rebias the exponent, add 0x0FFF plus the lowest kept bit (ties to even), shift;
  ///     a carry out of the fraction correctly bumps the exponent (65520 .. 65535 become Inf).
  @inline(__always)
  static func narrowLow(_ v: FloatHalf) -> WordHalf {
    let f = unsafeBitCast(v, to: WordHalf.self)
    let sign = f & 0x8000_0000
    let a = f ^ sign
    let denorm = unsafeBitCast(unsafeBitCast(a, to: FloatHalf.self) + FloatHalf(repeating: 0.5), to: WordHalf.self) &- 0x3F00_0000
    let odd = (a &>> 13) & 1
    var o = (a &+ 0xC800_0FFF &+ odd) &>> 13  // 0xC8000FFF = (15 - 127) << 23 + 0xFFF (mod 2^32)
    o = _select(_maskLess(a, 0x3880_0000), denorm, o)
    let big = 0x7C00 | (~_maskLess(a, 0x7F80_0001) & 0x0200)  // Inf, or 0x7E00 for NaN
    o = _select(_maskLess(a, 0x4780_0000), o, big)
    return o | (sign &>> 16)
  }

  @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> (FloatHalf, FloatHalf) {
    let w = _words(p)
    return (widenHigh(w &<< 16), widenHigh(w & 0xFFFF_0000))
  }
  @inline(__always) static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<UInt16>) {
    UnsafeMutableRawPointer(p).storeBytes(of: narrowLow(a) | (narrowLow(b) &<< 16), as: WordHalf.self)
  }
}

/// bfloat16 in a UInt16: the upper half of a float32.
enum BFloat16Element: RotaryElement {
  typealias Bits = UInt16
  static var interleavedHalves: Bool { true }

  /// Round to nearest even on the dropped 16 bits: add 0x7FFF plus the lowest kept bit. A carry
  /// into the exponent is the correct rounding (FLT_MAX becomes Inf); NaN is kept quiet
  /// (bit 6 set) so rounding cannot turn it into Inf. Result in the low 16 bits.
  @inline(__always)
  static func narrowLow(_ v: FloatHalf) -> WordHalf {
    let f = unsafeBitCast(v, to: WordHalf.self)
    let o = (f &+ 0x7FFF &+ ((f &>> 16) & 1)) &>> 16
    return _select(_maskLess(f & 0x7FFF_FFFF, 0x7F80_0001), o, (f &>> 16) | 0x0040)
  }

  @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> (FloatHalf, FloatHalf) {
    let w = _words(p)
    return (unsafeBitCast(w &<< 16, to: FloatHalf.self), unsafeBitCast(w & 0xFFFF_0000, to: FloatHalf.self))
  }
  @inline(__always) static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<UInt16>) {
    UnsafeMutableRawPointer(p).storeBytes(of: narrowLow(a) | (narrowLow(b) &<< 16), as: WordHalf.self)
  }
}


#if RR_KERNEL_AVX2
/// IEEE half with F16C (the x86-64-v3 and x86-64-v4 copies are compiled for CPUs that have it):
/// vcvtph2ps widens exactly, vcvtps2ph rounds to nearest even, the same results as
/// `Float16Element` (tested bit for bit, NaN payloads aside: both keep NaN a quiet NaN). Halves
/// are elements 0 ..< L and L ..< 2L, as for float32.
enum Float16F16CElement: RotaryElement {
  typealias Bits = UInt16
  static var interleavedHalves: Bool { false }
  @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> (FloatHalf, FloatHalf) {
    (_f16cLoad(p), _f16cLoad(p + halfLanes))
  }
  @inline(__always) static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<UInt16>) {
    _f16cStore(p, a)
    _f16cStore(p + halfLanes, b)
  }
}

/// One half (L values) through F16C: the only width-specific part of `Float16F16CElement`.
#if RR_KERNEL_AVX512
@inline(__always) private func _f16cLoad(_ p: UnsafePointer<UInt16>) -> FloatHalf { rr_f16c_load16(p) }
@inline(__always) private func _f16cStore(_ p: UnsafeMutablePointer<UInt16>, _ x: FloatHalf) { rr_f16c_store16(p, x) }
#else
@inline(__always) private func _f16cLoad(_ p: UnsafePointer<UInt16>) -> FloatHalf { rr_f16c_load8(p) }
@inline(__always) private func _f16cStore(_ p: UnsafeMutablePointer<UInt16>, _ x: FloatHalf) { rr_f16c_store8(p, x) }
#endif

/// bfloat16 with AVX2 (the x86-64-v3 and v4 copies): the software element's layout
/// (interleaved halves: one load, a shift and a mask widen 2L values; gptj pairs are
/// lane-wise) and its rounding, stored without a pack, NaN repaired only in blocks that hold one
/// (`rr_bf16_store16i`, `rr_bf16_store32i` for L = 16). cachegrind, 32-token prefill: 2.37 -> 2.14 (neox), 2.48 -> 2.19 (gptj)
/// instructions per element against the element-order halves and a pack per 16; callgrind
/// 2026-12-04, the halves joined by one word blend instead of a mask and an or: 1.957 -> 1.863
/// (neox), 2.149 -> 2.087 (gptj), and a 4096-token prefill (32 MiB; AMD EPYC Zen 5, one process)
/// 1888-1991 -> 1755-1857 us (neox), 1952-2050 -> 1742-1786 us (gptj).
enum BFloat16AVX2Element: RotaryElement {
  typealias Bits = UInt16
  static var interleavedHalves: Bool { true }
  @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> (FloatHalf, FloatHalf) { BFloat16Element.load(p) }
  @inline(__always) static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<UInt16>) {
#if RR_KERNEL_AVX512
    rr_bf16_store32i(p, a, b)
#else
    rr_bf16_store16i(p, a, b)
#endif
  }
}

#if RR_KERNEL_AVX512
/// bfloat16 through AVX512-BF16 (the x86-64-v4 copy on CPUs that have it, `kernelRotateBF16`):
/// `BFloat16AVX2Element`'s layout and loads, stored by one rounding instruction and one lane
/// permutation (`rr_bf16_store32ne`), the same bits.
enum BFloat16NativeElement: RotaryElement {
  typealias Bits = UInt16
  static var interleavedHalves: Bool { true }
  @inline(__always) static func load(_ p: UnsafePointer<UInt16>) -> (FloatHalf, FloatHalf) { BFloat16Element.load(p) }
  @inline(__always) static func store(_ a: FloatHalf, _ b: FloatHalf, _ p: UnsafeMutablePointer<UInt16>) {
    rr_bf16_store32ne(p, a, b)
  }
}
#endif
#endif

/// The 16-bit elements this copy rotates with: F16C / AVX2 in the x86-64-v3 and v4 copies, the integer-SIMD
/// software elements in the baseline copy (the same results, tested bit for bit).
#if RR_KERNEL_AVX2
typealias HalfElement = Float16F16CElement
typealias BF16Element = BFloat16AVX2Element
#else
typealias HalfElement = Float16Element
typealias BF16Element = BFloat16Element
#endif

/// Scalar conversions through the lane code (tests and the benchmark use them through the core).
package func kernelFloat16Bits(_ x: Float) -> UInt16 { UInt16(truncatingIfNeeded: Float16Element.narrowLow(FloatHalf(repeating: x))[0]) }
package func kernelFloatFromFloat16Bits(_ b: UInt16) -> Float { Float16Element.widenHigh(WordHalf(repeating: UInt32(b) << 16))[0] }
package func kernelBFloat16Bits(_ x: Float) -> UInt16 { UInt16(truncatingIfNeeded: BFloat16Element.narrowLow(FloatHalf(repeating: x))[0]) }
