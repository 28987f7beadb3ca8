// Creating, inspecting and freeing rr_rope handles.
import CResonanceRope
import ResonanceRopeCore

let paramsSize = UInt32(MemoryLayout<rr_rope_params>.size)
let infoSize = UInt32(MemoryLayout<rr_rope_info>.size)

/// Fills `params` with the defaults of version 0.1.0: struct_size = sizeof(rr_rope_params),
/// rotary_dim = 0 (must be set), head_dim = 0 (= rotary_dim), base = 10000, RR_LAYOUT_NEOX,
/// Resonance off, RR_SCALING_NONE, attention_factor = 0 (from the scaling), beta_fast = 32,
/// beta_slow = 1, truncate = 1, everything else 0 or NULL. NULL does nothing. Added in 0.1.0.
@c(rr_rope_params_init) public func rrRopeParamsInit(_ params: UnsafeMutablePointer<rr_rope_params>?) {
  guard let params else { return }
  var p = rr_rope_params()
  p.struct_size = paramsSize
  p.base = 10000
  p.beta_fast = 32
  p.beta_slow = 1
  p.truncate = 1
  params.pointee = p
}

private func optionalPositive(_ x: Double) -> Double? { x == 0 ? nil : x }
private func optionalCount(_ x: Int64) -> Int64? { x == 0 ? nil : x }

/// Converts validated C parameters into a core configuration.
func ropeConfig(_ p: rr_rope_params) throws(CallError) -> RopeConfig {
  try requireStructHeader("params", size: p.struct_size, expected: paramsSize,
                          reservedZero: isZero(p.reserved0) && isZero(p.reserved), hint: " (call rr_rope_params_init)")
  guard let layout = PairLayout(rawValue: p.layout) else {
    throw CallError(.unknownEnum, "params->layout = \(p.layout) is not an rr_layout")
  }
  guard let kind = ScalingKind(rawValue: p.scaling) else {
    throw CallError(.unknownEnum, "params->scaling = \(p.scaling) is not an rr_scaling")
  }
  guard p.rotary_dim > 0, p.rotary_dim % 2 == 0, Int(p.rotary_dim) <= RopeConfig.maxDim else {
    throw CallError(.invalidDimension, "params->rotary_dim = \(p.rotary_dim): must be even, > 0 and <= \(RopeConfig.maxDim)")
  }
  let half = Int64(p.rotary_dim) / 2
  // Counts first, for every array (0 = rotary_dim / 2, the 0.1.0 meaning): a wrong count is
  // refused before any array is read, whether or not the scaling reads that array.
  for (name, count) in [("short_factor", p.short_factor_count), ("long_factor", p.long_factor_count),
                        ("freq_factors", p.freq_factors_count)] where count != 0 && count != half {
    throw CallError(.invalidDimension, "params->\(name)_count = \(count): must be rotary_dim / 2 = \(half) (or 0, meaning that)")
  }
  func array(_ ptr: UnsafePointer<Double>?, _ name: String) throws(CallError) -> [Double] {
    let ptr = try required(ptr, "params->\(name)")
    try requireAligned(ptr, "params->\(name)")
    return Array(UnsafeBufferPointer(start: ptr, count: Int(half)))
  }
  var f = ScalingFields(kind: kind)
  f.factor = optionalPositive(p.factor)
  f.originalMaxPositions = optionalCount(p.original_max_position)
  f.maxPositions = optionalCount(p.max_position)
  f.sequenceLength = optionalCount(p.sequence_length)
  f.betaFast = p.beta_fast
  f.betaSlow = p.beta_slow
  f.mscale = optionalPositive(p.mscale)
  f.mscaleAllDim = optionalPositive(p.mscale_all_dim)
  f.lowFreqFactor = p.low_freq_factor
  f.highFreqFactor = p.high_freq_factor
  guard p.truncate == 0 || p.truncate == 1 else {
    throw CallError(.invalidValue, "params->truncate = \(p.truncate): must be 0 or 1")
  }
  f.truncate = p.truncate != 0
  switch kind {
  case .longrope:
    f.shortFactor = try array(p.short_factor, "short_factor")
    f.longFactor = try array(p.long_factor, "long_factor")
  case .freqFactors:
    f.freqFactors = try array(p.freq_factors, "freq_factors")
  default:
    break
  }
  guard p.factor.isFinite, p.factor >= 0 else {
    throw CallError(.invalidValue, "params->factor = \(p.factor): must be finite and > 0 (0 = not set)")
  }
  // 0 means "from the scaling"; any other value is the final factor, checked by the core's one
  // rule (finite, > 0, <= FLT_MAX) together with a derived one.
  let scaling = try core { () throws(RopeError) in try f.makeScaling() }
  return RopeConfig(
    rotaryDim: Int(p.rotary_dim), headDim: p.head_dim == 0 ? Int(p.rotary_dim) : Int(p.head_dim),
    base: p.base, resonance: p.resonance != 0, layout: layout, scaling: scaling,
    attentionFactor: optionalPositive(p.attention_factor))
}

/// The table behind a handle, without retaining it (the caller owns the handle for the call).
@inline(__always)
func table(_ rope: OpaquePointer) -> FrequencyTable {
  Unmanaged<FrequencyTable>.fromOpaque(UnsafeRawPointer(rope)).takeUnretainedValue()
}

/// Creates an immutable RoPE handle from `params` and stores it in `*out_rope`.
///
/// Frequencies are computed in double: theta_i = base^(-2i/d) for pair i < d/2, then the
/// scaling; with params->resonance, every wavelength lambda_i = 2*pi/theta_i is rounded to the
/// nearest integer lambda~_i (at least 1) and theta~_i = 2*pi/lambda~_i (Resonance RoPE,
/// Wang et al. 2024, arXiv 2403.00071, eq. 4). Arrays passed by pointer are copied: nothing is
/// kept after return. Release the handle with rr_rope_free(). Thread-safe.
///
/// Every value the handle reports is finite and nonzero in its output type: a handle whose
/// float32 inverse frequencies (rr_rope_inv_freq_f32) would round to 0 or infinity, whose
/// Resonance factors (rr_rope_resonance_freq_factors) would overflow float, or whose final
/// attention factor (params->attention_factor, or the one the scaling derives, e.g. YaRN's
/// mscale / mscale_all_dim ratio) is not finite, > 0 and <= FLT_MAX, is refused.
///
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER (params, out_rope, or a factor array the
/// scaling needs), RR_STATUS_STRUCT_SIZE (struct_size, reserved fields),
/// RR_STATUS_UNKNOWN_ENUM (layout, scaling), RR_STATUS_INVALID_DIMENSION (rotary_dim,
/// head_dim, a nonzero short_factor_count / long_factor_count / freq_factors_count other than
/// rotary_dim / 2, rotary_dim 2 with ntk or dynamic), RR_STATUS_INVALID_VALUE
/// (base, factor, the final attention factor, truncate, beta_fast/beta_slow, mscale,
/// low/high_freq_factor, a factor array entry, negative max_position / original_max_position /
/// sequence_length, a parameter the scaling needs left 0, a scaled base or wavelength that
/// overflows, a float32 inverse frequency or Resonance factor that would be 0 or infinite, a
/// wavelength >= 2^53 under Resonance), RR_STATUS_MISALIGNED (a factor array not aligned to 8
/// bytes), RR_STATUS_OVERLAP (*out_rope inside *params), RR_STATUS_UNSUPPORTED,
/// RR_STATUS_OUT_OF_MEMORY (memory is checked before it is used: about 512 bytes per pair for
/// the per-pair arrays, and a float32 cos/sin table of the Resonance pairs with period <= 2^16,
/// at most 4 MiB, for the fast kernels; no allocation failure aborts, short of another thread
/// taking the memory just proven free). On error *out_rope is left unchanged. Added in 0.1.0.
@c(rr_rope_create) public func rrRopeCreate(
  _ params: UnsafePointer<rr_rope_params>?, _ out_rope: UnsafeMutablePointer<OpaquePointer?>?
) -> Status {
  guarded("rr_rope_create") { () throws(CallError) in
    let params = try required(params, "params")
    let result = try required(out_rope, "out_rope")
    let config = try ropeConfig(params.pointee)
    try requireDisjoint(outputs: [ByteRange("out_rope", result, count: 1)],
                        inputs: [ByteRange("params", params, count: 1)])
    try createHandle(config, result)
  }
}

/// Releases a handle from rr_rope_create(). NULL does nothing. The handle must not be in use
/// by another thread. Added in 0.1.0.
@c(rr_rope_free) public func rrRopeFree(_ rope: OpaquePointer?) {
  guard let rope else { return }
  Unmanaged<FrequencyTable>.fromOpaque(UnsafeRawPointer(rope)).release()
}

/// Describes a handle: dimensions, layout, scaling, base, the attention factor that
/// RR_ATTENTION_FACTOR applies, and YaRN's correction range (NaN when none).
/// Set info->struct_size = sizeof(rr_rope_info) first. Thread-safe.
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER, RR_STATUS_STRUCT_SIZE. Added in 0.1.0.
@c(rr_rope_get_info) public func rrRopeGetInfo(_ rope: OpaquePointer?, _ info: UnsafeMutablePointer<rr_rope_info>?) -> Status {
  guarded("rr_rope_get_info") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    let out = try required(info, "info")
    try requireStructHeader("info", size: out.pointee.struct_size, expected: infoSize)
    var r = rr_rope_info()
    r.struct_size = infoSize
    r.rotary_dim = Int32(t.config.rotaryDim)
    r.head_dim = Int32(t.config.headDim)
    r.pair_count = Int32(t.pairCount)
    r.layout = t.config.layout.rawValue
    r.resonance = t.config.resonance ? 1 : 0
    r.scaling = t.config.scaling.kind.rawValue
    r.base = t.config.base
    r.attention_factor = t.attentionFactor
    r.correction_low = t.correctionRange?.low ?? .nan
    r.correction_high = t.correctionRange?.high ?? .nan
    out.pointee = r
  }
}
