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
// Periodic pairs (every pair under Resonance) are computed in closed form, O(1) per pair: with
// integer period P > L the training residues are exactly {0, ..., L - 1}, test position n has
// residue r = n mod P, and its nearest training residues are L - 1 and P (= 0), so the gap is
// that of the residue r in [L, min(L', P) - 1] farthest from both, found by integer arithmetic
// and evaluated with the same double-double distance the scan uses.
//
// Other pairs (no Resonance) are scanned: bucket-sort the L in-distribution angles into L equal
// buckets of [0, 1), then for each of the L' - L test positions find its circular neighbours
// inside its own bucket (a short scan, or a binary search in a crowded bucket): O(L + L') in
// practice, O((L + L') log L) at worst; the inputs are capped so that (d/2) L' <= 2^27.
// Pair-level shortcut, exact: a pair whose angle never wraps before L' (turns(L'-1) < 1/2 with
// increasing angles) has its nearest training feature at m = L - 1 for every n, so h_i is the
// chord from L - 1 to L' - 1.
import CLibc

/// Per-pair feature gaps of one frequency table for training length L and test length L'.
public struct FeatureGapReport: Sendable, Equatable {
  public var trainLength: Int64
  public var testLength: Int64
  /// h_i for every pair i, in [0, 2] (chord lengths on the unit circle).
  public var gaps: [Double]
  /// The critical pair: the first pair whose wavelength 2 pi / theta_i (before Resonance
  /// rounding) is >= L, the pair form of the critical dimension of Liu et al. 2023
  /// (arXiv 2310.05209), d_extra = 2 ceil((d/2) log_base(L / 2 pi)), which Resonance RoPE §3
  /// uses to split dimensions into pre-critical (lambda_i < L) and post-critical ones.
  /// `pairCount` when every wavelength is below L.
  public var criticalPair: Int
  /// Pairs with lambda_i < L (before rounding), `FrequencyTable.preCriticalPairs`.
  public var preCriticalPairs: Int
  /// Pairs that repeat exactly within training: Resonance on and lambda~_i <= L (0 when off).
  /// Their gap is exactly 0.
  public var periodicPairs: Int

  /// The largest gap over all pairs (0 for an empty table).
  public var maxGap: Double { gaps.max() ?? 0 }
  /// The largest gap over the pre-critical pairs (lambda_i < L), where Resonance removes it.
  public var maxPreCriticalGap: Double { criticalPair == 0 ? 0 : gaps[0 ..< criticalPair].max() ?? 0 }
}

public enum FeatureGap {
  /// Largest training length: a scanned pair takes 48 bytes of scratch per training position
  /// (768 MiB at 2^24, allocated fallibly, only when some pair is scanned).
  public static let maxTrainLength: Int64 = 1 << 24
  /// Largest test length (periodic pairs are O(1) whatever L').
  public static let maxTestLength: Int64 = 1 << 40
  /// Largest (rotary_dim / 2) * L' for a table without Resonance, whose pairs are scanned:
  /// about 25-50 ns per pair and position, so at most about 3-7 s on one core. It admits
  /// d = 128 up to L' = 2^21.
  public static let maxScanWork: Int64 = 1 << 27
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
  /// lengths above `FeatureGap.maxTrainLength` / `FeatureGap.maxTestLength` or, without
  /// Resonance, (d/2) L' above `FeatureGap.maxScanWork`, `.outOfMemory` when the scratch cannot
  /// be allocated. `progress(done, total)` is called after each scanned pair (total = pairs
  /// that need the scan; none under Resonance).
  public func featureGaps(trainLength: Int64, testLength: Int64,
                           progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws(RopeError) -> FeatureGapReport {
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
    guard config.resonance || Int64(h) * testLength <= FeatureGap.maxScanWork else {
      throw RopeError(.overflow, "(rotary_dim / 2) * test_length = \(h) * \(testLength): must be <= 2^27 without Resonance (the work of the scan)")
    }
    try requireMemory(bytes: h * 64, "the gaps of \(h) pairs")
    var gaps = [Double](repeating: 0, count: h)
    let scanned = (0 ..< h).filter { _needsScan(pair: $0, trainLength: trainLength, testLength: testLength) }
    if !scanned.isEmpty {
      let scratch = try _GapScratch(trainLength: Int(trainLength))
      for (done, i) in scanned.enumerated() {
        gaps[i] = _scannedGap(pair: i, trainLength: trainLength, testLength: testLength, scratch: scratch)
        progress?(done + 1, scanned.count)
      }
    }
    for i in 0 ..< h where !_needsScan(pair: i, trainLength: trainLength, testLength: testLength) {
      gaps[i] = _directGap(pair: i, trainLength: trainLength, testLength: testLength)
    }
    var critical = h
    for i in 0 ..< h where wavelengths[i] >= Double(trainLength) { critical = i; break }
    return FeatureGapReport(trainLength: trainLength, testLength: testLength, gaps: gaps, criticalPair: critical,
                            preCriticalPairs: preCriticalPairs(trainLength: trainLength),
                            periodicPairs: periodicPairs(trainLength: trainLength))
  }

  /// Circular distance in turns between the angles of positions a and b of pair i.
  @inline(__always)
  func _distance(pair i: Int, _ a: Int64, _ b: Int64) -> Double {
    let x = turns(pair: i, position: a), y = turns(pair: i, position: b)
    return _circularTurns(x.hi, x.lo, y.hi, y.lo)
  }

  /// Whether pair i needs the O(L + L') scan: not periodic, and its angle wraps before L'.
  func _needsScan(pair i: Int, trainLength: Int64, testLength: Int64) -> Bool {
    // tau (L' - 1) < 1/2 in exact arithmetic (0.499 leaves room for rounding): the reduced
    // angle equals the unreduced one, so angles increase with position and never wrap.
    angles[i].period == 0 && !(angles[i].turnsHi * Double(testLength - 1) < 0.499)
  }

  /// h_i in O(1) for a pair that needs no scan: periodic (closed form) or never wrapping.
  func _directGap(pair i: Int, trainLength l: Int64, testLength lp: Int64) -> Double {
    let p = angles[i].period
    if p == 0 {
      // No wrap: the nearest training angle to every n is that of L - 1, farthest at n = L' - 1.
      return 2 * sin(Double.pi * _distance(pair: i, lp - 1, l - 1))
    }
    if p <= l { return 0 }  // every residue is seen in training
    // Training residues {0 .. L - 1}; test residues r in [L, min(L', P) - 1] (n < P gives r = n,
    // and L' >= P reaches every residue). r is min(r - (L - 1), P - r) residues from training,
    // largest at r = (P + L - 1) / 2 or the end of the range when it stops before that.
    let last = min(lp, p) - 1
    let mid = (p + l - 1) / 2
    var worst = 0.0
    for r in [mid - 1, mid, mid + 1, last] where r >= l && r <= last {
      worst = max(worst, min(_distance(pair: i, r, l - 1), _distance(pair: i, r, 0)))
    }
    return 2 * sin(Double.pi * worst)
  }

  /// h_i for one pair by the scan (see the file comment).
  func _scannedGap(pair i: Int, trainLength: Int64, testLength: Int64, scratch: borrowing _GapScratch) -> Double {
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
  // Heapsort in place: O(n log n) and no allocation (the standard library's sort allocates).
  let n = to - from
  @inline(__always) func swap(_ a: Int, _ b: Int) {
    (hi[from + a], hi[from + b]) = (hi[from + b], hi[from + a])
    (lo[from + a], lo[from + b]) = (lo[from + b], lo[from + a])
  }
  func siftDown(_ root: Int, _ end: Int) {
    var r = root
    while 2 * r + 1 < end {
      var c = 2 * r + 1
      if c + 1 < end && less(hi[from + c], lo[from + c], hi[from + c + 1], lo[from + c + 1]) { c += 1 }
      guard less(hi[from + r], lo[from + r], hi[from + c], lo[from + c]) else { return }
      swap(r, c)
      r = c
    }
  }
  for root in stride(from: n / 2 - 1, through: 0, by: -1) { siftDown(root, n) }
  for end in stride(from: n - 1, to: 0, by: -1) {
    swap(0, end)
    siftDown(0, end)
  }
}

/// Scratch for one `featureGaps` call, reused across pairs: one checked malloc of 6L + 1 words.
struct _GapScratch: ~Copyable {
  let block: CheckedBuffer<UInt64>
  let rawHi, rawLo, hi, lo: UnsafeMutablePointer<Double>
  let bucketStart, fill: UnsafeMutablePointer<Int>

  init(trainLength l: Int) throws(RopeError) {
    block = try CheckedBuffer(count: 6 * l + 1, "the feature-gap scratch (48 bytes per training position, L = \(l))")
    let raw = UnsafeMutableRawPointer(block.base)
    func doubles(_ k: Int) -> UnsafeMutablePointer<Double> { (raw + 8 * k * l).bindMemory(to: Double.self, capacity: l) }
    rawHi = doubles(0); rawLo = doubles(1); hi = doubles(2); lo = doubles(3)
    bucketStart = (raw + 8 * 4 * l).bindMemory(to: Int.self, capacity: l + 1)
    fill = (raw + 8 * (5 * l + 1)).bindMemory(to: Int.self, capacity: l)
  }
}

/// RoPE and Resonance RoPE side by side: the same configuration with `resonance` off and on.
/// `progress` as in `featureGaps` (only the RoPE side is scanned).
public func featureGapComparison(config: RopeConfig, trainLength: Int64, testLength: Int64,
                                  progress: ((_ done: Int, _ total: Int) -> Void)? = nil)
  throws(RopeError) -> (rope: FeatureGapReport, resonance: FeatureGapReport) {
  var off = config
  off.resonance = false
  var on = config
  on.resonance = true
  let rope = try FrequencyTable(off).featureGaps(trainLength: trainLength, testLength: testLength, progress: progress)
  let res = try FrequencyTable(on).featureGaps(trainLength: trainLength, testLength: testLength)
  return (rope, res)
}
