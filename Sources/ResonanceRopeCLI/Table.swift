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
  @Option(help: "First position (any int64).") var start: Int64
  @Option(help: "Number of positions.") var count: Int
  @Option(help: "Layout: half, hf, vllm or gptj.") var layout: String = "half"
  @Flag(help: "Multiply cos and sin by the attention factor.") var applyAttentionFactor = false
  @Option(help: "Output .npy file.") var out: String

  func run() throws {
    let t = try rope.table()
    guard let tl = TableLayout.allCases.first(where: { $0.name == layout }) else {
      throw ValidationError("--layout must be half, hf, vllm or gptj")
    }
    // The core checks count, the position range and the table size (CoreAPI.swift).
    let values = try t.cosSinTable(layout: tl, start: start, count: count, applyAttentionFactor: applyAttentionFactor)
    let w = tl.rowWidth(pairs: t.pairCount)
    try writeNpy(path: out, shape: tl.usesSinBuffer ? [2, count, w] : [count, w], values: values)
  }
}
