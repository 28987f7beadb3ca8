// cos/sin caches.
import CResonanceRope
import ResonanceRopeCore

/// Checks a float output pointer: non-NULL and aligned.
func floatPointer(_ p: UnsafeMutablePointer<Float>?, _ name: String) throws(CallError) -> UnsafeMutablePointer<Float> {
  let p = try required(p, name)
  try requireAligned(UnsafePointer(p), name)
  return p
}

/// Checks positions for `count` (>= 0, checked by the caller) tokens: an explicit list (non-NULL)
/// or start + t without overflow.
func positionsArgument(_ list: UnsafePointer<Int64>?, start: Int64, count: Int64) throws(CallError) -> Positions {
  if let list {
    try requireAligned(list, "positions")
    return .list(list)
  }
  try core { () throws(RopeError) in try Positions.checkRange(start: start, count: count) }
  return .range(start: start)
}

/// Fills float32 cos/sin caches for `n_positions` positions: `positions[t]` when `positions`
/// is not NULL, else start_position + t (any int64, negative too). Layout and sizes: see
/// rr_table_layout (width = rotary_dim / 2 for RR_TABLE_LAYOUT_HALF, else rotary_dim;
/// each buffer holds n_positions * width floats; RR_TABLE_LAYOUT_VLLM writes cos_out only and
/// needs sin_out == NULL). `flags`: 0 or RR_ATTENTION_FACTOR (multiply by the handle's
/// attention factor, once, in double before rounding).
///
/// Precision: angles are exact: 2*pi * ((m mod lambda~_i) / lambda~_i) for Resonance pairs
/// (integer reduction first), else m * theta_i reduced mod 2*pi in double-double; cos and sin
/// are computed in double and rounded once: Resonance pairs with period <= 2^16 come from a
/// per-handle table of those values (bit-identical to computing them), other pairs from a
/// double polynomial on the exactly reduced angle (within 4e-14 of exact before rounding), so
/// a value may differ from the correctly rounded one by one float ulp, never by more. Every
/// value is within 1.2e-7 of the exact one for every int64 position (measured max 2.98e-8
/// against 320-bit mpmath, Tests/python/test_exactness.py). Thread-safe; writes only the outputs.
///
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER, RR_STATUS_UNKNOWN_ENUM (layout, flags),
/// RR_STATUS_INVALID_ARGUMENT (sin_out given for RR_TABLE_LAYOUT_VLLM), RR_STATUS_OVERFLOW
/// (n_positions < 0, n_positions * width or the position range overflows int64),
/// RR_STATUS_MISALIGNED (cos_out, sin_out, positions), RR_STATUS_OVERLAP (the bytes written to
/// cos_out and sin_out intersect each other or the n_positions positions). On error nothing is
/// written. Added in 0.1.0.
@c(rr_rope_cos_sin_f32) public func rrRopeCosSinF32(
  _ rope: OpaquePointer?, _ layout: Int32, _ flags: UInt32,
  _ positions: UnsafePointer<Int64>?, _ start_position: Int64, _ n_positions: Int64,
  _ cos_out: UnsafeMutablePointer<Float>?, _ sin_out: UnsafeMutablePointer<Float>?
) -> Status {
  guarded("rr_rope_cos_sin_f32") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    guard let tl = TableLayout(rawValue: layout) else {
      throw CallError(.unknownEnum, "layout = \(layout) is not an rr_table_layout")
    }
    guard flags & ~RR_ATTENTION_FACTOR == 0 else {
      throw CallError(.unknownEnum, "flags = \(flags): only RR_ATTENTION_FACTOR is defined here")
    }
    let c = try floatPointer(cos_out, "cos_out")
    var s: UnsafeMutablePointer<Float>? = nil
    if tl.usesSinBuffer {
      s = try floatPointer(sin_out, "sin_out")
    } else if sin_out != nil {
      throw CallError(.invalidArgument, "sin_out must be NULL for RR_TABLE_LAYOUT_VLLM (cos and sin share cos_out)")
    }
    guard n_positions >= 0 else { throw CallError(.overflow, "n_positions = \(n_positions): must be >= 0") }
    let pos = try positionsArgument(positions, start: start_position, count: n_positions)
    let (bytes, o) = n_positions.multipliedReportingOverflow(by: Int64(tl.rowWidth(pairs: t.pairCount)) * 4)
    guard !o else { throw CallError(.overflow, "n_positions * width * 4 bytes overflows int64") }
    try requireDisjoint(outputs: [ByteRange("cos_out", UnsafeRawPointer(c), bytes: bytes),
                                  ByteRange("sin_out", s.map { UnsafeRawPointer($0) }, bytes: bytes)],
                        inputs: [ByteRange("positions", positions, count: n_positions)])
    let scale = flags & RR_ATTENTION_FACTOR != 0 ? t.attentionFactor : 1
    try core { () throws(RopeError) in try t.fillTable(layout: tl, positions: pos, count: Int(n_positions), scale: scale, cos: c, sin: s) }
  }
}
