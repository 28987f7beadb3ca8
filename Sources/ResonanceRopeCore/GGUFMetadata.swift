// Reading a model's RoPE settings from GGUF metadata, as llama.cpp reads them.

/// A GGUF metadata value, reduced to the kinds RoPE keys use.
package enum GGUFValue: Sendable, Equatable {
  case int(Int64)
  case float(Double)
  case string(String)
  case floatArray([Double])
}

/// llama.cpp's rope mode per architecture (`llama_model_rope_type`): NORM (our gptj: adjacent
/// pairs, because convert_hf_to_gguf permutes Llama's q/k weights) or NEOX. Only architectures
/// checked against llama.cpp are listed; others need an explicit `layout`.
private let ggufLayouts: [String: PairLayout] = [
  "llama": .gptj, "deepseek": .gptj, "deepseek2": .gptj, "baichuan": .gptj, "command-r": .gptj,
  "granite": .gptj, "minicpm": .gptj, "internlm2": .gptj, "olmo": .gptj,
  "qwen": .neox, "qwen2": .neox, "qwen2moe": .neox, "qwen3": .neox, "qwen3moe": .neox, "phi2": .neox,
  "phi3": .neox, "gptneox": .neox, "falcon": .neox, "gemma": .neox, "gemma2": .neox, "gemma3": .neox,
  "starcoder2": .neox, "stablelm": .neox, "gpt-oss": .neox,
]

/// The rotary settings given by GGUF-style metadata (`<arch>.rope.*`, `<arch>.context_length`,
/// `<arch>.attention.key_length`, `<arch>.embedding_length`, `<arch>.attention.head_count`, and the
/// per-pair arrays `rope_freqs`, `rope_factors_short`, `rope_factors_long`).
///
/// Scaling types: absent (linear when a factor other than 1 is given, as llama.cpp reads it),
/// "none", "linear", "yarn", "longrope". A YaRN `attn_factor` a is applied the way llama.cpp does:
/// the attention factor becomes a * mscale(factor). `rope_freqs` becomes `frequencyFactors`
/// (multiplied by a linear factor if both are given).
package func ropeConfig(fromGGUFMetadata pairs: [(key: String, value: GGUFValue)], sequenceLength: Int64?, resonance: Bool,
                        layout explicitLayout: PairLayout? = nil) throws(RopeError) -> ModelRopeSettings {
  var notes: [String] = []
  // Keys are compared by Unicode scalars, as GGUF does (see ScalarKey).
  var table: [ScalarKey: GGUFValue] = [:]
  table.reserveCapacity(pairs.count)
  for (k, v) in pairs {
    guard table.updateValue(v, forKey: ScalarKey(k)) == nil else { throw RopeError(.invalidValue, "\(k): given twice") }
  }
  func number(_ key: String) throws(RopeError) -> Double? {
    switch table[ScalarKey(key)] {
    case nil: return nil
    case .int(let n)?: return Double(n)
    case .float(let d)?: return d
    default: throw RopeError(.invalidValue, "\(key): must be a number")
    }
  }
  func integer(_ key: String) throws(RopeError) -> Int64? {
    switch table[ScalarKey(key)] {
    case nil: return nil
    case .int(let n)?: return n
    default: throw RopeError(.invalidValue, "\(key): must be an integer")
    }
  }
  func floats(_ key: String) throws(RopeError) -> [Double]? {
    switch table[ScalarKey(key)] {
    case nil: return nil
    case .floatArray(let a)?: return a
    default: throw RopeError(.invalidValue, "\(key): must be an array of floats")
    }
  }

  // Architecture: general.architecture, else the single prefix of the `<arch>.rope.` keys.
  let arch: String
  if let a = table[ScalarKey("general.architecture")] {
    guard case .string(let s) = a else { throw RopeError(.invalidValue, "general.architecture: must be a string") }
    arch = s
  } else {
    var prefixes = Set<ScalarKey>()
    for (k, _) in pairs {
      if let prefix = k.prefixBeforeFirst(".rope.") { prefixes.insert(ScalarKey(prefix)) }
    }
    guard prefixes.count == 1, let only = prefixes.first else {
      throw RopeError(.invalidValue, "general.architecture: absent, and the <arch>.rope.* keys name \(prefixes.count) architectures")
    }
    arch = only.string
  }
  let p = arch + "."
  let known: Set<ScalarKey> = ["rope.freq_base", "rope.dimension_count", "rope.scaling.type", "rope.scaling.factor",
                            "rope.scaling.original_context_length", "rope.scaling.attn_factor",
                            "rope.scaling.yarn_beta_fast", "rope.scaling.yarn_beta_slow"]
  // One note per ignored key, up to a bound: a hostile file may hold millions of them.
  let ropePrefix = Array((p + "rope.").utf8)
  let maxIgnoredNotes = 16
  var ignored = 0
  let knownKeys = Set(known.map { ScalarKey(p + $0.string) })
  for (k, _) in pairs where k.utf8.starts(with: ropePrefix) && !knownKeys.contains(ScalarKey(k)) {
    ignored += 1
    if ignored <= maxIgnoredNotes { notes.append("ignored \(k)") }
  }
  if ignored > maxIgnoredNotes { notes.append("ignored \(ignored - maxIgnoredNotes) more \(p)rope.* keys") }

  let base: Double
  if let b = try number(p + "rope.freq_base") { base = b } else { base = 10000; notes.append("no \(p)rope.freq_base: base 10000 (llama.cpp's default)") }

  let headDim: Int
  if let k = try integer(p + "attention.key_length") {
    headDim = try dimension(k, p + "attention.key_length")
  } else if let e = try integer(p + "embedding_length"), let h = try integer(p + "attention.head_count") {
    guard e > 0, h > 0, e % h == 0 else {
      throw RopeError(.invalidDimension, "\(p)embedding_length = \(e) is not a positive multiple of \(p)attention.head_count = \(h)")
    }
    headDim = try dimension(e / h, p + "embedding_length / head_count")
  } else if let r = try integer(p + "rope.dimension_count") {
    headDim = try dimension(r, p + "rope.dimension_count")
    notes.append("head dim taken equal to \(p)rope.dimension_count")
  } else {
    throw RopeError(.invalidDimension, "\(p)rope.dimension_count: absent, and no head dimension to default to")
  }
  let rotaryDim = try dimension(try integer(p + "rope.dimension_count") ?? Int64(headDim), p + "rope.dimension_count")

  let layout: PairLayout
  if let l = explicitLayout { layout = l } else if let l = ggufLayouts[arch] {
    layout = l
    notes.append("layout \(l == .gptj ? "gptj (llama.cpp NORM)" : "neox") for architecture \(arch)")
  } else {
    throw RopeError(.unsupported, "general.architecture = \"\(arch)\": pair layout unknown, pass it explicitly")
  }

  let maxPositions = try positiveCount(try integer(p + "context_length"), p + "context_length")
  var factor = try number(p + "rope.scaling.factor")
  if factor == 0 { factor = nil; notes.append("\(p)rope.scaling.factor 0 read as 1 (llama.cpp)") }
  var type: String
  switch table[ScalarKey(p + "rope.scaling.type")] {
  case nil: type = (factor ?? 1) != 1 ? "linear" : "none"
  case .string(let s)?: type = s
  default: throw RopeError(.invalidValue, "\(p)rope.scaling.type: must be a string")
  }
  var originalMax: Int64? = nil
  func original() throws(RopeError) -> Int64 {
    if let o = try positiveCount(try integer(p + "rope.scaling.original_context_length"), p + "rope.scaling.original_context_length") { return o }
    guard let m = maxPositions else {
      throw RopeError(.invalidValue, "\(p)rope.scaling.original_context_length: absent, and no \(p)context_length")
    }
    notes.append("original length = \(p)context_length (llama.cpp's default)")
    return m
  }
  // llama.cpp's reading, expressed as the fields handed to `makeScaling`.
  let freqs = try floats("rope_freqs")
  var fields = ScalingFields()
  var attentionFactor: Double? = nil
  switch type {
  case "none":
    if let f = freqs { fields.kind = .freqFactors; fields.freqFactors = f }
  case "linear":
    let s = factor ?? 1
    if let f = freqs {
      fields.kind = .freqFactors
      fields.freqFactors = f.map { $0 * s }
    } else {
      fields.kind = .linear
      fields.factor = s
    }
  case "yarn":
    guard freqs == nil else { throw RopeError(.unsupported, "rope_freqs with \(p)rope.scaling.type yarn is not supported") }
    fields.kind = .yarn
    originalMax = try original()
    fields.originalMaxPositions = originalMax
    let s = factor ?? 1
    fields.factor = s
    fields.betaFast = try number(p + "rope.scaling.yarn_beta_fast")
    fields.betaSlow = try number(p + "rope.scaling.yarn_beta_slow")
    if let a = try number(p + "rope.scaling.attn_factor") {
      attentionFactor = a * yarnMscale(s)
      notes.append("attention factor = attn_factor * (0.1 ln(factor) + 1), as llama.cpp applies it")
    }
  case "longrope":
    guard let short = try floats("rope_factors_short"), let long = try floats("rope_factors_long") else {
      throw RopeError(.invalidValue, "rope_factors_short / rope_factors_long: required for \(p)rope.scaling.type longrope")
    }
    fields.kind = .longrope
    originalMax = try original()
    fields.originalMaxPositions = originalMax
    fields.shortFactor = short
    fields.longFactor = long
    fields.factor = factor
    fields.maxPositions = maxPositions  // makeScaling: absent = the original length
    fields.sequenceLength = sequenceLength
    attentionFactor = try number(p + "rope.scaling.attn_factor")
  default:
    throw RopeError(.unsupported, "\(p)rope.scaling.type = \"\(type)\": not supported (none, linear, yarn, longrope)")
  }
  let config = RopeConfig(rotaryDim: rotaryDim, headDim: headDim, base: base, resonance: resonance,
                          layout: layout, scaling: try fields.makeScaling(), attentionFactor: attentionFactor)
  try config.validate()
  return ModelRopeSettings(config: config, maxPositions: maxPositions, originalMaxPositions: originalMax, notes: notes)
}


extension String {
  /// The text before the first occurrence of `marker`, compared as UTF-8 bytes; nil when absent.
  fileprivate func prefixBeforeFirst(_ marker: String) -> String? {
    let s = Array(utf8), m = Array(marker.utf8)
    guard !m.isEmpty, s.count >= m.count else { return nil }
    for i in 0 ... s.count - m.count where s[i ..< i + m.count].elementsEqual(m) {
      return String(decoding: s[..<i], as: UTF8.self)
    }
    return nil
  }
}
