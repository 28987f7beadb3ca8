// What a model file says about its rotary embedding: the result of the Hugging Face reader
// (HFConfig.swift) and the GGUF reader (GGUFMetadata.swift), and the checks both apply.
//
// The HF reader follows transformers 5 (`RotaryEmbeddingConfigMixin.standardize_rope_params` and the
// `_compute_*_parameters` functions): the only defaults applied are the ones transformers applies
// (rope_theta 10000, beta_fast 32 / beta_slow 1, truncate true, YaRN / LongRoPE factor from
// max / original, original length from max_position_embeddings), each recorded in `notes`; the
// GGUF reader applies llama.cpp's. Both fill a `ScalingFields` and build the scaling with its
// `makeScaling()`, the one place a `RopeScaling` is made. Anything unsupported or inconsistent is a `RopeError` naming the field.

/// What a model configuration says about its rotary embedding.
public struct ModelRopeSettings: Sendable, Equatable {
  /// The rotary configuration (attentionFactor set only when the file gives one explicitly).
  public var config: RopeConfig
  /// max_position_embeddings / n_positions / `<arch>.context_length`, when given.
  public var maxPositions: Int64?
  /// The pre-extension context length a scaling uses, when one applies.
  public var originalMaxPositions: Int64?
  /// Where each value came from and which defaults were applied, one line each.
  public var notes: [String]

  public init(config: RopeConfig, maxPositions: Int64?, originalMaxPositions: Int64?, notes: [String]) {
    self.config = config
    self.maxPositions = maxPositions
    self.originalMaxPositions = originalMaxPositions
    self.notes = notes
  }
}

/// A dimension read from a file: > 0 and <= RopeConfig.maxDim, as Int.
func dimension(_ n: Int64, _ field: String) throws(RopeError) -> Int {
  guard n > 0, n <= Int64(RopeConfig.maxDim) else {
    throw RopeError(.invalidDimension, "\(field) = \(n): must be > 0 and <= \(RopeConfig.maxDim)")
  }
  return Int(n)
}
