// RoPE scalings: how the base frequencies theta_i = base^(-2i/d) are changed before use.
//
// Every published scaling is reproduced from Hugging Face transformers' `modeling_rope_utils.py`
// (the `_compute_*_parameters` functions of transformers 4.5x / 5), but evaluated in double
// where transformers uses float32 tensors: our values are the float64 limit of theirs, and the
// tests compare against an independent float64 transcription (agreement ~1e-16 relative).
// Branch conditions (llama3's band edges, YaRN's floor/ceil and low == high) use exactly the
// comparisons transformers uses, so a pair on an edge lands in the same band.
import CLibc

/// YaRN parameters (Peng et al. 2023, arXiv 2309.00071), as Hugging Face transformers reads them.
public struct YarnParameters: Sendable, Equatable {
  public var factor: Double
  public var originalMaxPositions: Int64
  public var betaFast: Double = 32
  public var betaSlow: Double = 1
  /// false: the correction range is not floored/ceiled (gpt-oss).
  public var truncate: Bool = true
  public var mscale: Double? = nil
  public var mscaleAllDim: Double? = nil

  public init(factor: Double, originalMaxPositions: Int64, betaFast: Double = 32, betaSlow: Double = 1,
               truncate: Bool = true, mscale: Double? = nil, mscaleAllDim: Double? = nil) {
    self.factor = factor
    self.originalMaxPositions = originalMaxPositions
    self.betaFast = betaFast
    self.betaSlow = betaSlow
    self.truncate = truncate
    self.mscale = mscale
    self.mscaleAllDim = mscaleAllDim
  }
}

/// Llama 3.1's three-band scaling (Hugging Face `_compute_llama3_parameters`).
public struct Llama3Parameters: Sendable, Equatable {
  public var factor: Double
  public var lowFreqFactor: Double
  public var highFreqFactor: Double
  public var originalMaxPositions: Int64

  public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int64) {
    self.factor = factor
    self.lowFreqFactor = lowFreqFactor
    self.highFreqFactor = highFreqFactor
    self.originalMaxPositions = originalMaxPositions
  }
}

/// LongRoPE (Phi-3) per-pair factors.
public struct LongRopeParameters: Sendable, Equatable {
  public var shortFactor: [Double]
  public var longFactor: [Double]
  /// `factor` when given, else maxPositions / originalMaxPositions.
  public var factor: Double?
  public var originalMaxPositions: Int64
  public var maxPositions: Int64
  /// Current sequence length; long factors apply when it exceeds originalMaxPositions.
  public var sequenceLength: Int64?

  public init(shortFactor: [Double], longFactor: [Double], factor: Double?, originalMaxPositions: Int64,
               maxPositions: Int64, sequenceLength: Int64?) {
    self.shortFactor = shortFactor
    self.longFactor = longFactor
    self.factor = factor
    self.originalMaxPositions = originalMaxPositions
    self.maxPositions = maxPositions
    self.sequenceLength = sequenceLength
  }
}

public enum RopeScaling: Sendable, Equatable {
  case none
  /// Position interpolation: theta_i / factor.
  case linear(factor: Double)
  /// NTK-aware: base' = base * factor^(d/(d-2)).
  case ntk(factor: Double)
  /// Dynamic NTK as Hugging Face computes it, for the current sequence length.
  case dynamic(factor: Double, maxPositions: Int64, sequenceLength: Int64)
  case yarn(YarnParameters)
  case llama3(Llama3Parameters)
  case longrope(LongRopeParameters)
  /// Custom per-pair divisors (ggml's freq_factors / llama.cpp's rope_freqs): theta_i / f_i.
  case frequencyFactors([Double])

  public var name: String { kind.name }
}

/// Frequencies after scaling, before any Resonance rounding.
package struct ScaledFrequencies: Sendable {
  /// theta_i after scaling, d/2 values, radians per position.
  package var invFreq: [Double]
  /// The magnitude factor the scaling prescribes for cos and sin (1 when it prescribes none).
  package var attentionFactor: Double
  /// YaRN's correction range (low, high) in pair indices, where one applies.
  package var correctionRange: (low: Double, high: Double)?

  package init(invFreq: [Double], attentionFactor: Double = 1, correctionRange: (low: Double, high: Double)? = nil) {
    self.invFreq = invFreq
    self.attentionFactor = attentionFactor
    self.correctionRange = correctionRange
  }
}

/// theta_i = base^(-2i/d) for i in 0 ..< d/2, in double (glibc's pow is within 1 ulp).
package func baseInverseFrequencies(rotaryDim d: Int, base: Double) -> [Double] {
  (0 ..< d / 2).map { i in pow(base, -(Double(2 * i) / Double(d))) }
}

private func requirePositiveFinite(_ x: Double, _ name: String) throws(RopeError) {
  guard x.isFinite, x > 0 else { throw RopeError(.invalidValue, "\(name) = \(x): must be finite and > 0") }
}

private func requirePositive(_ n: Int64, _ name: String) throws(RopeError) {
  guard n > 0 else { throw RopeError(.invalidValue, "\(name) = \(n): must be > 0") }
}

/// Checks `rotaryDim` the way `RopeConfig.validate` does (the function is also called directly).
private func requireRotaryDim(_ d: Int) throws(RopeError) {
  guard d > 0, d % 2 == 0, d <= RopeConfig.maxDim else {
    throw RopeError(.invalidDimension, "rotary_dim = \(d): must be even, > 0 and <= \(RopeConfig.maxDim)")
  }
}

/// The NTK exponent d / (d - 2). transformers divides by d - 2 (a ZeroDivisionError in Python for
/// d == 2), so d == 2 is refused rather than given an invented meaning.
private func ntkExponent(_ d: Int, _ scalingName: String) throws(RopeError) -> Double {
  guard d > 2 else {
    throw RopeError(.invalidDimension, "rotary_dim = \(d): '\(scalingName)' scaling needs rotary_dim > 2 (its exponent is d / (d - 2))")
  }
  return Double(d) / Double(d - 2)
}

/// base^(-2i/d) for a rescaled base, refusing a base that is not finite and > 1.
private func inverseFrequencies(rotaryDim d: Int, scaledBase: Double, field: String) throws(RopeError) -> [Double] {
  guard scaledBase.isFinite, scaledBase > 1 else {
    throw RopeError(.invalidValue, "\(field) gives a scaled base of \(scaledBase): must be finite and > 1")
  }
  return baseInverseFrequencies(rotaryDim: d, base: scaledBase)
}

/// YaRN's magnitude correction (Peng et al. 2023, eq. 22 generalised by DeepSeek's `mscale`):
/// 1 for s <= 1, else 0.1 * m * ln(s) + 1. The 0.1 is the paper's fitted sqrt(1/t) slope.
package func yarnMscale(_ s: Double, _ m: Double = 1) -> Double {
  s <= 1 ? 1 : 0.1 * m * log(s) + 1
}

/// The pair index (fractional) whose wavelength makes `rotations` turns over `originalLength`
/// positions: d * ln(L / (rotations * 2 pi)) / (2 ln base). (YaRN's "find_correction_dim".)
package func yarnCorrectionDim(rotations: Double, rotaryDim d: Int, base: Double, originalLength: Double) -> Double {
  Double(d) * log(originalLength / (rotations * 2 * Double.pi)) / (2 * log(base))
}

/// YaRN (transformers `_compute_yarn_parameters`).
///
///     low  = max(floor(corr(beta_fast)), 0)     high = min(ceil(corr(beta_slow)), d - 1)
///     (no floor / ceil when truncate == false; high += 0.001 when low == high)
///     ramp_i = clamp((i - low) / (high - low), 0, 1),  e_i = 1 - ramp_i
///     theta'_i = (theta_i / factor) * (1 - e_i) + theta_i * e_i
///     attention = mscale(f, mscale) / mscale(f, mscale_all_dim) when both are set and non-zero,
///                 else mscale(f)   (so 1 for factor <= 1)
///
/// factor <= 1 is accepted (transformers only warns): the "interpolated" frequencies are then
/// theta_i / factor >= theta_i and the attention factor is 1.
private func yarnFrequencies(_ d: Int, _ base: Double, _ p: YarnParameters) throws(RopeError) -> ScaledFrequencies {
  try requirePositiveFinite(p.factor, "factor")
  try requirePositive(p.originalMaxPositions, "original_max_position_embeddings")
  try requirePositiveFinite(p.betaFast, "beta_fast")
  try requirePositiveFinite(p.betaSlow, "beta_slow")
  guard p.betaFast > p.betaSlow else {
    throw RopeError(.invalidValue, "beta_fast = \(p.betaFast): must be > beta_slow (\(p.betaSlow))")
  }
  // transformers tests `if mscale and mscale_all_dim`: 0 counts as absent, like null.
  var attention = yarnMscale(p.factor)
  if let m = p.mscale, let mAll = p.mscaleAllDim, m != 0, mAll != 0 {
    guard m.isFinite, mAll.isFinite else {
      throw RopeError(.invalidValue, "mscale = \(m), mscale_all_dim = \(mAll): must be finite")
    }
    attention = yarnMscale(p.factor, m) / yarnMscale(p.factor, mAll)
  }
  guard attention.isFinite, attention > 0 else {
    throw RopeError(.invalidValue, "mscale / mscale_all_dim give an attention factor of \(attention): must be finite and > 0")
  }
  let length = Double(p.originalMaxPositions)
  var low = yarnCorrectionDim(rotations: p.betaFast, rotaryDim: d, base: base, originalLength: length)
  var high = yarnCorrectionDim(rotations: p.betaSlow, rotaryDim: d, base: base, originalLength: length)
  if p.truncate {
    low = low.rounded(.down)
    high = high.rounded(.up)
  }
  low = max(low, 0)
  high = min(high, Double(d - 1))
  // Both are finite: d, base > 1, L >= 1 and beta > 0 are finite; the clamps bound them further.
  let rampHigh = low == high ? high + 0.001 : high
  let theta = baseInverseFrequencies(rotaryDim: d, base: base)
  var inv = [Double](repeating: 0, count: theta.count)
  for i in 0 ..< theta.count {
    let ramp = min(max((Double(i) - low) / (rampHigh - low), 0), 1)
    let extrapolation = 1 - ramp
    let interpolated = theta[i] / p.factor
    inv[i] = interpolated * (1 - extrapolation) + theta[i] * extrapolation
  }
  return ScaledFrequencies(invFreq: inv, attentionFactor: attention, correctionRange: (low, high))
}

/// Llama 3.1 (transformers `_compute_llama3_parameters`), with wavelength lambda_i = 2 pi / theta_i:
///
///     lambda_i >  L / low_freq_factor  : theta_i / factor               (long wavelengths)
///     lambda_i <  L / high_freq_factor : theta_i                        (short wavelengths)
///     otherwise (both edges included)  : s = (L / lambda_i - low) / (high - low),
///                                        (1 - s) * theta_i / factor + s * theta_i
private func llama3Frequencies(_ d: Int, _ base: Double, _ p: Llama3Parameters) throws(RopeError) -> ScaledFrequencies {
  try requirePositiveFinite(p.factor, "factor")
  try requirePositiveFinite(p.lowFreqFactor, "low_freq_factor")
  try requirePositiveFinite(p.highFreqFactor, "high_freq_factor")
  guard p.highFreqFactor > p.lowFreqFactor else {
    throw RopeError(.invalidValue, "high_freq_factor = \(p.highFreqFactor): must be > low_freq_factor (\(p.lowFreqFactor))")
  }
  try requirePositive(p.originalMaxPositions, "original_max_position_embeddings")
  let length = Double(p.originalMaxPositions)
  let lowFreqWavelength = length / p.lowFreqFactor
  let highFreqWavelength = length / p.highFreqFactor
  let theta = baseInverseFrequencies(rotaryDim: d, base: base)
  var inv = theta
  for i in 0 ..< theta.count {
    let wavelength = 2 * Double.pi / theta[i]
    if wavelength > lowFreqWavelength {
      inv[i] = theta[i] / p.factor
    } else if wavelength < highFreqWavelength {
      inv[i] = theta[i]
    } else {
      let smooth = (length / wavelength - p.lowFreqFactor) / (p.highFreqFactor - p.lowFreqFactor)
      inv[i] = (1 - smooth) * theta[i] / p.factor + smooth * theta[i]
    }
  }
  return ScaledFrequencies(invFreq: inv)
}

/// LongRoPE / Phi-3 (transformers `_compute_longrope_parameters`):
///
///     theta'_i = 1 / (ext_i * base^(2i/d)),  ext = long_factor when sequenceLength > L, else short
///     s = factor, or maxPositions / L when absent
///     attention = sqrt(1 + ln(s) / ln(L)) for s > 1, else 1
private func longRopeFrequencies(_ d: Int, _ base: Double, _ p: LongRopeParameters) throws(RopeError) -> ScaledFrequencies {
  let half = d / 2
  for (name, factors) in [("short_factor", p.shortFactor), ("long_factor", p.longFactor)] {
    guard factors.count == half else {
      throw RopeError(.invalidDimension, "\(name) has \(factors.count) values: must have rotary_dim / 2 = \(half)")
    }
    for (i, x) in factors.enumerated() { try requirePositiveFinite(x, "\(name)[\(i)]") }
  }
  try requirePositive(p.originalMaxPositions, "original_max_position_embeddings")
  let length = Double(p.originalMaxPositions)
  let s: Double
  if let f = p.factor {
    try requirePositiveFinite(f, "factor")
    s = f
  } else {
    try requirePositive(p.maxPositions, "max_position_embeddings")
    s = Double(p.maxPositions) / length
  }
  var attention = 1.0
  if s > 1 {
    // ln(L) == 0 for L == 1 would divide by zero.
    guard p.originalMaxPositions > 1 else {
      throw RopeError(.invalidValue, "original_max_position_embeddings = 1: must be > 1 for a longrope factor > 1")
    }
    attention = (1 + log(s) / log(length)).squareRoot()
  }
  let useLong = (p.sequenceLength ?? 0) > p.originalMaxPositions
  let ext = useLong ? p.longFactor : p.shortFactor
  var inv = [Double](repeating: 0, count: half)
  for i in 0 ..< half {
    inv[i] = 1 / (ext[i] * pow(base, Double(2 * i) / Double(d)))
  }
  return ScaledFrequencies(invFreq: inv, attentionFactor: attention)
}

/// The scaled frequencies for `scaling`. Every parameter is validated; nothing traps.
///
/// - linear:  theta_i / factor (factor > 0; factor < 1 extrapolates, as in transformers).
/// - ntk:     base' = base * factor^(d / (d - 2)); needs d > 2 and base' finite and > 1.
/// - dynamic: base' = base * (factor * n / M - (factor - 1))^(d / (d - 2)), n = max(length, M);
///            the bracket is >= 1 for every factor > 0, so base' >= base. Needs d > 2.
/// - yarn, llama3, longrope: see the functions above.
/// - frequencyFactors: theta_i / f_i (ggml's freq_factors).
package func scaledFrequencies(rotaryDim d: Int, base: Double, scaling: RopeScaling) throws(RopeError) -> ScaledFrequencies {
  try requireRotaryDim(d)
  guard base.isFinite, base > 1 else {
    throw RopeError(.invalidValue, "base = \(base): must be finite and > 1")
  }
  switch scaling {
  case .none:
    return ScaledFrequencies(invFreq: baseInverseFrequencies(rotaryDim: d, base: base))
  case .linear(let factor):
    try requirePositiveFinite(factor, "factor")
    return ScaledFrequencies(invFreq: baseInverseFrequencies(rotaryDim: d, base: base).map { $0 / factor })
  case .ntk(let factor):
    try requirePositiveFinite(factor, "factor")
    let e = try ntkExponent(d, "ntk")
    return ScaledFrequencies(invFreq: try inverseFrequencies(rotaryDim: d, scaledBase: base * pow(factor, e), field: "factor"))
  case .dynamic(let factor, let maxPositions, let sequenceLength):
    try requirePositiveFinite(factor, "factor")
    try requirePositive(maxPositions, "max_position_embeddings")
    guard sequenceLength >= 0 else {
      throw RopeError(.invalidValue, "sequence_length = \(sequenceLength): must be >= 0")
    }
    let e = try ntkExponent(d, "dynamic")
    let n = Double(max(sequenceLength, maxPositions))
    let bracket = (factor * n / Double(maxPositions)) - (factor - 1)
    return ScaledFrequencies(invFreq: try inverseFrequencies(rotaryDim: d, scaledBase: base * pow(bracket, e), field: "factor"))
  case .yarn(let p):
    return try yarnFrequencies(d, base, p)
  case .llama3(let p):
    return try llama3Frequencies(d, base, p)
  case .longrope(let p):
    return try longRopeFrequencies(d, base, p)
  case .frequencyFactors(let f):
    guard f.count == d / 2 else {
      throw RopeError(.invalidDimension, "freq_factors has \(f.count) values: must have rotary_dim / 2 = \(d / 2)")
    }
    for (i, x) in f.enumerated() { try requirePositiveFinite(x, "freq_factors[\(i)]") }
    return ScaledFrequencies(invFreq: zip(baseInverseFrequencies(rotaryDim: d, base: base), f).map { $0 / $1 })
  }
}
