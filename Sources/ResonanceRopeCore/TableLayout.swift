// cos/sin cache layouts used by inference engines, and the table fill.

// The C ABI's rr_table_layout: tools/gen_header.py writes these values and doc comments into the header.
/// Row layouts of a cos/sin cache for n positions (d = rotary dim, h = d / 2,
/// ci = cos(angle of pair i), si = sin(angle of pair i)):
///
///     half  cos [n, h], sin [n, h]                      c0 c1 .. c(h-1)
///     hf    cos [n, d], sin [n, d]  (Hugging Face)      c0 c1 .. c(h-1) c0 c1 .. c(h-1)
///     vllm  cache [n, d], cos then sin (one buffer)      c0 .. c(h-1) s0 .. s(h-1)
///     gptj  cos [n, d], sin [n, d]  (interleaved)       c0 c0 c1 c1 .. c(h-1) c(h-1)
///
/// Added in 0.1.0.
public enum TableLayout: Int32, Sendable, CaseIterable {
  /// One value per pair.
  case half = 0
  /// Hugging Face: cat(freqs, freqs).
  case hf = 1
  /// vLLM cos_sin_cache: cos then sin in one row.
  case vllm = 2
  /// GPT-J: each value twice, interleaved.
  case gptj = 3

  public func rowWidth(pairs: Int) -> Int { self == .half ? pairs : 2 * pairs }
  /// The vLLM layout writes cos and sin into one buffer; the others need a separate sin buffer.
  public var usesSinBuffer: Bool { self != .vllm }

  var kernelLayout: KernelCacheLayout {
    switch self {
    case .half: .half
    case .hf: .hf
    case .vllm: .vllm
    case .gptj: .gptj
    }
  }

  public var name: String {
    switch self {
    case .half: "half"
    case .hf: "hf"
    case .vllm: "vllm"
    case .gptj: "gptj"
    }
  }
}

extension FrequencyTable {
  /// Writes the per-pair cos and sin of one position, scaled by `scale`, rounded once to Float,
  /// through the exact path (the reference the fast generator is tested against).
  @inline(__always)
  package func cosSinRow(position: Int64, scale: Double, sinSign: Double,
                         cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    for i in 0 ..< pairCount {
      let cs = cosSin(pair: i, position: position)
      cos[i] = Float(cs.cos * scale)
      sin[i] = Float(cs.sin * (scale * sinSign))
    }
  }
}
