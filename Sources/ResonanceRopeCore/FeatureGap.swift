// The feature gap of Resonance RoPE (Wang et al. 2024, arXiv 2403.00071, §3, Eq. for h_i):
// how far an out-of-distribution position's RoPE feature lies from every feature seen in training.
//
//     f(m)_i = (cos(m theta_i), sin(m theta_i))
//     h_i    = max_{n in [L, L')} min_{m in [0, L)} |f(n)_i - f(m)_i|
//
// |f(n)_i - f(m)_i| is the chord 2 |sin(delta / 2)| of the circular angle difference delta, so
// with angles in turns (1 turn = 2 pi) and delta_t the circular distance in turns (<= 1/2),
// the chord is 2 sin(pi delta_t), increasing in delta_t: h_i = 2 sin(pi max_n min_m delta_t).
//
// Exactness: angles come from `FrequencyTable.turns(pair:position:)`, the exact angle reduced
// to [0, 1) in double-double (error ~1e-17 turns for positions < 2^53); differences are taken
// in double-double, so each gap is within a few 1e-16 of the exact value. Resonance pairs have
// angles (m mod P) / P exactly, so when P <= L every residue occurs in [0, L) and h_i = 0
// exactly (the paper's Theorem: no feature gap for pre-critical Resonance dimensions).
//
// Cost per pair: bucket-sort the L in-distribution angles into L equal buckets of [0, 1), then
// for each of the L' - L test positions find its circular neighbours inside its own bucket
// (a short scan, or a binary search in a crowded bucket): O(L + L') in practice,
// O((L + L') log L) at worst.
// Pair-level shortcuts, both exact: Resonance pairs with P <= L give 0 without any work; a pair
// whose angle never wraps before L' (turns(L'-1) < 1/2 with increasing angles) has its nearest
// training feature at m = L - 1 for every n, so h_i is the chord from L - 1 to L' - 1.
import CLibc

/// Per-pair feature gaps of one frequency table for training length L and test length L'.
package struct FeatureGapReport: Sendable, Equatable {
  package var trainLength: Int64
  package var testLength: Int64
  /// h_i for every pair i, in [0, 2] (chord lengths on the unit circle).
  package var gaps: [Double]
  /// The critical pair: the first pair whose wavelength 2 pi / theta_i (before Resonance
  /// rounding) is >= L, the pair form of the critical dimension of Liu et al. 2023
  /// (arXiv 2310.05209), d_extra = 2 ceil((d/2) log_base(L / 2 pi)), which Resonance RoPE §3
  /// uses to split dimensions into pre-critical (lambda_i < L) and post-critical ones.
  /// `pairCount` when every wavelength is below L.
  package var criticalPair: Int
  /// Pairs with lambda_i < L (before rounding), `FrequencyTable.preCriticalPairs`.
  package var preCriticalPairs: Int
  /// Pairs that repeat exactly within training: Resonance on and lambda~_i <= L (0 when off).
  /// Their gap is exactly 0.
  package var periodicPairs: Int

  /// The largest gap over all pairs (0 for an empty table).
  package var maxGap: Double { gaps.max() ?? 0 }
  /// The largest gap over the pre-critical pairs (lambda_i < L), where Resonance removes it.
  package var maxPreCriticalGap: Double { criticalPair == 0 ? 0 : gaps[0 ..< criticalPair].max() ?? 0 }
}

package enum FeatureGap {
  /// Largest training length: the scratch takes 48 bytes per training position (768 MiB at
  /// 2^24), kept well below what an allocation failure (which would trap) needs.
  package static let maxTrainLength: Int64 = 1 << 24
  /// Largest test length: the work is linear in L' - L (about 25 ns per position and pair in
  /// release on the development machine); no memory depends on it.
  package static let maxTestLength: Int64 = 1 << 40
}

/// Circular distance in turns (in [0, 1/2]) between two angles in [0, 1) given as double-doubles.
@inline(__always)
func _circularTurns(_ ah: Double, _ al: Double, _ bh: Double, _ bl: Double) -> Double {
  // ah - bh is exact when the two are within a factor 2 (Sterbenz); otherwise the error is far
  // below the lo terms' size and the distance is not small.
  let d = abs((ah - bh) + (al - bl))
  return min(d, 1 - d)
}

extension FrequencyTable {
  /// The feature gap of every pair for training length `trainLength` (L >= 1) and test length
  /// `testLength` (L' > L). Throws `.invalidValue` for L < 1 or L' <= L, `.overflow` for
  /// lengths above `FeatureGap.maxTrainLength` / `FeatureGap.maxTestLength`.
  package func featureGaps(trainLength: Int64, testLength: Int64) throws(RopeError) -> FeatureGapReport {
    guard trainLength >= 1 else { throw RopeError(.invalidValue, "train_length = \(trainLength): must be >= 1") }
    guard testLength > trainLength else {
      throw RopeError(.invalidValue, "test_length = \(testLength): must be > train_length = \(trainLength)")
    }
    guard trainLength <= FeatureGap.maxTrainLength else {
      throw RopeError(.overflow, "train_length = \(trainLength): must be <= 2^24")
    }
    guard testLength <= FeatureGap.maxTestLength else {
      throw RopeError(.overflow, "test_length = \(testLength): must be <= 2^40")
    }
    let h = pairCount
    var gaps = [Double](repeating: 0, count: h)
    let l = Int(trainLength)
    let scratch = _GapScratch(trainLength: l)
    defer { scratch.deallocate() }
    for i in 0 ..< h {
      gaps[i] = _pairGap(pair: i, trainLength: trainLength, testLength: testLength, scratch: scratch)
    }
    var critical = h
    for i in 0 ..< h where wavelengths[i] >= Double(trainLength) { critical = i; break }
    return FeatureGapReport(trainLength: trainLength, testLength: testLength, gaps: gaps, criticalPair: critical,
                            preCriticalPairs: preCriticalPairs(trainLength: trainLength),
                            periodicPairs: periodicPairs(trainLength: trainLength))
  }

  /// h_i for one pair.
  func _pairGap(pair i: Int, trainLength: Int64, testLength: Int64, scratch: _GapScratch) -> Double {
    let period = angles[i].period
    if period > 0 && period <= trainLength { return 0 }  // every residue is seen in training
    // No wrap before L' - 1: angles increase with position and all differences stay below 1/2,
    // so the nearest training angle to every n is that of L - 1, farthest at n = L' - 1.
    // (Periodic pairs have turns (m mod P)/P; the same holds when L' - 1 < P / 2.)
    let noWrap: Bool
    if period > 0 {
      noWrap = 2 * (testLength - 1) < period
    } else {
      // tau (L' - 1) < 1/2 in exact arithmetic (0.499 leaves room for rounding): the reduced
      // angle equals the unreduced one.
      noWrap = angles[i].turnsHi * Double(testLength - 1) < 0.499
    }
    if noWrap {
      let last = turns(pair: i, position: testLength - 1)
      let t = turns(pair: i, position: trainLength - 1)
      return 2 * sin(Double.pi * _circularTurns(last.hi, last.lo, t.hi, t.lo))
    }
    let l = Int(trainLength)
    let hi = scratch.hi, lo = scratch.lo, start = scratch.bucketStart
    let buckets = l, bd = Double(l)
    // Bucket sort of the training angles into [0, 1) cut in L equal buckets: counting pass,
    // prefix sums, scatter, then sort inside each bucket. Angles of a pair are close to
    // uniform on the circle (three-distance theorem) or, when they do not wrap, already in
    // order, so buckets hold O(1) entries or are already sorted: O(L) per pair in practice.
    // A bucket is found from hi alone; lo (< 1 ulp of hi) cannot move an angle across a
    // bucket edge by more than the clamp below absorbs, and comparisons use (hi, lo).
    @inline(__always) func bucket(_ x: Double) -> Int {
      let b = Int(x * bd)
      return b < 0 ? 0 : (b >= buckets ? buckets - 1 : b)
    }
    for b in 0 ... buckets { start[b] = 0 }
    for m in 0 ..< l {
      let t = turns(pair: i, position: Int64(m))
      scratch.rawHi[m] = t.hi
      scratch.rawLo[m] = t.lo
      start[bucket(t.hi) + 1] += 1
    }
    for b in 0 ..< buckets { start[b + 1] += start[b] }
    let fill = scratch.fill
    for b in 0 ..< buckets { fill[b] = start[b] }
    for m in 0 ..< l {
      let b = bucket(scratch.rawHi[m])
      let k = fill[b]
      hi[k] = scratch.rawHi[m]
      lo[k] = scratch.rawLo[m]
      fill[b] = k + 1
    }
    for b in 0 ..< buckets where start[b + 1] - start[b] > 1 {
      _sortBucket(hi: hi, lo: lo, from: start[b], to: start[b + 1])
    }
    var worst = 0.0
    var n = trainLength
    while n < testLength {
      let t = turns(pair: i, position: n)
      // Lower bound (first index with hi >= t.hi): everything in earlier buckets is smaller,
      // everything in later buckets is larger, so search only t's bucket.
      let b = bucket(t.hi)
      var a = start[b], e = start[b + 1]
      if e - a <= 8 {
        while a < e && hi[a] < t.hi { a += 1 }
      } else {
        while a < e {
          let mid = (a + e) >> 1
          if hi[mid] < t.hi { a = mid + 1 } else { e = mid }
        }
      }
      // Circular neighbours: a (or 0 when a == l) and a - 1 (or l - 1 when a == 0).
      let up = a == l ? 0 : a
      let down = a == 0 ? l - 1 : a - 1
      var d = min(_circularTurns(t.hi, t.lo, hi[up], lo[up]), _circularTurns(t.hi, t.lo, hi[down], lo[down]))
      // Equal hi parts with different lo parts can straddle the lower bound: check one more.
      if a + 1 < l && hi[a + 1] == t.hi { d = min(d, _circularTurns(t.hi, t.lo, hi[a + 1], lo[a + 1])) }
      if d > worst { worst = d }
      n += 1
    }
    return 2 * sin(Double.pi * worst)
  }
}

/// Sorts hi[from ..< to] (with lo alongside) by (hi, lo): insertion sort for the usual tiny or
/// already-ordered buckets, the standard library's sort for large unordered ones (angles that
/// cluster, e.g. wavelengths within a hair of a small rational).
func _sortBucket(hi: UnsafeMutablePointer<Double>, lo: UnsafeMutablePointer<Double>, from: Int, to: Int) {
  @inline(__always) func less(_ ah: Double, _ al: Double, _ bh: Double, _ bl: Double) -> Bool {
    ah < bh || (ah == bh && al < bl)
  }
  var sorted = true
  for k in from + 1 ..< to where less(hi[k], lo[k], hi[k - 1], lo[k - 1]) { sorted = false; break }
  if sorted { return }
  if to - from <= 32 {
    for k in from + 1 ..< to {
      let h = hi[k], l = lo[k]
      var j = k
      while j > from && less(h, l, hi[j - 1], lo[j - 1]) { hi[j] = hi[j - 1]; lo[j] = lo[j - 1]; j -= 1 }
      hi[j] = h; lo[j] = l
    }
    return
  }
  var items = (from ..< to).map { DoubleDouble(hi[$0], lo[$0]) }
  items.sort { less($0.hi, $0.lo, $1.hi, $1.lo) }
  for (k, x) in items.enumerated() { hi[from + k] = x.hi; lo[from + k] = x.lo }
}

/// Scratch for one `featureGaps` call, reused across pairs (freed by `deallocate`).
struct _GapScratch {
  let rawHi, rawLo, hi, lo: UnsafeMutablePointer<Double>
  let bucketStart, fill: UnsafeMutablePointer<Int>

  init(trainLength l: Int) {
    rawHi = .allocate(capacity: l); rawLo = .allocate(capacity: l)
    hi = .allocate(capacity: l); lo = .allocate(capacity: l)
    bucketStart = .allocate(capacity: l + 1); fill = .allocate(capacity: l)
  }

  func deallocate() {
    rawHi.deallocate(); rawLo.deallocate(); hi.deallocate(); lo.deallocate()
    bucketStart.deallocate(); fill.deallocate()
  }
}

/// RoPE and Resonance RoPE side by side: the same configuration with `resonance` off and on.
package func featureGapComparison(config: RopeConfig, trainLength: Int64, testLength: Int64)
  throws(RopeError) -> (rope: FeatureGapReport, resonance: FeatureGapReport) {
  var off = config
  off.resonance = false
  var on = config
  on.resonance = true
  let rope = try FrequencyTable(off).featureGaps(trainLength: trainLength, testLength: testLength)
  let res = try FrequencyTable(on).featureGaps(trainLength: trainLength, testLength: testLength)
  return (rope, res)
}
