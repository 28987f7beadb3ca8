// Handles from a model's published settings: Hugging Face config.json or GGUF metadata.
import ResonanceRopeCore

/// Bytes of a caller's text: `length` bytes, or up to the NUL when length == -1.
func textBytes(_ text: UnsafePointer<CChar>?, _ length: Int64, _ name: String) throws(CallError) -> [UInt8] {
  let text = try required(text, name)
  var n = length
  if n == -1 {
    n = 0
    // Bounded scan: a config is never near 64 MiB (the JSON reader's own limit).
    while text[Int(n)] != 0 {
      n += 1
      guard n <= Int64(JSONValue.maxBytes) else { throw CallError(.bufferTooSmall, "\(name) is longer than \(JSONValue.maxBytes) bytes") }
    }
  }
  guard n >= 0 else { throw CallError(.overflow, "\(name)_length = \(length): must be >= 0 or -1 (NUL-terminated)") }
  guard n <= Int64(JSONValue.maxBytes) else { throw CallError(.bufferTooSmall, "\(name)_length = \(n): larger than \(JSONValue.maxBytes) bytes") }
  // The copy and the parse allocate Swift memory: prove its bound first (n <= 64 MiB: no overflow).
  try core { () throws(RopeError) in
    try requireMemory(bytes: Int(n) * textParseBytesPerInputByte, "the copy and parse of \(name) (\(n) bytes)")
  }
  return text.withMemoryRebound(to: UInt8.self, capacity: Int(n)) { Array(UnsafeBufferPointer(start: $0, count: Int(n))) }
}

/// The periodic cos/sin table budget of every handle. The fuzzing build (make fuzz-build,
/// -DRESONANCE_ROPE_FUZZ) uses a small one: most of its time went into filling 4 MiB tables,
/// and a small budget still exercises both the table and the polynomial kernels.
#if RESONANCE_ROPE_FUZZ
let handlePeriodicBudget = 1 << 9
#else
let handlePeriodicBudget = FastAngles.defaultBudgetEntries
#endif

/// Stores a new handle for `config` in `out`.
func createHandle(_ config: RopeConfig, _ out: UnsafeMutablePointer<OpaquePointer?>) throws(CallError) {
  let t = try core { () throws(RopeError) in try FrequencyTable(config, periodicBudget: handlePeriodicBudget) }
  out.pointee = OpaquePointer(Unmanaged.passRetained(t).toOpaque())
}

/// Creates a handle from the text of a Hugging Face `config.json` (UTF-8, `json_length` bytes, or
/// NUL-terminated with json_length = -1), as transformers reads it: `rope_theta` (absent: 10000)
/// or `rotary_emb_base`; `rope_scaling` (key `type` or `rope_type`) or `rope_parameters`:
/// default, linear, dynamic, yarn, llama3, longrope (also "su"), ntk; `partial_rotary_factor`,
/// `rotary_pct` or `rotary_dim`; `head_dim`, else hidden_size / num_attention_heads (or
/// n_embd / n_head); `qk_rope_head_dim` (DeepSeek: rope on that slice, interleaved);
/// `max_position_embeddings`; `original_max_position_embeddings` at top level or in the scaling.
/// GPT-J-style configs get RR_LAYOUT_GPTJ, others RR_LAYOUT_NEOX. `sequence_length` (> 0, or 0
/// for none) is the current length that dynamic NTK and LongRoPE depend on. `resonance` nonzero
/// rounds the final wavelengths (e.g. Resonance YaRN). Nothing is kept after return.
///
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER, RR_STATUS_OVERFLOW (json_length < -1),
/// RR_STATUS_BUFFER_TOO_SMALL (text over 64 MiB; checked before any byte is read),
/// RR_STATUS_OUT_OF_MEMORY (64 bytes per text byte, for the copy and the parse, are proven
/// available before the text is copied), RR_STATUS_OVERLAP (*out_rope inside the text),
/// RR_STATUS_PARSE_ERROR (not strict JSON: truncated, malformed, invalid UTF-8, duplicate keys,
/// nesting deeper than 64, a number outside the double range; the message gives the byte
/// offset), RR_STATUS_UNSUPPORTED (an unknown rope_type), RR_STATUS_INVALID_VALUE (a field of the
/// wrong type or out of its domain, sequence_length < 0), RR_STATUS_INVALID_DIMENSION
/// (inconsistent dimensions); the message names the field. On error *out_rope is unchanged.
/// Added in 0.1.0.
@c(rr_rope_create_from_hf_config) public func rrRopeCreateFromHFConfig(
  _ json: UnsafePointer<CChar>?, _ json_length: Int64, _ sequence_length: Int64, _ resonance: Int32,
  _ out_rope: UnsafeMutablePointer<OpaquePointer?>?
) -> Status {
  guarded("rr_rope_create_from_hf_config") { () throws(CallError) in
    let bytes = try textBytes(json, json_length, "json")
    let out = try required(out_rope, "out_rope")
    try requireDisjoint(outputs: [ByteRange("out_rope", out, count: 1)], inputs: [ByteRange("json", json, count: Int64(bytes.count))])
    guard sequence_length >= 0 else { throw CallError(.invalidValue, "sequence_length = \(sequence_length): must be >= 0 (0 = none)") }
    let settings = try core { () throws(RopeError) -> ModelRopeSettings in
      guard let root = try JSONValue.parse(utf8: bytes).objectValue else {
        throw RopeError(.parse, "config.json: the top level must be an object")
      }
      return try ropeConfig(fromHFConfig: root, sequenceLength: sequence_length == 0 ? nil : sequence_length, resonance: resonance != 0)
    }
    try createHandle(settings.config, out)
  }
}

/// Creates a handle from GGUF-style metadata given as text, one `key=value` per line (blank lines
/// and lines starting with '#' are skipped; arrays as `[a, b, ...]`, strings optionally quoted):
/// `general.architecture`, `<arch>.rope.freq_base`, `<arch>.rope.dimension_count`,
/// `<arch>.attention.key_length`, `<arch>.context_length`, `<arch>.rope.scaling.type`
/// (none, linear, yarn, longrope), `.factor`, `.original_context_length`, `.attn_factor`,
/// `.yarn_beta_fast`, `.yarn_beta_slow`, and a `rope_freqs` array (per-pair divisors).
/// `layout` is an rr_layout, or -1 to take it from the architecture as llama.cpp does (unknown
/// architectures then fail with RR_STATUS_UNSUPPORTED). Other arguments as in
/// rr_rope_create_from_hf_config(), with the same statuses plus RR_STATUS_UNKNOWN_ENUM (layout).
/// Added in 0.1.0.
@c(rr_rope_create_from_gguf_metadata) public func rrRopeCreateFromGGUFMetadata(
  _ text: UnsafePointer<CChar>?, _ text_length: Int64, _ sequence_length: Int64, _ resonance: Int32, _ layout: Int32,
  _ out_rope: UnsafeMutablePointer<OpaquePointer?>?
) -> Status {
  guarded("rr_rope_create_from_gguf_metadata") { () throws(CallError) in
    let bytes = try textBytes(text, text_length, "text")
    let out = try required(out_rope, "out_rope")
    try requireDisjoint(outputs: [ByteRange("out_rope", out, count: 1)], inputs: [ByteRange("text", text, count: Int64(bytes.count))])
    guard sequence_length >= 0 else { throw CallError(.invalidValue, "sequence_length = \(sequence_length): must be >= 0 (0 = none)") }
    var pairLayout: PairLayout? = nil
    if layout != -1 {
      guard let l = PairLayout(rawValue: layout) else { throw CallError(.unknownEnum, "layout = \(layout) is not an rr_layout or -1") }
      pairLayout = l
    }
    let settings = try core { () throws(RopeError) -> ModelRopeSettings in
      let pairs = try parseGGUFMetadataText(utf8: bytes)
      return try ropeConfig(fromGGUFMetadata: pairs, sequenceLength: sequence_length == 0 ? nil : sequence_length,
                            resonance: resonance != 0, layout: pairLayout)
    }
    try createHandle(settings.config, out)
  }
}
