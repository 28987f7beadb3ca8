// In-place rotation of q/k buffers.
import CResonanceRope
import ResonanceRopeCore

let rotationSize = UInt32(MemoryLayout<rr_rotation>.size)

/// Fills `rotation` with the defaults of version 0.1.0: struct_size = sizeof(rr_rotation),
/// flags 0, no k, token_begin 0, token_end -1 (all tokens), n_threads 0, everything else 0 or
/// NULL. NULL does nothing. Added in 0.1.0.
@c(rr_rotation_init) public func rrRotationInit(_ rotation: UnsafeMutablePointer<rr_rotation>?) {
  guard let rotation else { return }
  var r = rr_rotation()
  r.struct_size = rotationSize
  r.token_end = -1
  rotation.pointee = r
}

/// A fully validated rotation, ready for the kernel: it carries its own pointers, so nothing
/// reads the caller's struct again after validation.
struct ValidatedRotation {
  var q: HeadBuffer
  var k: HeadBuffer?
  var positions: Positions
  var tokens: Range<Int>
  var inverse: Bool
  var attention: Bool
  var threads: Int
}

/// Validates an rr_rotation for a handle and an element size; all checks use checked arithmetic.
func validateRotation(_ r: rr_rotation, _ t: FrequencyTable, elementSize: Int) throws(CallError) -> ValidatedRotation {
  try requireStructHeader("rotation", size: r.struct_size, expected: rotationSize,
                          reservedZero: isZero(r.reserved0) && isZero(r.reserved), hint: " (call rr_rotation_init)")
  guard r.flags & ~(RR_ROTATE_INVERSE | RR_ATTENTION_FACTOR) == 0 else {
    throw CallError(.unknownEnum, "rotation->flags = \(r.flags): unknown bits")
  }
  guard r.n_threads >= 0 else { throw CallError(.invalidArgument, "rotation->n_threads = \(r.n_threads): must be >= 0") }
  let n = r.n_tokens
  guard n >= 0 else { throw CallError(.overflow, "rotation->n_tokens = \(n): must be >= 0") }
  let begin = r.token_begin, end = r.token_end == -1 ? n : r.token_end
  guard begin >= 0, begin <= end, end <= n else {
    throw CallError(.invalidArgument, "token range [\(begin), \(r.token_end)) is not inside [0, n_tokens = \(n)] (token_end -1 means n_tokens)")
  }
  let dim = t.config.headDim
  let q = ViewArgument(base: try required(r.q, "rotation->q"), capacity: nil,
                       geometry: HeadGeometry(heads: r.q_heads, tokenStride: r.q_token_stride, headStride: r.q_head_stride), name: "q")
  let k = r.k.map { ViewArgument(base: $0, capacity: nil,
                                 geometry: HeadGeometry(heads: r.k_heads, tokenStride: r.k_token_stride, headStride: r.k_head_stride), name: "k") }
  let c = try core { () throws(RopeError) in
    try checkRotation(q: q, k: k, tokens: n, headDim: dim, elementSize: elementSize,
                      positions: r.positions, listCapacity: nil, start: r.start_position)
  }
  return ValidatedRotation(
    q: c.q, k: c.k, positions: c.positions, tokens: Int(begin) ..< Int(end),
    inverse: r.flags & RR_ROTATE_INVERSE != 0, attention: r.flags & RR_ATTENTION_FACTOR != 0,
    threads: Int(r.n_threads))
}

/// Validates and runs one in-place rotation of the given element format.
private func applyInplace(_ function: StaticString, _ format: ElementFormat, _ rope: OpaquePointer?,
                          _ rotation: UnsafePointer<rr_rotation>?) -> Status {
  guarded(function) { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    let v = try validateRotation(try required(rotation, "rotation").pointee, t, elementSize: format.size)
    try core { () throws(RopeError) in
      try t.rotate(format: format, q: v.q, k: v.k, tokens: v.tokens, positions: v.positions, inverse: v.inverse,
                   applyAttentionFactor: v.attention, threads: v.threads)
    }
  }
}

/// Rotates float32 q (and k) in place. For token t at position m (rotation->positions[t], or
/// start_position + t) every head's pair i (see rr_layout) is rotated by the angle a = m *
/// theta_i (exact; see rr_rope_cos_sin_f32), or by -a with RR_ROTATE_INVERSE:
///
///     x' = x cos a - y sin a,   y' = y cos a + x sin a     (times the attention factor with
///                                                           RR_ATTENTION_FACTOR)
///
/// Elements rotary_dim .. head_dim - 1 of each head are not touched. cos/sin are computed once
/// per token (in double, rounded to float; the same values rr_rope_cos_sin_f32 gives) and reused
/// for every head of q and k; the rotation itself is float32 arithmetic without FMA, so results
/// do not depend on the build (portable or native SIMD) or on n_threads. Only tokens
/// [token_begin, token_end) are processed, so an engine can split one call across its own
/// threads (positions are still indexed by absolute token number). n_threads > 1 runs that
/// range on the caller's thread and n_threads - 1 threads created and joined inside the call (at
/// most 256 in all, at most one per token), each taking the next run of consecutive tokens until
/// none is left, so a thread that starts late does less (worth it for prefill-sized calls, not
/// for decode). With glibc those threads may run on any CPU the process may use but the one the
/// caller is on when it creates them (so they are not queued behind the caller); if a thread
/// cannot be created the others do its share. Thread-safe for distinct
/// buffers; the handle is only read. The calling thread keeps the last row of angles it computed
/// by polynomial (pairs without Resonance or with periods past the table) and where its last
/// position stands in the periodic table (2.5 KiB of thread-local storage in all), which the next
/// calls at nearby positions (the next decode token, every layer at one position) reuse: the
/// values are the same either way. A call that needs at most 8 KiB of
/// scratch (one token at d <= 256) allocates nothing: the scratch is on the caller's stack.
/// Calls whose rows do not fit in one core's L2 cache read them with or without a software
/// prefetch, as the process measured on this CPU: its first such calls time batches of tokens
/// each way (a few microseconds each; 15 each way per element type and per one thread or more),
/// keep the prefetch only where it is faster, and learn it again every 1024 batches of tokens
/// (4 calls of 4096 tokens on one thread). Only the speed can differ: the values are
/// the same either way.
///
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER (rope, rotation, rotation->q),
/// RR_STATUS_STRUCT_SIZE (struct_size, reserved fields), RR_STATUS_UNKNOWN_ENUM (flags),
/// RR_STATUS_OVERFLOW (n_tokens < 0, q_heads < 1, k_heads < 1 when k is set, spans or
/// positions overflowing int64), RR_STATUS_INVALID_STRIDE (negative strides, rows that
/// overlap), RR_STATUS_OVERLAP (the byte extents of q and k intersect, q/k views into one fused
/// qkv row with the same token stride and disjoint per-token footprints excepted; or the
/// n_tokens positions lie inside the byte extent of q or k),
/// RR_STATUS_MISALIGNED (q, k, positions), RR_STATUS_INVALID_ARGUMENT (token range,
/// n_threads < 0). On error nothing is written. Added in 0.1.0.
@c(rr_rope_apply_f32_inplace) public func rrRopeApplyF32Inplace(_ rope: OpaquePointer?, _ rotation: UnsafePointer<rr_rotation>?) -> Status {
  applyInplace("rr_rope_apply_f32_inplace", .float32, rope, rotation)
}

/// rr_rope_apply_f32_inplace for IEEE 754 binary16 (half) buffers, each element a uint16_t bit
/// pattern (1 sign, 5 exponent, 10 fraction bits; _Float16 / __fp16 / numpy float16 storage).
/// Strides are in elements (2 bytes); q and k must be 2-byte aligned. Each element is widened
/// exactly to float32, rotated in float32 exactly as in rr_rope_apply_f32_inplace, and rounded
/// once back to half, to nearest with ties to even (overflow gives infinity, NaN stays a quiet
/// NaN). The result is the float32 result correctly rounded to half. The conversions use F16C
/// when the CPU has it (checked at run time) and integer SIMD otherwise: the same results either
/// way (a NaN's payload aside). Same statuses, threading and guarantees as
/// rr_rope_apply_f32_inplace. Added in 0.1.0.
@c(rr_rope_apply_f16_inplace) public func rrRopeApplyF16Inplace(_ rope: OpaquePointer?, _ rotation: UnsafePointer<rr_rotation>?) -> Status {
  applyInplace("rr_rope_apply_f16_inplace", .float16, rope, rotation)
}

/// rr_rope_apply_f32_inplace for bfloat16 buffers, each element a uint16_t holding the upper 16
/// bits of a float32 (__bf16 / torch.bfloat16 storage). Strides are in elements (2 bytes); q and
/// k must be 2-byte aligned. Elements are widened exactly to float32, rotated in float32 exactly
/// as in rr_rope_apply_f32_inplace, and rounded once back to bfloat16, to nearest with ties to
/// even (NaN stays a quiet NaN). The conversions use AVX2 when the CPU has it (checked at run
/// time) and SSE2 otherwise, with the same results. Same statuses, threading and guarantees as
/// rr_rope_apply_f32_inplace. Added in 0.1.0.
@c(rr_rope_apply_bf16_inplace) public func rrRopeApplyBF16Inplace(_ rope: OpaquePointer?, _ rotation: UnsafePointer<rr_rotation>?) -> Status {
  applyInplace("rr_rope_apply_bf16_inplace", .bfloat16, rope, rotation)
}
