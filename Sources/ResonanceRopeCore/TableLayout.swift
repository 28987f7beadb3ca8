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
package enum TableLayout: Int32, Sendable, CaseIterable {
  /// One value per pair.
  case half = 0
  /// Hugging Face: cat(freqs, freqs).
  case hf = 1
  /// vLLM cos_sin_cache: cos then sin in one row.
  case vllm = 2
  /// GPT-J: each value twice, interleaved.
  case gptj = 3

  package func rowWidth(pairs: Int) -> Int { self == .half ? pairs : 2 * pairs }
  /// The vLLM layout writes cos and sin into one buffer; the others need a separate sin buffer.
  package var usesSinBuffer: Bool { self != .vllm }

  package var name: String {
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

  /// Fills a cos/sin cache for `count` positions. `sin` must be non-nil unless layout == .vllm.
  /// `scale` multiplies every value once (the attention factor, or 1). Rows come from the fast
  /// generator (FastAngles.swift): consecutive positions step the periodic residues.
  package func fillTable(layout: TableLayout, positions: Positions, count: Int, scale: Double,
                         cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>?) {
    let h = pairCount
    let w = layout.rowWidth(pairs: h)
    let cap = rowCapacity
    // Output rows are prefetched `prefetchRowsAhead` rows ahead (Rotation.swift): without it the
    // row stores wait for their cache lines one by one (measured: 0.48 of a memory fill, 0.96
    // with it, 131072 x 64 half rows).
    let rowBytes = w &* MemoryLayout<Float>.stride, ahead = prefetchRowsAhead &* rowBytes
    @inline(__always) func prefetchAhead(_ co: UnsafeMutablePointer<Float>, _ so: UnsafeMutablePointer<Float>?) {
      _prefetch(UnsafeRawPointer(co).advanced(by: ahead), bytes: rowBytes)
      if let so { _prefetch(UnsafeRawPointer(so).advanced(by: ahead), bytes: rowBytes) }
    }
    withRowScratch(width: cap) { c, s, residues in
      var cursor = makeCursor(storage: residues)
      // Every pair from the periodic table writes exactly h values: straight into half rows.
      if layout == .half && scale == 1 && periodicTablePairs == h {
        for t in 0 ..< count {
          let co = cos + t &* w, so = sin! + t &* w
          prefetchAhead(co, so)
          fastCosSinRow(position: positions[t], scale: 1, sinSign: 1, cursor: &cursor, cos: co, sin: so)
        }
        return
      }
      for t in 0 ..< count {
        let co = cos + t &* w  // inside the validated n * width buffer
        prefetchAhead(co, layout.usesSinBuffer ? sin! + t &* w : nil)
        fastCosSinRow(position: positions[t], scale: scale, sinSign: 1, cursor: &cursor, cos: c, sin: s)
        switch layout {
        case .half:
          co.update(from: c, count: h)
          (sin! + t &* w).update(from: s, count: h)
        case .hf:
          let so = sin! + t &* w
          co.update(from: c, count: h); (co + h).update(from: c, count: h)
          so.update(from: s, count: h); (so + h).update(from: s, count: h)
        case .vllm:
          co.update(from: c, count: h); (co + h).update(from: s, count: h)
        case .gptj:
          let so = sin! + t &* w
          for i in 0 ..< h {
            co[2 &* i] = c[i]; co[2 &* i &+ 1] = c[i]
            so[2 &* i] = s[i]; so[2 &* i &+ 1] = s[i]
          }
        }
      }
    }
  }
}
