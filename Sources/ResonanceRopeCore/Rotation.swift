// In-place rotation of strided q/k buffers. cos/sin are computed once per token and reused
// for every head of q and k.

/// One strided [tokens, heads, headDim] buffer, already validated (see `HeadGeometry.span`).
package struct HeadBuffer<Element> {
  package var base: UnsafeMutablePointer<Element>
  package var heads: Int
  package var tokenStride: Int
  package var headStride: Int

  package init(base: UnsafeMutablePointer<Element>, geometry g: HeadGeometry) {
    self.base = base
    self.heads = Int(g.heads)
    self.tokenStride = Int(g.tokenStride)
    self.headStride = Int(g.headStride)
  }
}

/// Rotates the pairs of one row by the given per-pair cos/sin (Float math, no fusion).
@inline(__always)
func rotateRow(_ p: UnsafeMutablePointer<Float>, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>,
               pairs h: Int, layout: PairLayout) {
  switch layout {
  case .neox:
    for i in 0 ..< h {
      let x1 = p[i], x2 = p[i + h]
      p[i] = x1 * c[i] - x2 * s[i]
      p[i + h] = x2 * c[i] + x1 * s[i]
    }
  case .gptj:
    for i in 0 ..< h {
      let x1 = p[2 * i], x2 = p[2 * i + 1]
      p[2 * i] = x1 * c[i] - x2 * s[i]
      p[2 * i + 1] = x2 * c[i] + x1 * s[i]
    }
  }
}

extension FrequencyTable {
  /// Rotates tokens `tokens` of q (and k) in place: pair i of token t turns by the angle of
  /// position `positions[t]` (negated when `inverse`), scaled by the attention factor when
  /// `applyAttentionFactor`. Dimensions past the rotary dim are not touched.
  package func rotate(q: HeadBuffer<Float>, k: HeadBuffer<Float>?, tokens: Range<Int>,
                      positions: Positions, inverse: Bool, applyAttentionFactor: Bool) {
    let h = pairCount
    let layout = config.layout
    let scale = applyAttentionFactor ? attentionFactor : 1
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * h) { scratch in
      let c = scratch.baseAddress!, s = c + h
      for t in tokens {
        cosSinRow(position: positions[t], scale: scale, sinSign: inverse ? -1 : 1, cos: c, sin: s)
        for head in 0 ..< q.heads {
          rotateRow(q.base + t * q.tokenStride + head * q.headStride, cos: c, sin: s, pairs: h, layout: layout)
        }
        if let k {
          for head in 0 ..< k.heads {
            rotateRow(k.base + t * k.tokenStride + head * k.headStride, cos: c, sin: s, pairs: h, layout: layout)
          }
        }
      }
    }
  }
}
