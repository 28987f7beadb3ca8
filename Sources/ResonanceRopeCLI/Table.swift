// `resonance-rope table`: write a cos/sin cache as .npy.
import ArgumentParser
import ResonanceRopeCore

struct Table: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write float32 cos and sin for positions start ..< start + count as a .npy file.",
    discussion: """
      The file holds [2, count, width] (cos first) for layouts half (width d/2), hf and gptj \
      (width d); for vllm it holds the cache itself, [count, d] with cos then sin in each row.
      """)

  @OptionGroup var rope: RopeOptions
  @Flag(help: "Round wavelengths to integers (Resonance RoPE).") var resonance = false
  @Option(parsing: .unconditional, help: "First position (any int64; negative as --start -5).") var start: Int64
  @Option(parsing: .unconditional, help: "Number of positions.") var count: Int
  @Option(help: "Table layout: half (default), hf, vllm or gptj.") var tableLayout: String?
  @Option(name: .customLong("layout"), help: ArgumentHelp("Old name of --table-layout.", visibility: .hidden))
  var oldLayout: String?
  @Flag(help: "Multiply cos and sin by the attention factor.") var applyAttentionFactor = false
  @Option(help: "Output .npy file.") var out: String

  func run() throws {
    if tableLayout != nil, oldLayout != nil { throw ValidationError("--layout is the old name of --table-layout: give one of them") }
    let layout = tableLayout ?? oldLayout ?? "half"
    let t = try rope.table(resonance: resonance)
    guard let tl = TableLayout.allCases.first(where: { $0.name == layout }) else {
      throw ValidationError("--table-layout must be half, hf, vllm or gptj")
    }
    // The core checks count, the position range and the table size (CoreAPI.swift).
    let values = try t.cosSinTable(layout: tl, start: start, count: count, applyAttentionFactor: applyAttentionFactor)
    let w = tl.rowWidth(pairs: t.pairCount)
    try writeNpy(path: out, shape: tl.usesSinBuffer ? [2, count, w] : [count, w], values: values)
  }
}
