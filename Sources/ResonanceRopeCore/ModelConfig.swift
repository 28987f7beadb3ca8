// Reading a model's RoPE settings from a Hugging Face config.json.
//
// Follows transformers 5 (`RotaryEmbeddingConfigMixin.standardize_rope_params` and the
// `_compute_*_parameters` functions): the only defaults applied are the ones transformers applies
// (rope_theta 10000, beta_fast 32 / beta_slow 1, truncate true, YaRN / LongRoPE factor from
// max / original, original length from max_position_embeddings), each recorded in `notes`.
// Anything unsupported or inconsistent is a `RopeError` naming the field.

/// What a model configuration says about its rotary embedding.
package struct ModelRopeSettings: Sendable, Equatable {
  /// The rotary configuration (attentionFactor set only when the file gives one explicitly).
  package var config: RopeConfig
  /// max_position_embeddings / n_positions / `<arch>.context_length`, when given.
  package var maxPositions: Int64?
  /// The pre-extension context length a scaling uses, when one applies.
  package var originalMaxPositions: Int64?
  /// Where each value came from and which defaults were applied, one line each.
  package var notes: [String]

  package init(config: RopeConfig, maxPositions: Int64?, originalMaxPositions: Int64?, notes: [String]) {
    self.config = config
    self.maxPositions = maxPositions
    self.originalMaxPositions = originalMaxPositions
    self.notes = notes
  }
}

// MARK: - Typed field access

/// Largest integer every double below it represents exactly (2^53).
private let exactIntegerLimit: Double = 9007199254740992

extension JSONObject {
  /// A number field; nil when absent or null.
  func number(_ key: String, _ path: String) throws(RopeError) -> Double? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .number(let d, _): return d
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be a number")
    }
  }

  /// An integer field (an integer literal, or a number with an integral value below 2^53).
  func integer(_ key: String, _ path: String) throws(RopeError) -> Int64? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .number(let d, let raw):
      if let n = Int64(raw) { return n }
      guard d.rounded(.towardZero) == d, abs(d) < exactIntegerLimit else {
        throw RopeError(.invalidValue, "\(path)\(key) = \(raw): must be an integer")
      }
      return Int64(d)  // |d| < 2^53: exact and in range.
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be an integer")
    }
  }

  func string(_ key: String, _ path: String) throws(RopeError) -> String? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .string(let s): return s
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be a string")
    }
  }

  func bool(_ key: String, _ path: String) throws(RopeError) -> Bool? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .bool(let b): return b
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be true or false")
    }
  }

  func numbers(_ key: String, _ path: String) throws(RopeError) -> [Double]? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .array(let items):
      var out: [Double] = []
      out.reserveCapacity(items.count)
      for (i, item) in items.enumerated() {
        guard case .number(let d, _) = item else {
          throw RopeError(.invalidValue, "\(path)\(key)[\(i)] is \(item.typeName): must be a number")
        }
        out.append(d)
      }
      return out
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be an array of numbers")
    }
  }
}

/// A dimension read from a file: > 0 and <= RopeConfig.maxDim, as Int.
private func dimension(_ n: Int64, _ field: String) throws(RopeError) -> Int {
  guard n > 0, n <= Int64(RopeConfig.maxDim) else {
    throw RopeError(.invalidDimension, "\(field) = \(n): must be > 0 and <= \(RopeConfig.maxDim)")
  }
  return Int(n)
}

private func positiveCount(_ n: Int64?, _ field: String) throws(RopeError) -> Int64? {
  guard let n else { return nil }
  guard n > 0 else { throw RopeError(.invalidValue, "\(field) = \(n): must be > 0") }
  return n
}

// MARK: - Hugging Face config.json

/// The scaling dict's keys this reader understands (others are reported in `notes` and ignored).
private let knownScalingKeys: Set<String> = [
  "type", "rope_type", "rope_theta", "factor", "original_max_position_embeddings", "attention_factor",
  "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "low_freq_factor", "high_freq_factor",
  "short_factor", "long_factor", "partial_rotary_factor",
]

/// Parses a Hugging Face config.json and returns its rotary settings.
package func ropeConfig(fromHFConfigJSON text: String, sequenceLength: Int64?, resonance: Bool) throws(RopeError) -> ModelRopeSettings {
  guard case .object(let root) = try JSONValue.parse(text) else {
    throw RopeError(.parse, "config.json must be a JSON object at byte 0")
  }
  return try ropeConfig(fromHFConfig: root, sequenceLength: sequenceLength, resonance: resonance)
}

/// The rotary settings of an already parsed config.json object.
package func ropeConfig(fromHFConfig root: JSONObject, sequenceLength: Int64?, resonance: Bool) throws(RopeError) -> ModelRopeSettings {
  var notes: [String] = []

  // The scaling dict: legacy `rope_scaling` or transformers 5 `rope_parameters`.
  var dict: JSONObject? = nil
  var dictName = "rope_scaling"
  for key in ["rope_scaling", "rope_parameters"] {
    guard let v = root[key], !v.isNull else { continue }
    guard case .object(let o) = v else { throw RopeError(.invalidValue, "\(key) is \(v.typeName): must be an object or null") }
    if let existing = dict {
      guard existing == o else { throw RopeError(.invalidValue, "rope_parameters differs from rope_scaling: give one of them") }
      continue
    }
    dict = o
    dictName = key
  }
  let path = dictName + "."
  if let d = dict {
    // transformers 5 may nest one dict per layer type ({"full_attention": {...}, ...}).
    if d["rope_type"] == nil, d["type"] == nil, d.values.contains(where: { $0.objectValue != nil }) {
      throw RopeError(.unsupported, "\(dictName) holds one dict per layer type: per-layer RoPE is not supported")
    }
    for key in d.keys where !knownScalingKeys.contains(key) {
      notes.append("ignored \(path)\(key)")
    }
  }

  // Base.
  let topTheta = try root.number("rope_theta", "")
  let neoxBase = try root.number("rotary_emb_base", "")
  let dictTheta = try dict?.number("rope_theta", path)
  if let a = topTheta, let b = neoxBase, a != b {
    throw RopeError(.invalidValue, "rope_theta = \(a) differs from rotary_emb_base = \(b)")
  }
  if let a = topTheta ?? neoxBase, let b = dictTheta, a != b {
    throw RopeError(.invalidValue, "\(path)rope_theta = \(b) differs from the top-level value \(a)")
  }
  let base: Double
  if let b = dictTheta { base = b; notes.append("base from \(path)rope_theta") }
  else if let b = topTheta { base = b; notes.append("base from rope_theta") }
  else if let b = neoxBase { base = b; notes.append("base from rotary_emb_base") }
  else { base = 10000; notes.append("no rope_theta: base 10000 (transformers' default)") }

  // Head and rotary dimensions.
  let modelType = try root.string("model_type", "")
  var layout = PairLayout.neox
  let headDim: Int
  var rotaryDim: Int
  if let q = try root.integer("qk_rope_head_dim", "") {
    rotaryDim = try dimension(q, "qk_rope_head_dim")
    headDim = rotaryDim
    notes.append("rotary dim and head dim from qk_rope_head_dim (RoPE on that slice of each head only)")
    if try root.bool("rope_interleave", "") ?? true {
      layout = .gptj
      notes.append("layout gptj: DeepSeek-style interleaved pairs (rope_interleave absent or true)")
    }
  } else {
    if let h = try root.integer("head_dim", "") {
      headDim = try dimension(h, "head_dim")
      notes.append("head dim from head_dim")
    } else if let hidden = try root.integer("hidden_size", ""), let heads = try root.integer("num_attention_heads", "") {
      guard hidden > 0, heads > 0, hidden % heads == 0 else {
        throw RopeError(.invalidDimension, "hidden_size = \(hidden) is not a positive multiple of num_attention_heads = \(heads)")
      }
      headDim = try dimension(hidden / heads, "hidden_size / num_attention_heads")
      notes.append("head dim from hidden_size / num_attention_heads")
    } else if let embd = try root.integer("n_embd", ""), let heads = try root.integer("n_head", "") {
      guard embd > 0, heads > 0, embd % heads == 0 else {
        throw RopeError(.invalidDimension, "n_embd = \(embd) is not a positive multiple of n_head = \(heads)")
      }
      headDim = try dimension(embd / heads, "n_embd / n_head")
      notes.append("head dim from n_embd / n_head")
    } else {
      throw RopeError(.invalidDimension, "head_dim: absent, and neither hidden_size / num_attention_heads nor n_embd / n_head is given")
    }

    // Partial rotary: rotary_dim, or int(head_dim * factor) as transformers truncates it.
    var fraction: (value: Double, field: String)? = nil
    for (obj, key, name) in [(dict, "partial_rotary_factor", path + "partial_rotary_factor"),
                             (root, "partial_rotary_factor", "partial_rotary_factor"),
                             (root, "rotary_pct", "rotary_pct")] {
      guard let obj, let f = try obj.number(key, "") else { continue }
      if let prior = fraction {
        guard prior.value == f else { throw RopeError(.invalidValue, "\(name) = \(f) differs from \(prior.field) = \(prior.value)") }
        continue
      }
      guard f.isFinite, f > 0, f <= 1 else { throw RopeError(.invalidValue, "\(name) = \(f): must be in (0, 1]") }
      fraction = (f, name)
    }
    rotaryDim = headDim
    if let f = fraction {
      // f <= 1 so the product is <= headDim: the conversion cannot overflow.
      rotaryDim = Int((Double(headDim) * f.value).rounded(.towardZero))
      guard rotaryDim > 0, rotaryDim % 2 == 0 else {
        throw RopeError(.invalidDimension, "\(f.field) = \(f.value) gives int(\(headDim) * \(f.value)) = \(rotaryDim) rotary dims: must be even and > 0")
      }
      notes.append("rotary dim int(head_dim * \(f.field))")
    }
    if let r = try root.integer("rotary_dim", "") {
      let rd = try dimension(r, "rotary_dim")
      if fraction != nil, rd != rotaryDim {
        throw RopeError(.invalidDimension, "rotary_dim = \(rd) differs from \(fraction?.field ?? "") (\(rotaryDim) dims)")
      }
      rotaryDim = rd
      notes.append("rotary dim from rotary_dim")
    }
    guard rotaryDim % 2 == 0, rotaryDim <= headDim else {
      let source = root["rotary_dim"] != nil ? "rotary_dim" : fraction != nil ? "the partial rotary factor" : "the whole head"
      throw RopeError(.invalidDimension, "rotary_dim = \(rotaryDim) (from \(source)): must be even and <= head dim \(headDim)")
    }
    if modelType == "gptj" || modelType == "codegen"
      || (modelType == nil && root["rotary_dim"] != nil && root["n_embd"] != nil) {
      layout = .gptj
      notes.append("layout gptj: GPT-J rotate-every-two (model_type \(modelType ?? "absent, GPT-J field names"))")
    }
  }

  // Context lengths.
  let maxPositionsField = try root.integer("max_position_embeddings", "")
  let nPositionsField = try root.integer("n_positions", "")
  let maxPositions = try positiveCount(maxPositionsField ?? nPositionsField, "max_position_embeddings")
  let topOriginal = try positiveCount(try root.integer("original_max_position_embeddings", ""), "original_max_position_embeddings")
  let dictOriginal = try positiveCount(try dict?.integer("original_max_position_embeddings", path), path + "original_max_position_embeddings")

  // Scaling type.
  let rt = try dict?.string("rope_type", path)
  let ty = try dict?.string("type", path)
  if let rt, let ty, rt != ty {
    throw RopeError(.invalidValue, "\(path)rope_type = \"\(rt)\" differs from \(path)type = \"\(ty)\"")
  }
  let typeName = rt ?? ty ?? "default"
  var attentionFactor = try dict?.number("attention_factor", path)

  /// original_max_position_embeddings as transformers 5 resolves it for llama3 / yarn / longrope:
  /// the top-level field wins (Phi-3), then the dict's, then max_position_embeddings.
  func original() throws(RopeError) -> Int64 {
    if let t = topOriginal {
      if let d = dictOriginal, d != t { notes.append("top-level original_max_position_embeddings \(t) overrides \(path)original_max_position_embeddings \(d) (transformers 5)") }
      notes.append("original length from original_max_position_embeddings")
      return t
    }
    if let d = dictOriginal { notes.append("original length from \(path)original_max_position_embeddings"); return d }
    guard let m = maxPositions else {
      throw RopeError(.invalidValue, "\(path)original_max_position_embeddings: absent, and no max_position_embeddings to default to")
    }
    notes.append("no original_max_position_embeddings: max_position_embeddings \(m) used (transformers 5 default)")
    return m
  }
  func required(_ key: String) throws(RopeError) -> Double {
    guard let v = try dict?.number(key, path) else {
      throw RopeError(.invalidValue, "\(path)\(key): required for rope_type \"\(typeName)\"")
    }
    return v
  }

  var scaling = RopeScaling.none
  var originalMax: Int64? = nil
  switch typeName {
  case "default":
    break
  case "linear":
    scaling = .linear(factor: try required("factor"))
  case "ntk":
    scaling = .ntk(factor: try required("factor"))
    notes.append("rope_type \"ntk\": static NTK-aware base (not in transformers 5's table)")
  case "dynamic":
    guard let m = maxPositions else {
      throw RopeError(.invalidValue, "max_position_embeddings: required for rope_type \"dynamic\"")
    }
    if sequenceLength == nil { notes.append("dynamic: no sequence length, max_position_embeddings used (as at init)") }
    scaling = .dynamic(factor: try required("factor"), maxPositions: m, sequenceLength: sequenceLength ?? m)
  case "yarn":
    let orig = try original()
    originalMax = orig
    var factor = try dict?.number("factor", path)
    if factor == nil {
      guard let m = maxPositions else {
        throw RopeError(.invalidValue, "\(path)factor: absent, and no max_position_embeddings to derive it from")
      }
      factor = Double(m) / Double(orig)
      notes.append("yarn factor = max_position_embeddings / original_max_position_embeddings")
    }
    // transformers reads `beta_fast or 32`: null and 0 both mean the default.
    var betaFast = try dict?.number("beta_fast", path) ?? 0
    var betaSlow = try dict?.number("beta_slow", path) ?? 0
    if betaFast == 0 { betaFast = 32; notes.append("beta_fast 32 (default)") }
    if betaSlow == 0 { betaSlow = 1; notes.append("beta_slow 1 (default)") }
    let truncate = try dict?.bool("truncate", path) ?? true
    scaling = .yarn(YarnParameters(
      factor: factor ?? 1, originalMaxPositions: orig, betaFast: betaFast, betaSlow: betaSlow, truncate: truncate,
      mscale: try dict?.number("mscale", path), mscaleAllDim: try dict?.number("mscale_all_dim", path)))
  case "llama3":
    let orig = try original()
    originalMax = orig
    scaling = .llama3(Llama3Parameters(
      factor: try required("factor"), lowFreqFactor: try required("low_freq_factor"),
      highFreqFactor: try required("high_freq_factor"), originalMaxPositions: orig))
  case "longrope", "su":
    if typeName == "su" { notes.append("rope_type \"su\" read as \"longrope\" (its former name)") }
    let orig = try original()
    originalMax = orig
    guard let short = try dict?.numbers("short_factor", path) else {
      throw RopeError(.invalidValue, "\(path)short_factor: required for rope_type \"longrope\"")
    }
    guard let long = try dict?.numbers("long_factor", path) else {
      throw RopeError(.invalidValue, "\(path)long_factor: required for rope_type \"longrope\"")
    }
    let factor = try dict?.number("factor", path)
    if factor == nil && maxPositions == nil {
      throw RopeError(.invalidValue, "\(path)factor: absent, and no max_position_embeddings to derive it from")
    }
    scaling = .longrope(LongRopeParameters(
      shortFactor: short, longFactor: long, factor: factor, originalMaxPositions: orig,
      maxPositions: maxPositions ?? orig, sequenceLength: sequenceLength))
    notes.append((sequenceLength ?? 0) > orig ? "longrope: long factors (sequence length > original)" : "longrope: short factors")
  default:
    throw RopeError(.unsupported, "\(path)rope_type = \"\(typeName)\": not supported (default, linear, dynamic, yarn, llama3, longrope, ntk)")
  }
  if attentionFactor != nil, typeName != "yarn", typeName != "longrope", typeName != "su" {
    notes.append("ignored \(path)attention_factor (transformers uses it for yarn and longrope only)")
    attentionFactor = nil
  }

  let config = RopeConfig(rotaryDim: rotaryDim, headDim: headDim, base: base, resonance: resonance,
                          layout: layout, scaling: scaling, attentionFactor: attentionFactor)
  try config.validate()
  // Validates the scaling's own parameters now, with messages naming them.
  _ = try scaledFrequencies(rotaryDim: rotaryDim, base: base, scaling: scaling)
  return ModelRopeSettings(config: config, maxPositions: maxPositions, originalMaxPositions: originalMax, notes: notes)
}

// MARK: - GGUF-style metadata

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
  var table: [String: GGUFValue] = [:]
  for (k, v) in pairs {
    guard table.updateValue(v, forKey: k) == nil else { throw RopeError(.invalidValue, "\(k): given twice") }
  }
  func number(_ key: String) throws(RopeError) -> Double? {
    switch table[key] {
    case nil: return nil
    case .int(let n)?: return Double(n)
    case .float(let d)?: return d
    default: throw RopeError(.invalidValue, "\(key): must be a number")
    }
  }
  func integer(_ key: String) throws(RopeError) -> Int64? {
    switch table[key] {
    case nil: return nil
    case .int(let n)?: return n
    default: throw RopeError(.invalidValue, "\(key): must be an integer")
    }
  }
  func floats(_ key: String) throws(RopeError) -> [Double]? {
    switch table[key] {
    case nil: return nil
    case .floatArray(let a)?: return a
    default: throw RopeError(.invalidValue, "\(key): must be an array of floats")
    }
  }

  // Architecture: general.architecture, else the single prefix of the `<arch>.rope.` keys.
  let arch: String
  if let a = table["general.architecture"] {
    guard case .string(let s) = a else { throw RopeError(.invalidValue, "general.architecture: must be a string") }
    arch = s
  } else {
    var prefixes = Set<String>()
    for (k, _) in pairs {
      // The text before the first ".rope.", matched Character by Character as firstRange(of:)
      // does (that one is in _StringProcessing, which Embedded Swift lacks).
      let c = Array(k), rope = Array(".rope.")
      if let i = c.indices.first(where: { c[$0...].starts(with: rope) }) { prefixes.insert(String(c[..<i])) }
    }
    guard prefixes.count == 1, let only = prefixes.first else {
      throw RopeError(.invalidValue, "general.architecture: absent, and the <arch>.rope.* keys name \(prefixes.count) architectures")
    }
    arch = only
  }
  let p = arch + "."
  let known: Set<String> = ["rope.freq_base", "rope.dimension_count", "rope.scaling.type", "rope.scaling.factor",
                            "rope.scaling.original_context_length", "rope.scaling.attn_factor",
                            "rope.scaling.yarn_beta_fast", "rope.scaling.yarn_beta_slow"]
  for (k, _) in pairs where k.hasPrefix(p + "rope.") && !known.contains(String(k.dropFirst(p.count))) {
    notes.append("ignored \(k)")
  }

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
  switch table[p + "rope.scaling.type"] {
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
  let freqs = try floats("rope_freqs")
  var scaling = RopeScaling.none
  var attentionFactor: Double? = nil
  switch type {
  case "none":
    if let f = freqs { scaling = .frequencyFactors(f) }
  case "linear":
    let s = factor ?? 1
    if let f = freqs { scaling = .frequencyFactors(f.map { $0 * s }) } else { scaling = .linear(factor: s) }
  case "yarn":
    guard freqs == nil else { throw RopeError(.unsupported, "rope_freqs with \(p)rope.scaling.type yarn is not supported") }
    let orig = try original()
    originalMax = orig
    let s = factor ?? 1
    scaling = .yarn(YarnParameters(factor: s, originalMaxPositions: orig,
                                   betaFast: try number(p + "rope.scaling.yarn_beta_fast") ?? 32,
                                   betaSlow: try number(p + "rope.scaling.yarn_beta_slow") ?? 1))
    if let a = try number(p + "rope.scaling.attn_factor") {
      attentionFactor = a * yarnMscale(s)
      notes.append("attention factor = attn_factor * (0.1 ln(factor) + 1), as llama.cpp applies it")
    }
  case "longrope":
    guard let short = try floats("rope_factors_short"), let long = try floats("rope_factors_long") else {
      throw RopeError(.invalidValue, "rope_factors_short / rope_factors_long: required for \(p)rope.scaling.type longrope")
    }
    let orig = try original()
    originalMax = orig
    scaling = .longrope(LongRopeParameters(shortFactor: short, longFactor: long, factor: factor, originalMaxPositions: orig,
                                           maxPositions: maxPositions ?? orig, sequenceLength: sequenceLength))
    attentionFactor = try number(p + "rope.scaling.attn_factor")
  default:
    throw RopeError(.unsupported, "\(p)rope.scaling.type = \"\(type)\": not supported (none, linear, yarn, longrope)")
  }
  let config = RopeConfig(rotaryDim: rotaryDim, headDim: headDim, base: base, resonance: resonance,
                          layout: layout, scaling: scaling, attentionFactor: attentionFactor)
  try config.validate()
  _ = try scaledFrequencies(rotaryDim: rotaryDim, base: base, scaling: scaling)
  return ModelRopeSettings(config: config, maxPositions: maxPositions, originalMaxPositions: originalMax, notes: notes)
}

/// Parses "key=value" lines (blank lines and lines starting with '#' skipped; spaces around key
/// and value trimmed). Values: an integer literal -> .int, another number -> .float,
/// "[a, b, ...]" -> .floatArray, anything else -> .string (surrounding double quotes removed).
package func parseGGUFMetadataText(_ text: String) throws(RopeError) -> [(key: String, value: GGUFValue)] {
  var out: [(key: String, value: GGUFValue)] = []
  var lineNumber = 0
  for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
    lineNumber += 1
    let line = rawLine.trimmingASCIISpaces()
    if line.isEmpty || line.hasPrefix("#") { continue }
    guard let eq = line.firstIndex(of: "=") else {
      throw RopeError(.parse, "line \(lineNumber): expected key=value")
    }
    let key = String(line[..<eq]).trimmingASCIISpaces()
    let value = String(line[line.index(after: eq)...]).trimmingASCIISpaces()
    guard !key.isEmpty else { throw RopeError(.parse, "line \(lineNumber): empty key") }
    if let n = Int64(value) {
      out.append((key, .int(n)))
    } else if let d = Double(value), d.isFinite {
      out.append((key, .float(d)))
    } else if value.hasPrefix("[") {
      guard value.hasSuffix("]"), value.count >= 2 else { throw RopeError(.parse, "line \(lineNumber): \(key): unterminated array") }
      let inner = value.dropFirst().dropLast().trimmingASCIISpaces()
      var items: [Double] = []
      if !inner.isEmpty {
        for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
          guard let d = Double(part.trimmingASCIISpaces()), d.isFinite else {
            throw RopeError(.parse, "line \(lineNumber): \(key): \"\(part)\" is not a finite number")
          }
          items.append(d)
        }
      }
      out.append((key, .floatArray(items)))
    } else if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
      out.append((key, .string(String(value.dropFirst().dropLast()))))
    } else {
      out.append((key, .string(value)))
    }
  }
  return out
}

extension StringProtocol {
  fileprivate func trimmingASCIISpaces() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(self[first ... last])
  }
}
