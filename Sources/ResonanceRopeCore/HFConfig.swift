// Reading a model's RoPE settings from a Hugging Face config.json (see ModelRopeSettings.swift).

/// The scaling dict's keys this reader understands (others are reported in `notes` and ignored).
private let knownScalingKeys: Set<String> = [
  "type", "rope_type", "rope_theta", "factor", "original_max_position_embeddings", "attention_factor",
  "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "low_freq_factor", "high_freq_factor",
  "short_factor", "long_factor", "partial_rotary_factor",
]

/// Parses a Hugging Face config.json and returns its rotary settings.
public func ropeConfig(fromHFConfigJSON text: String, sequenceLength: Int64?, resonance: Bool) throws(RopeError) -> ModelRopeSettings {
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

  // transformers' resolution rules, expressed as the fields handed to `makeScaling`.
  var fields = ScalingFields()
  var originalMax: Int64? = nil
  switch typeName {
  case "default":
    break
  case "linear":
    fields.kind = .linear
    fields.factor = try required("factor")
  case "ntk":
    fields.kind = .ntk
    fields.factor = try required("factor")
    notes.append("rope_type \"ntk\": static NTK-aware base (not in transformers 5's table)")
  case "dynamic":
    guard let m = maxPositions else {
      throw RopeError(.invalidValue, "max_position_embeddings: required for rope_type \"dynamic\"")
    }
    if sequenceLength == nil { notes.append("dynamic: no sequence length, max_position_embeddings used (as at init)") }
    fields.kind = .dynamic
    fields.factor = try required("factor")
    fields.maxPositions = m
    fields.sequenceLength = sequenceLength
  case "yarn":
    fields.kind = .yarn
    originalMax = try original()
    fields.originalMaxPositions = originalMax
    fields.factor = try dict?.number("factor", path)
    if fields.factor == nil {
      guard let m = maxPositions else {
        throw RopeError(.invalidValue, "\(path)factor: absent, and no max_position_embeddings to derive it from")
      }
      fields.maxPositions = m  // makeScaling: factor = max / original
      notes.append("yarn factor = max_position_embeddings / original_max_position_embeddings")
    }
    // transformers reads `beta_fast or 32`: null and 0 both mean the default (nil here).
    fields.betaFast = try dict?.number("beta_fast", path)
    fields.betaSlow = try dict?.number("beta_slow", path)
    if (fields.betaFast ?? 0) == 0 { fields.betaFast = nil; notes.append("beta_fast 32 (default)") }
    if (fields.betaSlow ?? 0) == 0 { fields.betaSlow = nil; notes.append("beta_slow 1 (default)") }
    fields.truncate = try dict?.bool("truncate", path)
    fields.mscale = try dict?.number("mscale", path)
    fields.mscaleAllDim = try dict?.number("mscale_all_dim", path)
  case "llama3":
    fields.kind = .llama3
    originalMax = try original()
    fields.originalMaxPositions = originalMax
    fields.factor = try required("factor")
    fields.lowFreqFactor = try required("low_freq_factor")
    fields.highFreqFactor = try required("high_freq_factor")
  case "longrope", "su":
    if typeName == "su" { notes.append("rope_type \"su\" read as \"longrope\" (its former name)") }
    fields.kind = .longrope
    let orig = try original()
    originalMax = orig
    fields.originalMaxPositions = orig
    guard let short = try dict?.numbers("short_factor", path) else {
      throw RopeError(.invalidValue, "\(path)short_factor: required for rope_type \"longrope\"")
    }
    guard let long = try dict?.numbers("long_factor", path) else {
      throw RopeError(.invalidValue, "\(path)long_factor: required for rope_type \"longrope\"")
    }
    fields.shortFactor = short
    fields.longFactor = long
    fields.factor = try dict?.number("factor", path)
    if fields.factor == nil && maxPositions == nil {
      throw RopeError(.invalidValue, "\(path)factor: absent, and no max_position_embeddings to derive it from")
    }
    fields.maxPositions = maxPositions  // makeScaling: absent = the original length
    fields.sequenceLength = sequenceLength
    notes.append((sequenceLength ?? 0) > orig ? "longrope: long factors (sequence length > original)" : "longrope: short factors")
  default:
    throw RopeError(.unsupported, "\(path)rope_type = \"\(typeName)\": not supported (default, linear, dynamic, yarn, llama3, longrope, ntk)")
  }
  if attentionFactor != nil, typeName != "yarn", typeName != "longrope", typeName != "su" {
    notes.append("ignored \(path)attention_factor (transformers uses it for yarn and longrope only)")
    attentionFactor = nil
  }

  let config = RopeConfig(rotaryDim: rotaryDim, headDim: headDim, base: base, resonance: resonance,
                          layout: layout, scaling: try fields.makeScaling(), attentionFactor: attentionFactor)
  try config.validate()
  return ModelRopeSettings(config: config, maxPositions: maxPositions, originalMaxPositions: originalMax, notes: notes)
}

