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
struct RopeOptions: ParsableArguments {
  @Option(help: "Read the rope settings from a Hugging Face config.json (other flags then only add --resonance and --seq-len).")
  var hfConfig: String?
  @Option(help: "Rotary dimension d (even).") var rotaryDim: Int?
  @Option(help: "Head dimension (>= rotary dim; default: rotary dim).") var headDim: Int?
  @Option(help: "RoPE base (rope_theta).") var base: Double = 10000
  @Flag(help: "Round wavelengths to integers (Resonance RoPE).") var resonance = false
  @Option(help: "Pair layout: neox or gptj.") var pairLayout: String = "neox"
  @Option(help: "Scaling: none, linear, ntk, dynamic, yarn, llama3, longrope.") var scaling: String = "none"
  @Option(help: "Scaling factor.") var factor: Double?
  @Option(help: "original_max_position_embeddings.") var originalMaxPosition: Int64?
  @Option(help: "max_position_embeddings.") var maxPosition: Int64?
  @Option(help: "Current sequence length (dynamic, longrope).") var seqLen: Int64?
  @Option(help: "YaRN beta_fast (default 32).") var betaFast: Double?
  @Option(help: "YaRN beta_slow (default 1).") var betaSlow: Double?
  @Flag(help: "YaRN: do not floor/ceil the correction range.") var noTruncate = false
  @Option(help: "YaRN mscale.") var mscale: Double?
  @Option(help: "YaRN mscale_all_dim.") var mscaleAllDim: Double?
  @Option(help: "Llama 3 low_freq_factor.") var lowFreqFactor: Double?
  @Option(help: "Llama 3 high_freq_factor.") var highFreqFactor: Double?
  @Option(help: "Attention (magnitude) factor; default: the scaling's.") var attentionFactor: Double?

  func config() throws -> RopeConfig {
    if let path = hfConfig {
      let text = try readTextFile(path)
      return try ropeConfig(fromHFConfigJSON: text, sequenceLength: seqLen, resonance: resonance).config
    }
    guard let rotaryDim else { throw ValidationError("--rotary-dim (or --hf-config) is required") }
    guard let layout = ["neox": PairLayout.neox, "gptj": .gptj][pairLayout] else {
      throw ValidationError("--pair-layout must be neox or gptj")
    }
    guard let kind = ScalingKind(name: scaling), kind != .freqFactors, kind != .longrope else {
      throw ValidationError("--scaling must be one of none, linear, ntk, dynamic, yarn, llama3 (longrope: use --hf-config)")
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
    return RopeConfig(rotaryDim: rotaryDim, headDim: headDim, base: base, resonance: resonance,
                      layout: layout, scaling: try f.makeScaling(), attentionFactor: attentionFactor)
  }

  func table() throws -> FrequencyTable { try FrequencyTable(config()) }
}

