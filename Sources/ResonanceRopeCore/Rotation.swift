// In-place rotation of strided q/k buffers: one generic kernel over the element format, cos/sin
// computed once per token (FastAngles.swift) and reused for every head of q and k.
//
// Numerics: elements are widened to float32, rotated in float32 without FMA and rounded back
// once (to nearest even for float16 / bfloat16):
//     x' = x c - y s,   y' = y c + x s
// The SIMD body and the scalar-width tails use the same lane code, so every element gets the same
// arithmetic whatever its place, the build (portable or -target-cpu native) or the thread count.

/// One strided [tokens, heads, headDim] buffer, already validated (see `HeadGeometry.span`).
/// Strides are in elements of the buffer's format.
package struct HeadBuffer {
  package var base: UnsafeMutableRawPointer
  package var heads: Int
  package var tokenStride: Int
  package var headStride: Int

  package init(base: UnsafeMutableRawPointer, geometry g: HeadGeometry) {
    self.base = base
    self.heads = Int(g.heads)
    self.tokenStride = Int(g.tokenStride)
    self.headStride = Int(g.headStride)
  }
}

@inline(__always)
private func _lanes(_ p: UnsafePointer<Float>) -> FloatLanes {
  UnsafeRawPointer(p).loadUnaligned(as: FloatLanes.self)
}

/// Exchanges the two floats of every adjacent pair: (a0 b0 a1 b1 ..) -> (b0 a0 b1 a1 ..),
/// a 32-bit rotate of each 64-bit lane (psllq/psrlq/por on SSE2, vprolq with AVX-512).
@inline(__always)
private func _swapPairs(_ v: FloatLanes) -> FloatLanes {
  let w = unsafeBitCast(v, to: SIMD8<UInt64>.self)
  return unsafeBitCast((w &<< 32) | (w &>> 32), to: FloatLanes.self)
}

/// Rotates the pairs of one head row.
///   neox: c, s hold h values; x = p[i], y = p[h + i].
///   gptj: c, s hold 2h values expanded as (c0 c0 c1 c1 ..) and (-s0 s0 -s1 s1 ..); x, y = p[2i],
///         p[2i + 1], so p' = p * c + swapPairs(p) * s gives x c + y (-s) and y c + x s, the
///         same roundings as the neox formula (negation is exact).
@inline(__always)
func _rotateRow<E: RotaryElement>(_: E.Type, _ p: UnsafeMutablePointer<E.Bits>,
                                  cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>,
                                  pairs h: Int, layout: PairLayout) {
  let w = FloatLanes.scalarCount
  switch layout {
  case .neox:
    var i = 0
    while i &+ w <= h {  // i + w <= h <= 32768: no overflow
      let x = E.load(p + i), y = E.load(p + h + i)
      let cv = _lanes(c + i), sv = _lanes(s + i)
      E.store(x * cv - y * sv, p + i)
      E.store(y * cv + x * sv, p + h + i)
      i &+= w
    }
    if i < h {
      let n = h - i
      let x = E.load(p + i, count: n), y = E.load(p + h + i, count: n)
      let cv = _lanes(c + i), sv = _lanes(s + i)  // rows are padded: full loads stay inside
      E.store(x * cv - y * sv, p + i, count: n)
      E.store(y * cv + x * sv, p + h + i, count: n)
    }
  case .gptj:
    let d = 2 &* h
    var j = 0
    while j &+ w <= d {
      let x = E.load(p + j)
      E.store(x * _lanes(c + j) + _swapPairs(x) * _lanes(s + j), p + j)
      j &+= w
    }
    if j < d {
      let n = d - j
      let x = E.load(p + j, count: n)
      E.store(x * _lanes(c + j) + _swapPairs(x) * _lanes(s + j), p + j, count: n)
    }
  }
}

/// Expands per-pair rows to the gptj form (c0 c0 c1 c1 ..), (-s0 s0 -s1 s1 ..), in place:
/// `c` and `s` need 2h (+ padding) floats; values are copied from the first h.
@inline(__always)
func _expandInterleaved(cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>, pairs h: Int) {
  var i = h - 1
  while i >= 0 {
    let cv = c[i], sv = s[i]
    c[2 &* i] = cv; c[2 &* i &+ 1] = cv
    s[2 &* i] = -sv; s[2 &* i &+ 1] = sv
    i &-= 1
  }
}

/// Rotates every head of q and k for token t with the given rows.
@inline(__always)
func _rotateToken<E: RotaryElement>(_ e: E.Type, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                                    cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>,
                                    pairs h: Int, layout: PairLayout) {
  // Offsets: t * stride + head * headStride lies inside the validated span (< 2^63 / size).
  let qp = q.base.assumingMemoryBound(to: E.Bits.self) + t &* q.tokenStride
  for head in 0 ..< q.heads {
    _rotateRow(e, qp + head &* q.headStride, cos: c, sin: s, pairs: h, layout: layout)
  }
  if let k {
    let kp = k.base.assumingMemoryBound(to: E.Bits.self) + t &* k.tokenStride
    for head in 0 ..< k.heads {
      _rotateRow(e, kp + head &* k.headStride, cos: c, sin: s, pairs: h, layout: layout)
    }
  }
}

extension FrequencyTable {
  /// Rotates tokens `tokens` of q (and k) in place: pair i of token t turns by the angle of
  /// position `positions[t]` (negated when `inverse`), scaled by the attention factor when
  /// `applyAttentionFactor`. Dimensions past the rotary dim are not touched. `threads` > 1 splits
  /// the tokens into contiguous chunks on that many threads (capped at `maxThreads`); results are
  /// bit-identical for every thread count.
  package func rotate(format: ElementFormat, q: HeadBuffer, k: HeadBuffer?, tokens: Range<Int>,
                      positions: Positions, inverse: Bool, applyAttentionFactor: Bool, threads: Int = 1) {
    switch format {
    case .float32:
      _rotate(Float32Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads)
    case .float16:
      _rotate(Float16Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads)
    case .bfloat16:
      _rotate(BFloat16Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads)
    }
  }

  private func _rotate<E: RotaryElement>(_ e: E.Type, q: HeadBuffer, k: HeadBuffer?, tokens: Range<Int>,
                                         positions: Positions, inverse: Bool, applyAttentionFactor: Bool,
                                         threads: Int) {
    let h = pairCount
    let layout = config.layout
    let scale = applyAttentionFactor ? attentionFactor : 1
    let sinSign: Float = inverse ? -1 : 1
    // Row width: 2h for the gptj expansion, plus the generator's block padding.
    let width = max(rowCapacity, 2 * h + FloatLanes.scalarCount)
    parallelChunks(count: tokens.count, threads: threads) { chunk in
      // Scratch: two rows of `width` floats and the cursor's residues; bounded by h <= 32768.
      withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * width + cursorCapacity) { scratch in
        let c = scratch.baseAddress!, s = c + width
        c.initialize(repeating: 0, count: 2 * width + cursorCapacity)  // padding lanes read as 0
        var cursor = makeCursor(storage: UnsafeMutableRawPointer(c + 2 * width).assumingMemoryBound(to: Int32.self))
        for t in (tokens.lowerBound + chunk.lowerBound) ..< (tokens.lowerBound + chunk.upperBound) {
          fastCosSinRow(position: positions[t], scale: scale, sinSign: sinSign, cursor: &cursor, cos: c, sin: s)
          if layout == .gptj { _expandInterleaved(cos: c, sin: s, pairs: h) }
          _rotateToken(e, q: q, k: k, token: t, cos: c, sin: s, pairs: h, layout: layout)
        }
      }
    }
  }

  /// Rotates one token's heads with precomputed rows (the benchmark's rotation-only case):
  /// `cos`, `sin` as `_rotateRow` expects them for the handle's layout (expanded for gptj).
  package func rotateToken(format: ElementFormat, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                           cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let h = pairCount, layout = config.layout
    switch format {
    case .float32: _rotateToken(Float32Element.self, q: q, k: k, token: t, cos: cos, sin: sin, pairs: h, layout: layout)
    case .float16: _rotateToken(Float16Element.self, q: q, k: k, token: t, cos: cos, sin: sin, pairs: h, layout: layout)
    case .bfloat16: _rotateToken(BFloat16Element.self, q: q, k: k, token: t, cos: cos, sin: sin, pairs: h, layout: layout)
    }
  }

  /// The rows `rotateToken` takes for one position (expanded for gptj); `cos`, `sin` need
  /// `kernelRowCapacity` floats each.
  package func kernelRows(position m: Int64, inverse: Bool, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>,
                          scratch: UnsafeMutablePointer<Int32>) {
    var cursor = makeCursor(storage: scratch)
    fastCosSinRow(position: m, scale: 1, sinSign: inverse ? -1 : 1, cursor: &cursor, cos: cos, sin: sin)
    if config.layout == .gptj { _expandInterleaved(cos: cos, sin: sin, pairs: pairCount) }
  }

  package var kernelRowCapacity: Int { max(rowCapacity, 2 * pairCount + FloatLanes.scalarCount) }
}
