// RoPE scalings: how the base frequencies theta_i = base^(-2i/d) are changed before use.
// PLACEHOLDER for the foundation: `.none`, `.linear` and `.frequencyFactors` are implemented here;
// the other published scalings are filled in by the scaling issue (same signatures).
import Glibc

/// YaRN parameters (Peng et al. 2023, arXiv 2309.00071), as Hugging Face transformers reads them.
package struct YarnParameters: Sendable, Equatable {
  package var factor: Double
  package var originalMaxPositions: Int64
  package var betaFast: Double = 32
  package var betaSlow: Double = 1
  /// false: the correction range is not floored/ceiled (gpt-oss).
  package var truncate: Bool = true
  package var mscale: Double? = nil
  package var mscaleAllDim: Double? = nil

  package init(factor: Double, originalMaxPositions: Int64, betaFast: Double = 32, betaSlow: Double = 1,
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
package struct Llama3Parameters: Sendable, Equatable {
  package var factor: Double
  package var lowFreqFactor: Double
  package var highFreqFactor: Double
  package var originalMaxPositions: Int64

  package init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int64) {
    self.factor = factor
    self.lowFreqFactor = lowFreqFactor
    self.highFreqFactor = highFreqFactor
    self.originalMaxPositions = originalMaxPositions
  }
}

/// LongRoPE (Phi-3) per-pair factors.
package struct LongRopeParameters: Sendable, Equatable {
  package var shortFactor: [Double]
  package var longFactor: [Double]
  /// `factor` when given, else maxPositions / originalMaxPositions.
  package var factor: Double?
  package var originalMaxPositions: Int64
  package var maxPositions: Int64
  /// Current sequence length; long factors apply when it exceeds originalMaxPositions.
  package var sequenceLength: Int64?

  package init(shortFactor: [Double], longFactor: [Double], factor: Double?, originalMaxPositions: Int64,
               maxPositions: Int64, sequenceLength: Int64?) {
    self.shortFactor = shortFactor
    self.longFactor = longFactor
    self.factor = factor
    self.originalMaxPositions = originalMaxPositions
    self.maxPositions = maxPositions
    self.sequenceLength = sequenceLength
  }
}

package enum RopeScaling: Sendable, Equatable {
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

  package var name: String {
    switch self {
    case .none: "none"
    case .linear: "linear"
    case .ntk: "ntk"
    case .dynamic: "dynamic"
    case .yarn: "yarn"
    case .llama3: "llama3"
    case .longrope: "longrope"
    case .frequencyFactors: "freq_factors"
    }
  }
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

/// The scaled frequencies for `scaling`. Every parameter is validated; nothing traps.
package func scaledFrequencies(rotaryDim d: Int, base: Double, scaling: RopeScaling) throws(RopeError) -> ScaledFrequencies {
  let theta = baseInverseFrequencies(rotaryDim: d, base: base)
  switch scaling {
  case .none:
    return ScaledFrequencies(invFreq: theta)
  case .linear(let factor):
    try requirePositiveFinite(factor, "factor")
    return ScaledFrequencies(invFreq: theta.map { $0 / factor })
  case .frequencyFactors(let f):
    guard f.count == d / 2 else {
      throw RopeError(.invalidDimension, "freq_factors has \(f.count) values: must have rotary_dim / 2 = \(d / 2)")
    }
    for (i, x) in f.enumerated() { try requirePositiveFinite(x, "freq_factors[\(i)]") }
    return ScaledFrequencies(invFreq: zip(theta, f).map { $0 / $1 })
  default:
    throw RopeError(.unsupported, "scaling '\(scaling.name)' is not implemented yet")
  }
}
