// Error-free transformations (Knuth's two-sum, the fma two-product) used to keep angles exact.
// References: Dekker, "A floating-point technique for extending the available precision" (1971);
// Muller et al., "Handbook of Floating-Point Arithmetic", ch. 4.

/// An unevaluated sum hi + lo with |lo| <= ulp(hi) / 2.

struct DoubleDouble: Sendable {
  var hi: Double
  var lo: Double

  init(_ hi: Double, _ lo: Double = 0) {
    self.hi = hi
    self.lo = lo
  }

  /// Exact sum of two doubles (Knuth): a + b == s + e exactly.
  @inline(__always)
  static func twoSum(_ a: Double, _ b: Double) -> DoubleDouble {
    let s = a + b
    let bb = s - a
    let e = (a - (s - bb)) + (b - bb)
    return DoubleDouble(s, e)
  }

  /// Exact product of two doubles: a * b == p + e exactly (barring underflow).
  @inline(__always)
  static func twoProduct(_ a: Double, _ b: Double) -> DoubleDouble {
    let p = a * b
    return DoubleDouble(p, (-p).addingProduct(a, b))
  }

  /// Adds a double, keeping about 106 bits.
  @inline(__always)
  func adding(_ x: Double) -> DoubleDouble {
    let s = DoubleDouble.twoSum(hi, x)
    return DoubleDouble.twoSum(s.hi, s.lo + lo)
  }
}

/// 2*pi as a sum of three doubles (each the nearest double to what remains), so that
/// products with it stay exact to about 2^-160 relative.
/// C1 = 6.283185307179586 (0x401921FB54442D18), C2 = 2.4492935982947064e-16, C3 = -5.989539619436679e-33.
let twoPiHi: Double = 6.283185307179586
let twoPiMid: Double = 2.4492935982947064e-16
let twoPiLo: Double = -5.989539619436679e-33
