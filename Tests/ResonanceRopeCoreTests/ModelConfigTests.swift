// Hugging Face config.json and GGUF-style metadata -> RopeConfig.
import Glibc
import Testing
@testable import ResonanceRopeCore

@Suite struct ModelConfigTests {
  func settings(_ name: String, _ n: Int64? = nil) throws -> ModelRopeSettings {
    let text = try #require(readFixture("hf_configs/\(name).json"))
    return try ropeConfig(fromHFConfigJSON: text, sequenceLength: n, resonance: false)
  }

  @Test func fixtureDimensionsAndTypes() throws {
    // (file, rotary dim, head dim, base, layout, scaling, max, original)
    let expected: [(String, Int, Int, Double, PairLayout, String, Int64?, Int64?)] = [
      ("deepseek-v3", 64, 64, 10000, .gptj, "yarn", 163840, 4096),
      ("gpt-j-6b", 64, 256, 10000, .gptj, "none", 2048, nil),
      ("gpt-oss-20b", 64, 64, 150000, .neox, "yarn", 131072, 4096),
      ("llama-2-7b-hf", 128, 128, 10000, .neox, "none", 4096, nil),
      ("llama-3.1-8b", 128, 128, 500000, .neox, "llama3", 131072, 8192),
      ("phi-2", 32, 80, 10000, .neox, "none", 2048, nil),
      ("phi-3.5-mini-instruct", 96, 96, 10000, .neox, "longrope", 131072, 4096),
      ("qwen2.5-7b-instruct-yarn", 128, 128, 1_000_000, .neox, "yarn", 32768, 32768),
    ]
    for (name, rd, hd, base, layout, scaling, maxPos, orig) in expected {
      let s = try settings(name)
      #expect(s.config.rotaryDim == rd, "\(name)")
      #expect(s.config.headDim == hd, "\(name)")
      #expect(s.config.base == base, "\(name)")
      #expect(s.config.layout == layout, "\(name)")
      #expect(s.config.scaling.name == scaling, "\(name)")
      #expect(s.maxPositions == maxPos, "\(name)")
      #expect(s.originalMaxPositions == orig, "\(name)")
      #expect(s.config.attentionFactor == nil, "\(name)")
      #expect(!s.notes.isEmpty)
    }
  }

  @Test func fixtureDetails() throws {
    let ds = try settings("deepseek-v3")
    #expect(ds.config.scaling == .yarn(YarnParameters(factor: 40, originalMaxPositions: 4096, mscale: 1, mscaleAllDim: 1)))
    let oss = try settings("gpt-oss-20b")
    guard case .yarn(let p) = oss.config.scaling else { Issue.record("gpt-oss"); return }
    #expect(p.truncate == false && p.factor == 32)
    let llama2 = try settings("llama-2-7b-hf")
    #expect(llama2.notes.contains { $0.contains("base 10000") })
    let phi = try settings("phi-3.5-mini-instruct", 131072)
    guard case .longrope(let lp) = phi.config.scaling else { Issue.record("phi-3.5"); return }
    #expect(lp.shortFactor.count == 48 && lp.longFactor.count == 48 && lp.factor == nil && lp.sequenceLength == 131072)
    #expect(phi.notes.contains { $0.contains("long factors") })
  }

  func hf(_ text: String, _ n: Int64? = nil) throws(RopeError) -> ModelRopeSettings {
    try ropeConfig(fromHFConfigJSON: text, sequenceLength: n, resonance: false)
  }

  /// The reader, then the table (which checks the scaling's values: the readers do not compute
  /// frequencies themselves).
  func expectError(_ text: String, _ kind: RopeErrorKind, mentioning field: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
      _ = try FrequencyTable(try hf(text).config)
      Issue.record("no error for \(text)", sourceLocation: sourceLocation)
    } catch {
      #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
      #expect(error.message.contains(field), "\(error.message)", sourceLocation: sourceLocation)
    }
  }

  @Test func transformers5RopeParameters() throws {
    let s = try hf("""
      {"hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 131072,
       "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                           "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
      """)
    #expect(s.config.base == 500000)
    #expect(s.config.scaling == .llama3(Llama3Parameters(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)))
  }

  @Test func otherTypesAndDefaults() throws {
    let lin = try hf(#"{"head_dim": 64, "rope_scaling": {"type": "linear", "factor": 2}}"#)
    #expect(lin.config.scaling == .linear(factor: 2))
    let dyn = try hf(#"{"head_dim": 64, "max_position_embeddings": 2048, "rope_scaling": {"rope_type": "dynamic", "factor": 2}}"#, 8192)
    #expect(dyn.config.scaling == .dynamic(factor: 2, maxPositions: 2048, sequenceLength: 8192))
    let def = try hf(#"{"head_dim": 64, "rope_scaling": {"rope_type": "default"}}"#)
    #expect(def.config.scaling == .none)
    // YaRN without factor: max / original; beta 0 means default (transformers' `or`).
    let y = try hf(#"{"head_dim": 64, "max_position_embeddings": 65536, "rope_scaling": {"type": "yarn", "original_max_position_embeddings": 4096, "beta_fast": 0, "attention_factor": 1.5}}"#)
    #expect(y.config.scaling == .yarn(YarnParameters(factor: 16, originalMaxPositions: 4096)))
    #expect(y.config.attentionFactor == 1.5)
    let neox = try hf(#"{"hidden_size": 2048, "num_attention_heads": 16, "rotary_pct": 0.25, "rotary_emb_base": 10000, "model_type": "gpt_neox"}"#)
    #expect(neox.config.rotaryDim == 32 && neox.config.headDim == 128 && neox.config.layout == .neox)
    let su = try hf(#"{"head_dim": 4, "max_position_embeddings": 8192, "original_max_position_embeddings": 4096, "rope_scaling": {"type": "su", "short_factor": [1, 1], "long_factor": [2, 2]}}"#)
    #expect(su.config.scaling.name == "longrope")
    // 2^53 + 1 stays exact as an integer field.
    let big = try hf(#"{"head_dim": 64, "max_position_embeddings": 9007199254740993}"#)
    #expect(big.maxPositions == 9007199254740993)
  }

  @Test func refusals() {
    expectError(#"{"head_dim": 64, "rope_scaling": {"rope_type": "mrope"}}"#, .unsupported, mentioning: "rope_type")
    expectError(#"{"head_dim": 64, "rope_scaling": {"rope_type": "linear"}}"#, .invalidValue, mentioning: "rope_scaling.factor")
    expectError(#"{"head_dim": 64, "rope_scaling": {"rope_type": "linear", "factor": "2"}}"#, .invalidValue, mentioning: "rope_scaling.factor")
    expectError(#"{"head_dim": 80, "partial_rotary_factor": 0.4375}"#, .invalidDimension, mentioning: "partial_rotary_factor")
    expectError(#"{"head_dim": 80, "partial_rotary_factor": 1.5}"#, .invalidValue, mentioning: "partial_rotary_factor")
    expectError(#"{"head_dim": 80, "partial_rotary_factor": 0.4, "rotary_dim": 16}"#, .invalidDimension, mentioning: "rotary_dim")
    expectError(#"{"head_dim": 65}"#, .invalidDimension, mentioning: "rotary_dim")
    expectError(#"{"hidden_size": 100, "num_attention_heads": 3}"#, .invalidDimension, mentioning: "hidden_size")
    expectError(#"{"max_position_embeddings": 10}"#, .invalidDimension, mentioning: "head_dim")
    expectError(#"{"head_dim": 64, "rope_theta": 1e4, "rope_parameters": {"rope_theta": 5e5}}"#, .invalidValue, mentioning: "rope_theta")
    expectError(#"{"head_dim": 64, "rope_theta": -1}"#, .invalidValue, mentioning: "base")
    expectError(#"{"head_dim": 64, "max_position_embeddings": 10.5}"#, .invalidValue, mentioning: "max_position_embeddings")
    expectError(#"{"head_dim": 64, "max_position_embeddings": -10}"#, .invalidValue, mentioning: "max_position_embeddings")
    expectError(#"{"head_dim": 64, "rope_scaling": {"type": "yarn", "rope_type": "linear", "factor": 2}}"#, .invalidValue, mentioning: "rope_type")
    expectError(#"{"head_dim": 8, "max_position_embeddings": 8192, "rope_scaling": {"type": "longrope", "original_max_position_embeddings": 4096, "short_factor": [1, 1, 1], "long_factor": [1, 1, 1, 1]}}"#,
                .invalidDimension, mentioning: "short_factor")
    expectError(#"{"head_dim": 8, "rope_scaling": {"type": "yarn", "factor": 4}}"#, .invalidValue, mentioning: "original_max_position_embeddings")
    expectError(#"{"head_dim": 8, "rope_scaling": {"type": "dynamic", "factor": 4}}"#, .invalidValue, mentioning: "max_position_embeddings")
    expectError(#"{"head_dim": 8, "rope_scaling": {"type": "linear", "factor": 2}, "rope_parameters": {"type": "linear", "factor": 3}}"#,
                .invalidValue, mentioning: "rope_parameters")
    expectError(#"{"head_dim": 8, "rope_parameters": {"full_attention": {"rope_type": "default"}}}"#, .unsupported, mentioning: "per-layer")
    expectError(#"[1, 2]"#, .parse, mentioning: "object")
    expectError(#"{"head_dim": 8,}"#, .parse, mentioning: "byte")
    expectError(#"{"head_dim": 4294967296}"#, .invalidDimension, mentioning: "head_dim")
    expectError(#"{"head_dim": 1e300}"#, .invalidValue, mentioning: "head_dim")
  }

  // MARK: GGUF

  @Test func ggufLlama31() throws {
    let pairs = try parseGGUFMetadataText("""
      # Llama 3.1 as llama.cpp stores it: llama3 bands baked into rope_freqs
      general.architecture = llama
      llama.rope.freq_base=500000
      llama.rope.dimension_count=4
      llama.context_length=131072
      llama.embedding_length=64
      llama.attention.head_count=16
      rope_freqs=[1, 8]
      """)
    let s = try ropeConfig(fromGGUFMetadata: pairs, sequenceLength: nil, resonance: true)
    #expect(s.config.base == 500000 && s.config.rotaryDim == 4 && s.config.headDim == 4 && s.config.layout == .gptj)
    #expect(s.config.scaling == .frequencyFactors([1, 8]))
    #expect(s.maxPositions == 131072 && s.config.resonance)
  }

  @Test func ggufYarn() throws {
    let pairs: [(key: String, value: GGUFValue)] = [
      ("qwen2.rope.freq_base", .float(1e6)), ("qwen2.rope.dimension_count", .int(128)),
      ("qwen2.rope.scaling.type", .string("yarn")), ("qwen2.rope.scaling.factor", .float(4)),
      ("qwen2.rope.scaling.original_context_length", .int(32768)), ("qwen2.context_length", .int(131072)),
      ("qwen2.rope.scaling.yarn_beta_fast", .float(32)),
    ]
    let s = try ropeConfig(fromGGUFMetadata: pairs, sequenceLength: nil, resonance: false)
    #expect(s.config.layout == .neox && s.config.headDim == 128)
    #expect(s.config.scaling == .yarn(YarnParameters(factor: 4, originalMaxPositions: 32768)))
    let table = try FrequencyTable(s.config)
    let r = refYarn(d: 128, base: 1e6, factor: 4, original: 32768)
    #expect(maxRelativeError(table.scaledInvFreq, r.inv) <= 4e-15)
    #expect(abs(table.attentionFactor - r.attention) <= 1e-12)
  }

  @Test func ggufRefusals() throws {
    func check(_ text: String, _ kind: RopeErrorKind, _ field: String, layout: PairLayout? = nil) {
      do {
        _ = try FrequencyTable(try ropeConfig(fromGGUFMetadata: try parseGGUFMetadataText(text), sequenceLength: nil,
                                              resonance: false, layout: layout).config)
        Issue.record("no error: \(text)")
      } catch {
        #expect(error.kind == kind, "\(error)")
        #expect(error.message.contains(field), "\(error.message)")
      }
    }
    check("foo.rope.dimension_count=64", .unsupported, "foo")
    check("llama.rope.dimension_count=64\nllama.rope.scaling.type=weird", .unsupported, "scaling.type")
    check("llama.rope.dimension_count=63", .invalidDimension, "rotary_dim")
    check("llama.rope.dimension_count=64\nllama.rope.dimension_count=64", .invalidValue, "twice")
    check("llama.rope.dimension_count=4\nrope_freqs=[1,2,3]", .invalidDimension, "freq_factors")
    check("llama.rope.dimension_count=4\nllama.rope.scaling.type=yarn\nllama.rope.scaling.factor=4", .invalidValue, "original_context_length")
    check("a.rope.freq_base=1\nb.rope.freq_base=2", .invalidValue, "architecture")
    check("llama.rope.dimension_count=x", .invalidValue, "dimension_count")
    #expect(throws: RopeError.self) { try parseGGUFMetadataText("no equals sign") }
    #expect(throws: RopeError.self) { try parseGGUFMetadataText("rope_freqs=[1, nan]") }
    #expect(throws: RopeError.self) { try parseGGUFMetadataText("rope_freqs=[1, 2") }
    let explicit = try ropeConfig(fromGGUFMetadata: try parseGGUFMetadataText("foo.rope.dimension_count=8"),
                                  sequenceLength: nil, resonance: false, layout: .neox)
    #expect(explicit.config.rotaryDim == 8 && explicit.config.base == 10000)
  }
}
