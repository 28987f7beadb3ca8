// The out-of-distribution feature gap of each pair (Wang et al. 2024, Section 4).
import CResonanceRope
import ResonanceRopeCore

let gapSummarySize = UInt32(MemoryLayout<rr_gap_summary>.size)

/// The feature gap of every pair for training length L = `train_length` and test length
/// L' = `test_length` > L: for pair i,
///
///     gap_i = max over n in [L, L') of min over m in [0, L) of |f(n)_i - f(m)_i|
///
/// with f(m)_i = (cos a_i(m), sin a_i(m)) and a_i the handle's exact angle (rr_rope_cos_sin_f32),
/// so the distance is the chord 2 |sin(delta / 2)| of the angle difference. Exact. Work:
/// under Resonance every pair is periodic and computed in closed form from its integer period,
/// O(rotary_dim) whatever L and L', no scratch. Without Resonance each pair whose angle wraps
/// before L' is scanned (angles sorted by bucketing, nearest neighbours of every test position):
/// O(L + L') time per pair (about 25-50 ns per pair and position: L = 32768, L' = 131072,
/// d = 128 takes about 0.4 s) and 48 bytes of scratch per training position, so the inputs are
/// capped at (rotary_dim / 2) * L' <= 2^27 (a few seconds at most; d = 128 up to L' = 2^21). Under Resonance every pair
/// with lambda~_i <= L has gap exactly 0.
/// Writes rotary_dim / 2 gaps (dimensionless, in [0, 2]) to `gaps` (`capacity` elements) and,
/// when `summary` is not NULL (its struct_size set), the critical pair, counts and maxima.
/// Thread-safe. Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER (rope, gaps), RR_STATUS_STRUCT_SIZE
/// (summary->struct_size), RR_STATUS_INVALID_VALUE (L < 1, L' <= L), RR_STATUS_OVERFLOW
/// (L > 2^24, L' > 2^40, or without Resonance (rotary_dim / 2) * L' > 2^27: the caps on the
/// work), RR_STATUS_BUFFER_TOO_SMALL (capacity < rotary_dim / 2), RR_STATUS_MISALIGNED (gaps,
/// summary), RR_STATUS_OVERLAP (the rotary_dim / 2 gaps and *summary overlap),
/// RR_STATUS_OUT_OF_MEMORY (the scratch, up to 768 MiB at L = 2^24, is malloc'd and checked).
/// On error nothing is written. Added in 0.1.0.
@c(rr_rope_feature_gap) public func rrRopeFeatureGap(
  _ rope: OpaquePointer?, _ train_length: Int64, _ test_length: Int64,
  _ gaps: UnsafeMutablePointer<Double>?, _ capacity: Int64, _ summary: UnsafeMutablePointer<rr_gap_summary>?
) -> Status {
  guarded("rr_rope_feature_gap") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    let out = try required(gaps, "gaps")
    try requireAligned(UnsafePointer(out), "gaps")
    guard capacity >= Int64(t.pairCount) else {
      throw CallError(.bufferTooSmall, "capacity = \(capacity): gaps needs rotary_dim / 2 = \(t.pairCount) elements")
    }
    if let s = summary {
      try requireAligned(UnsafePointer(s), "summary")
      try requireStructHeader("summary", size: s.pointee.struct_size, expected: gapSummarySize)
    }
    try requireDisjoint(outputs: [ByteRange("gaps", out, count: Int64(t.pairCount)), ByteRange("summary", summary, count: 1)])
    let report = try core { () throws(RopeError) in try t.featureGaps(trainLength: train_length, testLength: test_length) }
    out.update(from: report.gaps, count: report.gaps.count)
    if let s = summary {
      var r = rr_gap_summary()
      r.struct_size = gapSummarySize
      r.critical_pair = Int32(report.criticalPair)
      r.pre_critical_pairs = Int32(report.preCriticalPairs)
      r.periodic_pairs = Int32(report.periodicPairs)
      r.max_gap = report.maxGap
      r.max_pre_critical_gap = report.maxPreCriticalGap
      s.pointee = r
    }
  }
}
