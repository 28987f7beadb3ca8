// Frequencies, wavelengths and pair analysis of a handle.
import ResonanceRopeCore

/// Writes the handle's rotary_dim / 2 per-pair values `value(i)` into a caller buffer of
/// `capacity` elements after checking it is aligned and fits (no allocation).
func copyOut<U>(_ t: FrequencyTable, _ out: UnsafeMutablePointer<U>?, _ capacity: Int64, _ name: String,
                _ value: (Int) -> U) throws(CallError) {
  let out = try required(out, name)
  try requireAligned(UnsafePointer(out), name)
  let n = t.pairCount
  guard capacity >= Int64(n) else {
    throw CallError(.bufferTooSmall, "capacity = \(capacity): \(name) needs rotary_dim / 2 = \(n) elements")
  }
  for i in 0 ..< n { out[i] = value(i) }
}

/// Writes the rotary_dim / 2 inverse frequencies in use (radians per position) as double:
/// theta_i after the scaling, or theta~_i = 2*pi / lambda~_i under Resonance. `capacity` is the
/// number of elements `values` holds (>= rotary_dim / 2). This is the table's own definition of
/// each pair's frequency: non-Resonance angles are the exact product position * values[i],
/// reduced mod 2*pi. Thread-safe.
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER (rope, values), RR_STATUS_MISALIGNED (values
/// not aligned to its element type), RR_STATUS_BUFFER_TOO_SMALL (capacity < rotary_dim / 2,
/// negative capacities included). On error nothing is written. Added in 0.1.0.
@c(rr_rope_inv_freq_f64) public func rrRopeInvFreqF64(_ rope: OpaquePointer?, _ values: UnsafeMutablePointer<Double>?, _ capacity: Int64) -> Status {
  guarded("rr_rope_inv_freq_f64") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    try copyOut(t, values, capacity, "values") { t.invFreq[$0] }
  }
}

/// The inverse frequencies in use rounded to float (nearest): a drop-in for Hugging Face's
/// `inv_freq` buffer. Never 0 or infinite (rr_rope_create refuses such handles); may be
/// subnormal. Same contract as rr_rope_inv_freq_f64(). Added in 0.1.0.
@c(rr_rope_inv_freq_f32) public func rrRopeInvFreqF32(_ rope: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?, _ capacity: Int64) -> Status {
  guarded("rr_rope_inv_freq_f32") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    try copyOut(t, values, capacity, "values") { Float(t.invFreq[$0]) }
  }
}

/// Writes the rotary_dim / 2 wavelengths lambda_i = 2*pi / theta_i (positions per turn) of the
/// scaled frequencies BEFORE Resonance rounding. Same contract as rr_rope_inv_freq_f64().
/// Added in 0.1.0.
@c(rr_rope_wavelengths) public func rrRopeWavelengths(_ rope: OpaquePointer?, _ values: UnsafeMutablePointer<Double>?, _ capacity: Int64) -> Status {
  guarded("rr_rope_wavelengths") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    try copyOut(t, values, capacity, "values") { t.wavelengths[$0] }
  }
}

/// Writes the rotary_dim / 2 integer wavelengths lambda~_i = round(lambda_i) (at least 1,
/// ties to even) that Resonance uses; filled whether or not the handle has Resonance on
/// (then they are what it would use). Same contract as rr_rope_inv_freq_f64(). Added in 0.1.0.
@c(rr_rope_resonance_wavelengths) public func rrRopeResonanceWavelengths(_ rope: OpaquePointer?, _ values: UnsafeMutablePointer<Int64>?, _ capacity: Int64) -> Status {
  guarded("rr_rope_resonance_wavelengths") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    try copyOut(t, values, capacity, "values") { t.resonanceWavelengths[$0] }
  }
}

/// Counts, for a training length `train_length` (> 0, in positions), the pre-critical pairs
/// (lambda_i < train_length, before rounding: the pairs that see whole periods in training) and
/// the exactly periodic pairs (Resonance on and lambda~_i <= train_length: their
/// out-of-distribution feature gap is zero; 0 without Resonance). Either output may be NULL.
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER (rope), RR_STATUS_INVALID_VALUE
/// (train_length <= 0), RR_STATUS_MISALIGNED (an output not aligned to 8 bytes),
/// RR_STATUS_OVERLAP (the two outputs overlap). On error nothing is written. Added in 0.1.0.
@c(rr_rope_count_pairs) public func rrRopeCountPairs(
  _ rope: OpaquePointer?, _ train_length: Int64,
  _ pre_critical: UnsafeMutablePointer<Int64>?, _ periodic: UnsafeMutablePointer<Int64>?
) -> Status {
  guarded("rr_rope_count_pairs") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    guard train_length > 0 else { throw CallError(.invalidValue, "train_length = \(train_length): must be > 0") }
    if let pre_critical { try requireAligned(UnsafePointer(pre_critical), "pre_critical") }
    if let periodic { try requireAligned(UnsafePointer(periodic), "periodic") }
    try requireDisjoint(outputs: [ByteRange("pre_critical", pre_critical, count: 1), ByteRange("periodic", periodic, count: 1)])
    pre_critical?.pointee = Int64(t.preCriticalPairs(trainLength: train_length))
    periodic?.pointee = Int64(t.periodicPairs(trainLength: train_length))
  }
}

/// Per-pair frequency divisors that turn a plain RoPE into this handle's frequencies:
/// f_i = scaled theta_i / theta~_i = lambda~_i / lambda_i under Resonance (1 without). llama.cpp
/// divides each pair's frequency by an optional `rope_freqs` tensor, so writing these factors
/// there makes any llama.cpp model use Resonance RoPE (or Resonance YaRN on top of its own
/// scaling) without touching llama.cpp. Written as float (GGUF tensors are f32), `capacity`
/// elements (>= rotary_dim / 2); every value is finite and > 0 (rr_rope_create refuses a
/// handle whose factors would overflow float). Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER,
/// RR_STATUS_MISALIGNED, RR_STATUS_BUFFER_TOO_SMALL. Added in 0.1.0.
@c(rr_rope_resonance_freq_factors) public func rrRopeResonanceFreqFactors(_ rope: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?, _ capacity: Int64) -> Status {
  guarded("rr_rope_resonance_freq_factors") { () throws(CallError) in
    let t = table(try required(rope, "rope"))
    try copyOut(t, values, capacity, "values") { Float(t.resonanceFreqFactor(pair: $0)) }
  }
}
