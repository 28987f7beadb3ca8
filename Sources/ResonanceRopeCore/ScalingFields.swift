// One flat record of every scaling parameter, as C structs, CLI flags and model configs carry
// them, and the single place that turns it into a validated `RopeScaling`.

// The C ABI's rr_scaling: tools/gen_header.py writes these values and doc comments into the header.
/// Frequency scalings (see rr_rope_params for the fields each reads). Added in 0.1.0.
public enum ScalingKind: Int32, Sendable, CaseIterable {
  /// theta_i = base^(-2i/d).
  case none = 0
  /// Position interpolation: theta_i / factor.
  case linear = 1
  /// NTK-aware: base' = base * factor^(d / (d - 2)).
  case ntk = 2
  /// Dynamic NTK (Hugging Face) for sequence_length and max_position.
  case dynamic = 3
  /// YaRN (arXiv 2309.00071) with beta_fast, beta_slow, truncate, mscale, mscale_all_dim.
  case yarn = 4
  /// Llama 3.1 three-band scaling with low_freq_factor, high_freq_factor.
  case llama3 = 5
  /// LongRoPE (Phi-3) with short_factor / long_factor.
  case longrope = 6
  /// Per-pair divisors freq_factors (llama.cpp's rope_freqs): theta_i / f_i.
  case freqFactors = 7

  public var name: String {
    switch self {
    case .none: "none"
    case .linear: "linear"
    case .ntk: "ntk"
    case .dynamic: "dynamic"
    case .yarn: "yarn"
    case .llama3: "llama3"
    case .longrope: "longrope"
    case .freqFactors: "freq_factors"
    }
  }

  public init?(name: String) {
    guard let k = Self.allCases.first(where: { $0.name == name }) else { return nil }
    self = k
  }
}

/// Every scaling parameter; nil means "not given". Field names follow Hugging Face's.
public struct ScalingFields: Sendable, Equatable {
  public var kind: ScalingKind = .none
  public var factor: Double? = nil
  public var originalMaxPositions: Int64? = nil
  public var maxPositions: Int64? = nil
  public var sequenceLength: Int64? = nil
  public var betaFast: Double? = nil
  public var betaSlow: Double? = nil
  public var mscale: Double? = nil
  public var mscaleAllDim: Double? = nil
  public var lowFreqFactor: Double? = nil
  public var highFreqFactor: Double? = nil
  public var truncate: Bool? = nil
  public var shortFactor: [Double]? = nil
  public var longFactor: [Double]? = nil
  public var freqFactors: [Double]? = nil

  public init(kind: ScalingKind = .none) { self.kind = kind }
}

private func need<T>(_ v: T?, _ field: String, _ kind: ScalingKind) throws(RopeError) -> T {
  guard let v else { throw RopeError(.invalidValue, "\(field) is required by the \(kind.name) scaling") }
  return v
}

/// A count that must be > 0 when given (lengths of a model file, C struct and CLI alike).
func positiveCount(_ v: Int64?, _ field: String) throws(RopeError) -> Int64? {
  guard let v else { return nil }
  guard v > 0 else { throw RopeError(.invalidValue, "\(field) = \(v): must be > 0") }
  return v
}

extension ScalingFields {
  /// Builds the scaling, applying the documented defaults:
  /// original_max_position_embeddings defaults to max_position_embeddings; a missing YaRN or
  /// LongRoPE factor is max_position_embeddings / original_max_position_embeddings (as
  /// transformers 5 does); beta_fast/beta_slow default to 32/1; truncate defaults to true.
  /// Value ranges (finite, > 0, lengths) are checked by `scaledFrequencies`.
  public func makeScaling() throws(RopeError) -> RopeScaling {
    let maxPos = try positiveCount(maxPositions, "max_position_embeddings")
    let origPos = try positiveCount(originalMaxPositions, "original_max_position_embeddings") ?? maxPos
    func derivedFactor() -> Double? {
      if let factor { return factor }
      if let maxPos, let origPos { return Double(maxPos) / Double(origPos) }
      return nil
    }
    switch kind {
    case .none:
      return .none
    case .linear:
      return .linear(factor: try need(factor, "factor", kind))
    case .ntk:
      return .ntk(factor: try need(factor, "factor", kind))
    case .dynamic:
      let f = try need(factor, "factor", kind)
      let m = try need(maxPos, "max_position_embeddings", kind)
      let len = try positiveCount(sequenceLength, "sequence_length") ?? m
      return .dynamic(factor: f, maxPositions: m, sequenceLength: len)
    case .yarn:
      return .yarn(YarnParameters(
        factor: try need(derivedFactor(), "factor", kind),
        originalMaxPositions: try need(origPos, "original_max_position_embeddings", kind),
        betaFast: betaFast ?? 32, betaSlow: betaSlow ?? 1, truncate: truncate ?? true,
        mscale: mscale, mscaleAllDim: mscaleAllDim))
    case .llama3:
      return .llama3(Llama3Parameters(
        factor: try need(factor, "factor", kind),
        lowFreqFactor: try need(lowFreqFactor, "low_freq_factor", kind),
        highFreqFactor: try need(highFreqFactor, "high_freq_factor", kind),
        originalMaxPositions: try need(origPos, "original_max_position_embeddings", kind)))
    case .longrope:
      let o = try need(origPos, "original_max_position_embeddings", kind)
      return .longrope(LongRopeParameters(
        shortFactor: try need(shortFactor, "short_factor", kind),
        longFactor: try need(longFactor, "long_factor", kind),
        factor: factor, originalMaxPositions: o, maxPositions: maxPos ?? o,
        sequenceLength: try positiveCount(sequenceLength, "sequence_length")))
    case .freqFactors:
      return .frequencyFactors(try need(freqFactors, "freq_factors", kind))
    }
  }
}

extension RopeScaling {
  public var kind: ScalingKind {
    switch self {
    case .none: .none
    case .linear: .linear
    case .ntk: .ntk
    case .dynamic: .dynamic
    case .yarn: .yarn
    case .llama3: .llama3
    case .longrope: .longrope
    case .frequencyFactors: .freqFactors
    }
  }
}
