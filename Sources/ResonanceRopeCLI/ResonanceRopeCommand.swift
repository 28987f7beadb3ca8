// The `resonance-rope` command-line tool.
import ArgumentParser
import ResonanceRopeCore

@main
struct ResonanceRopeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resonance-rope",
    abstract: "Exact RoPE and Resonance RoPE frequency tables, analysis and data.",
    version: LibraryVersion.text.description,
    subcommands: [Freqs.self, Table.self, Gap.self, PosGenCommand.self, FreqFactors.self, Bench.self]
  )
}

/// Options shared by every command that builds a frequency table.
///
/// Vocabulary (the same in C, Python and here): the *pair layout* says which elements of a head
/// form a rotated pair (neox: (i, i + d/2); gptj: (2i, 2i + 1); C rr_layout, Python
/// `Rope(pair_layout=)`); the *table layout* is the row layout of a cos/sin cache (half, hf, vllm,
/// gptj; C rr_table_layout, Python `cos_sin(table_layout=)`, `table --table-layout`).
/// Numeric options take negative values as the next argument (`--start -5`): `.unconditional`.
struct RopeOptions: ParsableArguments {
  @Option(help: "Read the rope settings from a Hugging Face config.json (combines only with --seq-len and --resonance).")
  var hfConfig: String?
  @Option(parsing: .unconditional, help: "Rotary dimension d (even).") var rotaryDim: Int?
  @Option(parsing: .unconditional, help: "Head dimension (>= rotary dim; default: rotary dim).") var headDim: Int?
  @Option(parsing: .unconditional, help: "RoPE base (rope_theta; default 10000).") var base: Double?
  @Option(help: "Pair layout: neox (pairs i, i + d/2; default) or gptj (pairs 2i, 2i + 1).") var pairLayout: String?
  @Option(help: "Scaling: none (default), linear, ntk, dynamic, yarn, llama3, longrope (--short-factor, --long-factor) or freq_factors (--freq-factors).")
  var scaling: String?
  @Option(parsing: .unconditional, help: "Scaling factor.") var factor: Double?
  @Option(parsing: .unconditional, help: "original_max_position_embeddings.") var originalMaxPosition: Int64?
  @Option(parsing: .unconditional, help: "max_position_embeddings.") var maxPosition: Int64?
  @Option(parsing: .unconditional, help: "Current sequence length (dynamic, longrope).") var seqLen: Int64?
  @Option(parsing: .unconditional, help: "YaRN beta_fast (default 32).") var betaFast: Double?
  @Option(parsing: .unconditional, help: "YaRN beta_slow (default 1).") var betaSlow: Double?
  @Flag(help: "YaRN: do not floor/ceil the correction range.") var noTruncate = false
  @Option(parsing: .unconditional, help: "YaRN mscale.") var mscale: Double?
  @Option(parsing: .unconditional, help: "YaRN mscale_all_dim.") var mscaleAllDim: Double?
  @Option(parsing: .unconditional, help: "Llama 3 low_freq_factor.") var lowFreqFactor: Double?
  @Option(parsing: .unconditional, help: "Llama 3 high_freq_factor.") var highFreqFactor: Double?
  @Option(help: "LongRoPE short_factor: d/2 numbers, comma- or space-separated.") var shortFactor: String?
  @Option(help: "LongRoPE long_factor: d/2 numbers, comma- or space-separated.") var longFactor: String?
  @Option(help: "freq_factors: d/2 divisors of the pair frequencies (llama.cpp rope_freqs), comma- or space-separated.")
  var freqFactors: String?
  @Option(parsing: .unconditional, help: "Attention (magnitude) factor; default: the scaling's.") var attentionFactor: Double?

  /// The flags that describe the rope by hand, which --hf-config replaces (nil: not given).
  private var manualFlags: [(String, Bool)] {
    [("--rotary-dim", rotaryDim != nil), ("--head-dim", headDim != nil), ("--base", base != nil),
     ("--pair-layout", pairLayout != nil), ("--scaling", scaling != nil), ("--factor", factor != nil),
     ("--original-max-position", originalMaxPosition != nil), ("--max-position", maxPosition != nil),
     ("--beta-fast", betaFast != nil), ("--beta-slow", betaSlow != nil), ("--no-truncate", noTruncate),
     ("--mscale", mscale != nil), ("--mscale-all-dim", mscaleAllDim != nil),
     ("--low-freq-factor", lowFreqFactor != nil), ("--high-freq-factor", highFreqFactor != nil),
     ("--short-factor", shortFactor != nil), ("--long-factor", longFactor != nil),
     ("--freq-factors", freqFactors != nil), ("--attention-factor", attentionFactor != nil)]
  }

  func validate() throws {
    let given = manualFlags.filter(\.1).map(\.0)
    if hfConfig != nil, !given.isEmpty {
      throw ValidationError("--hf-config takes every rope setting from the file: drop \(given.joined(separator: ", ")) "
                            + "(only --seq-len and --resonance combine with it)")
    }
  }

  /// The configuration; `resonance` comes from the command (freqs and table have a --resonance
  /// flag; gap computes both variants, freq-factors is Resonance by definition).
  func config(resonance: Bool) throws -> RopeConfig {
    try validate()
    if let path = hfConfig {
      let text = try readTextFile(path)
      return try ropeConfig(fromHFConfigJSON: text, sequenceLength: seqLen, resonance: resonance).config
    }
    guard let rotaryDim else { throw ValidationError("--rotary-dim (or --hf-config) is required") }
    guard let layout = ["neox": PairLayout.neox, "gptj": .gptj][pairLayout ?? "neox"] else {
      throw ValidationError("--pair-layout must be neox or gptj")
    }
    guard let kind = ScalingKind(name: scaling ?? "none") else {
      throw ValidationError("--scaling must be one of \(ScalingKind.allCases.map(\.name).joined(separator: ", "))")
    }
    var f = ScalingFields(kind: kind)
    f.factor = factor
    f.originalMaxPositions = originalMaxPosition
    f.maxPositions = maxPosition
    f.sequenceLength = seqLen
    f.betaFast = betaFast
    f.betaSlow = betaSlow
    f.truncate = !noTruncate
    f.mscale = mscale
    f.mscaleAllDim = mscaleAllDim
    f.lowFreqFactor = lowFreqFactor
    f.highFreqFactor = highFreqFactor
    f.shortFactor = try shortFactor.map { try numberList($0, "--short-factor") }
    f.longFactor = try longFactor.map { try numberList($0, "--long-factor") }
    f.freqFactors = try freqFactors.map { try numberList($0, "--freq-factors") }
    return RopeConfig(rotaryDim: rotaryDim, headDim: headDim, base: base ?? 10000, resonance: resonance,
                      layout: layout, scaling: try f.makeScaling(), attentionFactor: attentionFactor)
  }

  func table(resonance: Bool) throws -> FrequencyTable { try FrequencyTable(config(resonance: resonance)) }
}

/// "1, 2.5 3": numbers separated by commas and/or spaces (the scaling checks count and range).
func numberList(_ text: String, _ flag: String) throws -> [Double] {
  let items = text.split(whereSeparator: { $0 == "," || $0 == " " })
  let values = items.map { Double($0) }
  guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
    throw ValidationError("\(flag) must be numbers separated by commas or spaces, got \"\(text)\"")
  }
  return values.map { $0! }
}
