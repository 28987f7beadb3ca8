// The core's validated entry points for front ends that hold no buffers of their own (the
// `resonance-rope` CLI): every argument is checked here and results come back as arrays, so a
// caller cannot skip a check or reach a raw-pointer kernel. The C layer validates the caller's
// pointers and then calls the same core code (see docs/ARCHITECTURE.md).

extension FrequencyTable {
  /// Largest cos/sin table `cosSinTable` returns, in float32 elements (2^28 = 1 GiB): arrays
  /// cannot be allocated fallibly, so the size is bounded before the allocation.
  package static let maxTableElements = 1 << 28

  /// float32 cos and sin for positions start ..< start + count in `layout`, each row the
  /// layout's width w (d / 2 for half, d otherwise): [count, w] cos rows then [count, w] sin rows,
  /// or for vllm the cache itself, [count, d] with cos then sin in each row. The values are the
  /// ones rr_rope_cos_sin_f32() writes, times the attention factor when `applyAttentionFactor`.
  /// Throws for count < 0 (overflow), a position range past Int64 (overflow), or a table over
  /// `maxTableElements` (bufferTooSmall).
  package func cosSinTable(layout: TableLayout, start: Int64, count: Int, applyAttentionFactor: Bool) throws(RopeError) -> [Float] {
    try Positions.checkRange(start: start, count: Int64(count))
    let w = layout.rowWidth(pairs: pairCount)
    let (perBuffer, o1) = count.multipliedReportingOverflow(by: w)
    let buffers = layout.usesSinBuffer ? 2 : 1
    let (total, o2) = perBuffer.multipliedReportingOverflow(by: buffers)
    guard !o1, !o2, total <= Self.maxTableElements else {
      throw RopeError(.bufferTooSmall, "count = \(count): the table would hold more than \(Self.maxTableElements) floats")
    }
    var values = [Float](repeating: 0, count: total)
    if count > 0 {
      try values.withUnsafeMutableBufferPointer { (b) throws(RopeError) in
        let c = b.baseAddress!  // total > 0: a real allocation
        try fillTable(layout: layout, positions: .range(start: start), count: count,
                  scale: applyAttentionFactor ? attentionFactor : 1, cos: c, sin: layout.usesSinBuffer ? c + perBuffer : nil)
      }
    }
    return values
  }

  /// Per-pair divisors for llama.cpp's `rope_freqs`: f_i = r_i / theta~_i, rounded once to float
  /// (GGUF tensors are f32), with r_i the scaled frequency (`relativeToBase` false: the divisors
  /// on top of a scaling llama.cpp applies itself) or the unscaled base^(-2i/d) (true: a tensor
  /// that replaces one already carrying the scaling). Divided in double.
  package func resonanceFreqFactors(relativeToBase: Bool) -> [Float] {
    let reference = relativeToBase ? baseInverseFrequencies(rotaryDim: config.rotaryDim, base: config.base) : scaledInvFreq
    return (0 ..< pairCount).map { Float(frequencyFactor(pair: $0, relativeTo: reference[$0])) }
  }
}
