// Fast per-position cos/sin rows, within the accuracy bound of the exact path.
//
// Two generators, chosen per pair when the handle is created:
//
// 1. Periodic table (Resonance pairs with a small integer period P): the angle of position m is
//    2 pi (m mod P) / P, so the float32 (cos, sin) of every residue is computed once by the exact
//    path (`cosSinOfTurns(turns(...))`, double, rounded once) and looked up. Results are
//    bit-identical to the exact path. Memory is capped (`periodicBudgetEntries`, 8 bytes per
//    entry): pairs 0, 1, ... are taken while P <= 2^16 and the total fits. The residue is
//    exact for every int64 m: with m = m0 + 2^21 m1 + 2^42 m2 (m0, m1 in [0, 2^21),
//    m2 in [-2^21, 2^21)) and R_j = 2^(21 j) mod P, x = m0 + m1 R1 + m2 R2 is an integer with
//    |x| < 2^38, exact in double; q = round(x / P) and x - q P are exact too, and one
//    correction by P gives m mod P in [0, P). Consecutive positions cost one load per pair: the
//    cursor keeps, per pair, the entry index of the first position of a block of
//    `periodicBlock` consecutive positions, and position j of the block reads entry base + j
//    (each pair's entries run on for periodicBlock - 1 residues past P, wrapping around), so
//    the residues are stepped only once per block.
//    The table holds unscaled values, so it is used only when no magnitude factor applies
//    (scale == 1); the sign of sin (inverse rotation) is exact either way.
//
// 2. Vectorized double sin/cos (every other pair, and every pair when scale != 1). The angle in
//    turns, t = frac(m tau) with tau = theta / (2 pi) in double-double, is reduced exactly:
//    sigma_j = 2^(21 j) tau mod 1 in [-1/2, 1/2] (double-double, exact at creation), split
//    as A_j (top 31 bits of the high part) + B_j (its remaining 22 bits) + L_j (the low part), so
//    m_j A_j (21 + 31 bits) and m_j B_j (21 + 22 bits) are exact products and their fractions
//    exact; the sum t has an error of a few 1e-16 turns plus |m| * 2^-106 * tau from tau itself
//    (below 1e-13 turns for every int64 m). Resonance pairs use tau = 1 / P in double-double.
//    Then q = round(4 t), u = t - q / 4 in [-1/8, 1/8] (exact), and Taylor polynomials in u with
//    the (2 pi)^k / k! factors folded in: sin to u^15 (truncation < 5e-17), cos to u^16
//    (< 3e-18); Horner rounding adds a few 1e-16. Measured max |error| vs the exact double path:
//    Tests/ResonanceRopeCoreTests/KernelTests.swift measures 3.3e-14 over random int64 positions
//    (at the largest |m|, where tau's own error shows in both paths),
//    far below the 1e-9 this path may spend before float32 rounding (bound 1.2e-7).
//    No FMA anywhere: Swift never fuses, so portable and native builds give the same bits, and
//    baseline x86-64 has no FMA instruction (`addingProduct` would be a libm call).
//    Rounding to an integer uses the 1.5 * 2^52 trick (exact for |x| <= 2^51; every argument
//    here is below 2^22) because baseline x86-64 (SSE2) has no roundpd: `.rounded()` on a SIMD
//    vector becomes one libm call per lane there.
import CLibc

/// Lanes of the double-precision generator.
typealias DoubleLanes = SIMD8<Double>

/// Largest period the periodic table takes.
let periodicMaxPeriod: Int64 = 1 << 16

/// Consecutive positions served from one cursor base (see the file comment).
let periodicBlock = 16

/// Coefficients of sin(2 pi u) = u * sum S_k u^(2k), S_k = (-1)^k (2 pi)^(2k+1) / (2k+1)!, and of
/// cos(2 pi u) = sum C_k u^(2k), C_k = (-1)^k (2 pi)^(2k) / (2k)! (nearest doubles, from mpmath).
private let sinCoefficients: [Double] = [
  6.283185307179586, -41.34170224039976, 81.60524927607506, -76.70585975306139,
  42.058693944897655, -15.09464257682299, 3.819952584848282, -0.7181223017785006,
]
private let cosCoefficients: [Double] = [
  1.0, -19.739208802178716, 64.9393940226683, -85.45681720669373, 60.24464137187666,
  -26.4262567833744, 7.903536371318469, -1.714390711088672, 0.28200596845579123,
]

/// A vector of `x` in every lane.
@inline(__always)
func _v(_ x: Double) -> DoubleLanes { DoubleLanes(repeating: x) }

/// round(x) to the nearest integer (ties to even) for |x| <= 2^51, without roundpd.
@inline(__always)
func _roundSmall(_ x: DoubleLanes) -> DoubleLanes {
  let magic = _v(6755399441055744.0)  // 1.5 * 2^52
  return (x + magic) - magic
}

@inline(__always)
func _roundSmall(_ x: Double) -> Double {
  (x + 6755399441055744.0) - 6755399441055744.0
}

/// k[0] + z (k[1] + z (k[2] + ...)), Horner's rule from the highest coefficient down.
@inline(__always)
func _horner(_ z: DoubleLanes, _ k: [Double]) -> DoubleLanes {
  var r = DoubleLanes(repeating: k[k.count - 1])
  for i in stride(from: k.count - 2, through: 0, by: -1) { r = r * z + k[i] }
  return r
}

/// cos(2 pi t), sin(2 pi t) for |t| <= 2^50 turns given exactly (see the file comment).
@inline(__always)
func _cosSinTurns(_ t: DoubleLanes) -> (cos: DoubleLanes, sin: DoubleLanes) {
  let q = _roundSmall(t * 4)
  let u = t - q * 0.25  // exact: t and q / 4 are within 1/8 of each other
  let z = u * u
  let s = _horner(z, sinCoefficients) * u
  let c = _horner(z, cosCoefficients)
  // Quadrant q in -2 ... 2 (|t| <= 1/2): 0 -> (c, s), 1 -> (-s, c), +-2 -> (-c, -s),
  // -1 -> (s, -c). As exact arithmetic (SIMD comparisons and lane selects are scalar loops in
  // Swift 6.3): odd = q^2 (4 - q^2) / 3 is 1 for q = +-1, else 0; a = (1 - odd)(1 - q^2 / 2)
  // and b = odd * q are in {-1, 0, 1}, so a c - b s and a s + b c are one value plus an exact 0.
  let q2 = q * q
  let odd = q2 * (4 - q2) / 3  // 0 * 4 / 3, 1 * 3 / 3, 4 * 0 / 3: exact
  let a = (1 - odd) * (1 - q2 * 0.5), b = odd * q
  let co = a * c - b * s, si = a * s + b * c
  return (co, si)
}

/// Immutable fast-angle data of one frequency table; owns one malloc'd block.
package final class FastAngles: @unchecked Sendable {  // immutable after init; memory freed in deinit
  let pairCount: Int
  /// Pairs [0, tablePairs) come from the periodic table when scale == 1.
  let tablePairs: Int
  /// Pairs rounded up to whole DoubleLanes blocks, plus one block so unaligned block loads
  /// starting at any pair stay inside the arrays.
  let paddedPairs: Int
  // Table pairs: period, periodicBlock mod P, 2^21 mod P, 2^42 mod P, 1 / P (doubles), entry offset.
  let period: UnsafeMutablePointer<Int32>
  let blockStep: UnsafeMutablePointer<Int32>
  let periodD: UnsafeMutablePointer<Double>
  let r1: UnsafeMutablePointer<Double>
  let r2: UnsafeMutablePointer<Double>
  let invPeriod: UnsafeMutablePointer<Double>
  let offset: UnsafeMutablePointer<Int>
  let offsetD: UnsafeMutablePointer<Double>
  /// (cos, sin) of every residue of every table pair, then of residues 0 ..< periodicBlock - 1
  /// again (pair i: entries offset[i] ..< offset[i] + P + periodicBlock - 1).
  let entries: UnsafeMutablePointer<SIMD2<Float>>
  /// Polynomial pairs: A_j, B_j, L_j for j = 0, 1, 2 (nine arrays of paddedPairs doubles).
  let sigma: UnsafeMutablePointer<Double>
  private let block: UnsafeMutableRawPointer

  /// The default cap of the periodic table: 2^19 entries (4 MiB), which holds every pair of
  /// d = 128, base 10000 (405898 entries + 960 of block padding, 3.1 MiB) and of d = 256,
  /// base 10000 up to its longest periods.
  package static let defaultBudgetEntries = 1 << 19

  /// Returns nil when malloc fails (the caller reports out-of-memory).
  init?(resonance: Bool, angles: [PairAngle], budgetEntries: Int) {
    let h = angles.count
    pairCount = h
    // Choose the table prefix.
    var k = 0, total = 0
    if resonance {
      for i in 0 ..< h {
        let p = angles[i].period
        let n = Int(p) + periodicBlock - 1
        guard p >= 1, p <= periodicMaxPeriod, total + n <= budgetEntries else { break }
        total += n
        k += 1
      }
    }
    tablePairs = k
    let lanes = DoubleLanes.scalarCount
    paddedPairs = (h + lanes - 1) / lanes * lanes + lanes
    // One block: Int32 periods, 4 double arrays and an Int array for table pairs (k each, padded
    // to paddedPairs), 9 sigma arrays, then the entries. Sizes are bounded: h <= 32768 and
    // total <= budgetEntries, so the arithmetic cannot overflow.
    let n = paddedPairs
    let bytes = 2 * n * 4 + 5 * n * 8 + n * 8 + 9 * n * 8 + max(total, 1) * 8
    guard let raw = malloc(bytes) else { return nil }
    block = raw
    var cursor = raw
    func take<T>(_ count: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
      let p = cursor.bindMemory(to: T.self, capacity: count)
      cursor += count * MemoryLayout<T>.stride
      return p
    }
    // Double and Int arrays first (8-byte aligned), then Int32, then Float pairs.
    periodD = take(n, Double.self)
    r1 = take(n, Double.self)
    r2 = take(n, Double.self)
    invPeriod = take(n, Double.self)
    offset = take(n, Int.self)
    offsetD = take(n, Double.self)
    sigma = take(9 * n, Double.self)
    entries = take(max(total, 1), SIMD2<Float>.self)
    period = take(n, Int32.self)
    blockStep = take(n, Int32.self)
    for i in 0 ..< n {
      periodD[i] = 1; r1[i] = 0; r2[i] = 0; invPeriod[i] = 1; offset[i] = 0; offsetD[i] = 0; period[i] = 1; blockStep[i] = 0
    }
    sigma.initialize(repeating: 0, count: 9 * n)
    var off = 0
    for i in 0 ..< k {
      let p = angles[i].period
      period[i] = Int32(p)
      blockStep[i] = Int32(Int64(periodicBlock) % p)
      periodD[i] = Double(p)
      r1[i] = Double((1 << 21) % p)
      r2[i] = Double((1 << 42) % p)
      invPeriod[i] = 1 / Double(p)
      offset[i] = off
      offsetD[i] = Double(off)
      for r in 0 ..< Int(p) {
        let cs = cosSinOfTurns(angles[i].turns(position: Int64(r)))
        entries[off + r] = SIMD2(Float(cs.cos), Float(cs.sin))
      }
      for r in Int(p) ..< Int(p) + periodicBlock - 1 { entries[off + r] = entries[off + r % Int(p)] }
      off += Int(p) + periodicBlock - 1
    }
    for i in 0 ..< h {
      let a = angles[i]
      var tau: DoubleDouble
      if a.period > 0 {
        let p = Double(a.period)
        let hi = 1 / p
        tau = DoubleDouble(hi, (1.0).addingProduct(-hi, p) / p)  // fma residual 1 - hi*P is exact
      } else {
        tau = DoubleDouble(a.turnsHi, a.turnsLo)
      }
      for j in 0 ..< 3 {
        let scale = Double(sign: .plus, exponent: 21 * j, significand: 1)
        let sh = tau.hi * scale, sl = tau.lo * scale  // exact: powers of two
        // Centred fractions x - round(x) are exact for every double x (x - floor(x) is not for a
        // tiny negative x: 1 + x rounds), and the pair sum is brought back into [-1/2, 1/2].
        var s = DoubleDouble.twoSum(sh - sh.rounded(.toNearestOrEven), sl - sl.rounded(.toNearestOrEven))
        if s.hi > 0.5 { s = DoubleDouble.twoSum(s.hi - 1, s.lo) }
        if s.hi < -0.5 { s = DoubleDouble.twoSum(s.hi + 1, s.lo) }
        let aBits = s.hi.bitPattern & ~UInt64((1 << 22) - 1)  // keep 1 + 30 significand bits
        let aj = Double(bitPattern: aBits)
        sigma[(3 * j) * n + i] = aj
        sigma[(3 * j + 1) * n + i] = s.hi - aj  // exact, <= 22 significant bits
        sigma[(3 * j + 2) * n + i] = s.lo
      }
    }
  }

  deinit { free(block) }

  /// Entry indices offset[i] + (m mod P_i) of table pairs [from, from + 8), as exact integers
  /// in doubles, branch-free, exact for every Int64 m (see the file comment): x = m0 + m1 R1 +
  /// m2 R2 is exact (|x| < 2^38), r = x - round(x / P) P is exact and in [-P/2 - 1, P/2 + 1]
  /// (x / P is rounded once), and round(r / P - 1/2) is -1 for r < 0 and 0 for r >= 0 (every
  /// P >= 1; ties go to even), so r - that * P is m mod P in [0, P). Lanes past the table pairs
  /// give 0. (Vectorized: the scalar form cost ~8 ns per pair, 0.80 of the memory pass for a
  /// prefill at an array of random positions.)
  @inline(__always)
  func entryIndices(from i: Int, m0: DoubleLanes, m1: DoubleLanes, m2: DoubleLanes) -> DoubleLanes {
    @inline(__always) func ld(_ a: UnsafeMutablePointer<Double>) -> DoubleLanes {
      UnsafeRawPointer(a + i).loadUnaligned(as: DoubleLanes.self)  // i + 8 <= paddedPairs
    }
    let p = ld(periodD), inv = ld(invPeriod)
    let x = m0 + m1 * ld(r1) + m2 * ld(r2)  // |x| < 2^38: exact
    let r = x - _roundSmall(x * inv) * p
    let q = _roundSmall(r * inv - _v(0.5))
    return (r - q * p) + ld(offsetD)
  }

  /// Writes cos(2 pi t_i) * scale and sin(2 pi t_i) * scale * sinSign, rounded once to float,
  /// for pairs [from, pairCount) by the polynomial. Writes whole blocks of 8: the outputs must
  /// have room for `paddedPairs` floats.
  @inline(__always)
  func polynomialRow(position m: Int64, from: Int, scale: Double, sinScale: Double,
                     cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    let m0 = _v(Double(m & 0x1F_FFFF)), m1 = _v(Double((m &>> 21) & 0x1F_FFFF)), m2 = _v(Double(m &>> 42))
    let scaleV = _v(scale), sinScaleV = _v(sinScale)
    let n = paddedPairs
    let sg = UnsafeRawPointer(sigma)
    var i = from
    while i < pairCount {
      @inline(__always) func ld(_ array: Int) -> DoubleLanes {
        sg.loadUnaligned(fromByteOffset: (array * n + i) * 8, as: DoubleLanes.self)
      }
      // Fractions of the exact products m_j * A_j (each below 2^21 in magnitude).
      let p0 = m0 * ld(0), p1 = m1 * ld(3), p2 = m2 * ld(6)
      var t = (p0 - _roundSmall(p0)) + (p1 - _roundSmall(p1)) + (p2 - _roundSmall(p2))
      t = t + ((m0 * ld(1) + m1 * ld(4) + m2 * ld(7)) + (m0 * ld(2) + m1 * ld(5) + m2 * ld(8)))
      t = t - _roundSmall(t)
      let (c, s) = _cosSinTurns(t)
      let cd = c * scaleV, sd = s * sinScaleV
      // Vector conversion: Swift 6.3 calls its specialized SIMD8<Float>(SIMD8<Double>) out of
      // line (cvtpd2ps inside); converting lane by lane instead made LLVM scalarize the whole
      // polynomial (mulsd, no mulpd: plain-RoPE prefill 0.59 of the memory pass, now 0.84).
      UnsafeMutableRawPointer(cos + i).storeBytes(of: SIMD8<Float>(cd), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(sin + i).storeBytes(of: SIMD8<Float>(sd), as: SIMD8<Float>.self)
      i += DoubleLanes.scalarCount
    }
  }
}

/// Per-thread generator state: per table pair, the entry index of the first position of the
/// current block of consecutive positions (`base`), and the place of the last position in that
/// block (`phase`), so that consecutive positions cost one load per pair.
package struct AngleCursor {
  var base: UnsafeMutablePointer<Int32>
  var phase: Int
  var last: Int64
  var valid: Bool
}

extension FrequencyTable {
  /// Floats each row buffer (cos or sin) needs: the pair count rounded up for whole-block writes.
  package var rowCapacity: Int { fast.paddedPairs + FloatLanes.scalarCount }

  /// Int32 scratch entries one `AngleCursor` needs.
  package var cursorCapacity: Int { max(fast.tablePairs, 1) }

  /// Pairs served by the periodic table (when no magnitude factor applies).
  package var periodicTablePairs: Int { fast.tablePairs }

  package func makeCursor(storage: UnsafeMutablePointer<Int32>) -> AngleCursor {
    AngleCursor(base: storage, phase: 0, last: 0, valid: false)
  }

  /// cos and sin of every pair at position m, times `scale` (sin also times `sinSign`, +1 or -1),
  /// rounded once to float: the fast path (see FastAngles.swift). `cos` and `sin` need
  /// `rowCapacity` floats each. Within 1.2e-7 of exact for every int64 m; pairs from the
  /// periodic table (scale == 1) are bit-identical to `cosSin(pair:position:)` rounded.
  @inline(__always)
  package func fastCosSinRow(position m: Int64, scale: Double, sinSign: Float, cursor: inout AngleCursor,
                             cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    let f = fast
    var from = 0
    if scale == 1 && f.tablePairs > 0 {
      let k = f.tablePairs
      let base = cursor.base
      let offset = f.offset, entries = f.entries
      if cursor.valid && m == cursor.last &+ 1 && m != Int64.min {
        cursor.phase &+= 1
        if cursor.phase == periodicBlock {  // next block: residue + periodicBlock mod P
          let period = f.period, step = f.blockStep
          for i in 0 ..< k {
            let o = Int32(truncatingIfNeeded: offset[i])  // < 2^20
            var r = base[i] &- o &+ step[i]  // < 2P
            if r >= period[i] { r &-= period[i] }
            base[i] = o &+ r
          }
          cursor.phase = 0
        }
      } else {
        let m0 = _v(Double(m & 0x1F_FFFF)), m1 = _v(Double((m &>> 21) & 0x1F_FFFF)), m2 = _v(Double(m &>> 42))
        var i = 0
        while i < k {
          // Exact integers below 2^20: + 2^52 puts them in the low bits of the double.
          let bits = unsafeBitCast(f.entryIndices(from: i, m0: m0, m1: m1, m2: m2) + _v(0x1p52), to: SIMD8<UInt64>.self)
          for l in 0 ..< min(DoubleLanes.scalarCount, k &- i) {
            base[i &+ l] = Int32(truncatingIfNeeded: bits[l])
          }
          i &+= DoubleLanes.scalarCount
        }
        cursor.phase = 0
      }
      let j = cursor.phase
      for i in 0 ..< k {
        let e = entries[Int(base[i]) &+ j]  // base + j < offset + P + periodicBlock - 1
        cos[i] = e.x
        sin[i] = e.y * sinSign
      }
      cursor.last = m
      cursor.valid = true
      from = k
    }
    if from < f.pairCount {
      f.polynomialRow(position: m, from: from, scale: scale, sinScale: scale * Double(sinSign), cos: cos, sin: sin)
    }
  }

  /// The polynomial path's double values before rounding (test hook: accuracy vs the exact path).
  package func polynomialCosSin(pair i: Int, position m: Int64) -> (cos: Double, sin: Double) {
    let n = fast.paddedPairs
    let m0 = Double(m & 0x1F_FFFF), m1 = Double((m &>> 21) & 0x1F_FFFF), m2 = Double(m &>> 42)
    var lanes = [Double](repeating: 0, count: 9)
    for a in 0 ..< 9 { lanes[a] = fast.sigma[a * n + i] }
    func pr(_ mj: Double, _ a: Double) -> Double { let p = mj * a; return p - _roundSmall(p) }
    var t = pr(m0, lanes[0]) + pr(m1, lanes[3]) + pr(m2, lanes[6])
    t = t + ((m0 * lanes[1] + m1 * lanes[4] + m2 * lanes[7]) + (m0 * lanes[2] + m1 * lanes[5] + m2 * lanes[8]))
    t = t - _roundSmall(t)
    let (c, s) = _cosSinTurns(DoubleLanes(repeating: t))
    return (c[0], s[0])
  }
}
