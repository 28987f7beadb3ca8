// The data of the fast per-position cos/sin rows (the generators themselves are in
// Sources/ResonanceRopeKernels/KernelAngles.swift), built once per handle:
//
// - Periodic table (Resonance pairs with integer period P <= 2^16, while the total fits
//   `budgetEntries`): the float32 (cos, sin) of every residue r of 2 pi r / P, bit-identical to
//   the exact path (`cosSinOfTurns(turns(...))`, double, rounded once). Filled by
//   `kernelFillPeriodic` (a recurrence in double over half the circle plus its mirror, with a
//   proof per value that it rounds like the exact path) and, for the ~0.1 % of values it cannot
//   decide, by the exact path itself. Residues are exact for every int64 m: with
//   m = m0 + 2^21 m1 + 2^42 m2 and R_j = 2^(21 j) mod P, x = m0 + m1 R1 + m2 R2 is an integer
//   below 2^38 in magnitude (exact in double), and x mod P follows (KernelAngles.swift).
// - Polynomial pairs: sigma_j = 2^(21 j) tau mod 1 split for exact products, and the steps
//   (cos j theta, sin j theta), j < anchorSpan, by the exact path.
import CKernelHints
import CLibc
import ResonanceRopeKernels

/// Largest period the periodic table takes.
let periodicMaxPeriod: Int64 = 1 << 16

/// Room for the periodic fill's list of undecided entries (about 0.1 % of a table are; more
/// than this falls back to a scan of the table).
@inline(__always)
func undecidedCapacity(_ total: Int) -> Int { total / 128 + 64 }

/// Immutable fast-angle data of one frequency table; owns one malloc'd block.
package final class FastAngles: @unchecked Sendable {  // immutable after init; memory freed in deinit
  let data: AngleData
  private let block: UnsafeMutableRawPointer

  /// The default cap of the periodic table: 2^19 entries (4 MiB), which holds every pair of
  /// d = 128, base 10000 (405898 entries + 960 of block padding, 3.1 MiB) and of d = 256,
  /// base 10000 up to its longest periods.
  package static let defaultBudgetEntries = 1 << 19

  /// Returns nil when malloc fails (the caller reports out-of-memory).
  /// A convenience init: malloc runs before the object exists, so a failure allocates nothing
  /// (Embedded Swift 6.3.1's partial-object deallocation does not free the object).
  /// `undecidedCapacity`: room for the fill's list of undecided entries (default
  /// `undecidedCapacity(total)`; tests pass 0 to take the scan).
  convenience init?(resonance: Bool, angles: [PairAngle], budgetEntries: Int, undecidedCapacity listCapacity: Int? = nil) {
    let h = angles.count
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
    let lanes = 8
    let n = (h + lanes - 1) / lanes * lanes + lanes
    // One block: 6 double arrays and an Int array (n each), 9 sigma arrays, 2 * anchorSpan step
    // arrays, the entries, then 2 Int32 arrays and the list of undecided entries. Sizes are
    // bounded: h <= 32768 and total <= budgetEntries, so the arithmetic cannot overflow.
    let capacity = min(max(listCapacity ?? Int.max, 0), undecidedCapacity(total))
    let bytes = 6 * n * 8 + n * 8 + 9 * n * 8 + 2 * anchorSpan * n * 8 + max(total, 1) * 8 + 2 * n * 4
      + capacity * 8
    guard let raw = malloc(bytes) else { return nil }
    self.init(block: raw, angles: angles, tablePairs: k, total: total, paddedPairs: n, undecidedCapacity: capacity)
  }

  /// Fills `raw` (the sizes `init?` computed) and takes ownership of it.
  private init(block raw: UnsafeMutableRawPointer, angles: [PairAngle], tablePairs k: Int, total: Int, paddedPairs n: Int,
               undecidedCapacity capacity: Int) {
    let h = angles.count
    block = raw
    var cursor = raw
    func take<T>(_ count: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
      let p = cursor.bindMemory(to: T.self, capacity: count)
      cursor += count * MemoryLayout<T>.stride
      return p
    }
    // Double and Int arrays first (8-byte aligned), then Float pairs, then Int32.
    let periodD = take(n, Double.self), r1 = take(n, Double.self), r2 = take(n, Double.self)
    let invPeriod = take(n, Double.self), offset = take(n, Int.self), offsetD = take(n, Double.self)
    let periods64 = take(n, Int64.self)
    let sigma = take(9 * n, Double.self)
    let stepCos = take(anchorSpan * n, Double.self), stepSin = take(anchorSpan * n, Double.self)
    let entries = take(max(total, 1), SIMD2<Float>.self)
    let period = take(n, Int32.self), blockStep = take(n, Int32.self)
    let undecided = take(capacity, SIMD2<Int32>.self)
    for i in 0 ..< n {
      periodD[i] = 1; r1[i] = 0; r2[i] = 0; invPeriod[i] = 1; offset[i] = 0; offsetD[i] = 0
      period[i] = 1; blockStep[i] = 0; periods64[i] = 1
    }
    sigma.initialize(repeating: 0, count: 9 * n)
    stepCos.initialize(repeating: 0, count: anchorSpan * n)
    stepSin.initialize(repeating: 0, count: anchorSpan * n)
    var off = 0
    for i in 0 ..< k {
      let p = angles[i].period
      period[i] = Int32(p)
      periods64[i] = p
      blockStep[i] = Int32(Int64(periodicBlock) % p)
      periodD[i] = Double(p)
      r1[i] = Double((1 << 21) % p)
      r2[i] = Double((1 << 42) % p)
      invPeriod[i] = 1 / Double(p)
      offset[i] = off
      offsetD[i] = Double(off)
      off += Int(p) + periodicBlock - 1
    }
    let found = Kernels.best.fillPeriodic(periods: periods64, offsets: offset, count: k, entries: entries,
                                          undecided: undecided, capacity: capacity)
    // Values the fill could not prove (NaN): by the exact path, then the pair's repeated block
    // again. From the fill's list, or, when it did not fit, by a scan of the table.
    @inline(__always) func fix(_ i: Int, _ r: Int) {
      let cs = cosSinOfTurns(angles[i].turns(position: Int64(r)))
      entries[offset[i] + r] = SIMD2(Float(cs.cos), Float(cs.sin))
    }
    @inline(__always) func repeatBlock(_ i: Int) {
      let p = Int(angles[i].period), e = entries + offset[i]
      for r in p ..< p + periodicBlock - 1 { e[r] = e[r % p] }
    }
    if found <= capacity {
      var last = -1
      for u in 0 ..< found {
        let i = Int(undecided[u].x)
        fix(i, Int(undecided[u].y))
        if i != last { if last >= 0 { repeatBlock(last) }; last = i }  // listed pair by pair
      }
      if last >= 0 { repeatBlock(last) }
    } else {
      for i in 0 ..< k {
        let p = Int(angles[i].period), e = entries + offset[i]
        var fixed = false
        for r in 0 ..< p where e[r].x.isNaN { fix(i, r); fixed = true }
        if fixed { repeatBlock(i) }
      }
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
      for j in 0 ..< anchorSpan {
        let cs = cosSinOfTurns(a.turns(position: Int64(j)))
        stepCos[j * n + i] = cs.cos
        stepSin[j * n + i] = cs.sin
      }
    }
    data = AngleData(cacheKey: rr_new_cache_key(), pairCount: h, tablePairs: k, paddedPairs: n, period: period, blockStep: blockStep, periodD: periodD,
                     r1: r1, r2: r2, invPeriod: invPeriod, offset: offset, offsetD: offsetD, entries: entries,
                     sigma: sigma, stepCos: stepCos, stepSin: stepSin)
  }

  deinit { free(block) }
}

extension FrequencyTable {
  /// Pairs served by the periodic table (when no magnitude factor applies).
  package var periodicTablePairs: Int { fast.data.tablePairs }

  /// The polynomial path's double values before rounding (test hook: accuracy vs the exact path).
  package func polynomialCosSin(pair i: Int, position m: Int64) -> (cos: Double, sin: Double) {
    ResonanceRopeKernels.kernelPolynomialCosSin(fast.data, pair: i, position: m)
  }

  /// The computed periodic-table value of pair i at residue r before rounding (test hook:
  /// accuracy vs the exact path; the kernels take it for positions in no order).
  package func computedTableCosSin(pair i: Int, residue r: Int64) -> (cos: Double, sin: Double) {
    ResonanceRopeKernels.kernelComputedTableCosSin(fast.data, pair: i, residue: r)
  }
}
