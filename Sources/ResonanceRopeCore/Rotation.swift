// In-place rotation of strided q/k buffers: one generic kernel over the element format, cos/sin
// computed once per token (FastAngles.swift) and reused for every head of q and k.
//
// Numerics: elements are widened to float32, rotated in float32 without FMA and rounded back
// once (to nearest even for float16 / bfloat16):
//     x' = x c - y s,   y' = y c + x s
// The SIMD body and the scalar-width tails use the same lane code, so every element gets the same
// arithmetic whatever its place, the build (portable or -target-cpu native) or the thread count.

import CHalfConversion
import CKernelHints

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
private func _half(_ p: UnsafePointer<Float>) -> FloatHalf {
  UnsafeRawPointer(p).loadUnaligned(as: FloatHalf.self)
}

/// Exchanges the two floats of every adjacent pair: (a0 b0 a1 b1 ..) -> (b0 a0 b1 a1 ..).
/// Written as a lane build so LLVM emits one shuffle (shufps / vpermilps); the 64-bit rotate
/// form ((w << 32) | (w >> 32)) was scalarized on SSE2 (rol on general registers, measured
/// 3x slower gptj decode).
@inline(__always)
private func _swapPairs(_ v: FloatHalf) -> FloatHalf {
  FloatHalf(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6])
}

/// The rotation of one block: x' = x c - y s, y' = y c + x s (float32, no FMA).
@inline(__always)
private func _turn(_ x: FloatHalf, _ y: FloatHalf, _ c: FloatHalf, _ s: FloatHalf) -> (FloatHalf, FloatHalf) {
  (x * c - y * s, y * c + x * s)
}

/// Rotates the pairs of one head row, 16 elements per step, rows prepared by `_prepareRows`:
///   neox: x = p[i], y = p[h + i]: blocks of x and of y load into the same lane order, so the
///         rotation is lane-wise with c, s in that order.
///   gptj, 16-bit formats: a block's halves are (x of 8 pairs, y of 8 pairs): c, s per pair.
///   gptj, float32: halves are (x0 y0 .. x3 y3), (x4 y4 ..): p' = p * C + swapPairs(p) * S with
///         C = (c0 c0 c1 c1 ..), S = (-s0 s0 -s1 s1 ..), i.e. x c + y (-s) and y c + x s, the
///         same roundings as the formula (negation is exact).
@inline(__always)
func _rotateRow<E: RotaryElement>(_: E.Type, _ p: UnsafeMutablePointer<E.Bits>,
                                  cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>,
                                  pairs h: Int, layout: PairLayout) {
  switch layout {
  case .neox:
    var i = 0
    while i < h {  // i < h <= 32768: no overflow
      let n = h &- i
      let c0 = _half(c + i), c1 = _half(c + i + 8), s0 = _half(s + i), s1 = _half(s + i + 8)
      if n >= 16 {
        let (x0, x1) = E.load(p + i), (y0, y1) = E.load(p + h + i)
        let (a0, b0) = _turn(x0, y0, c0, s0), (a1, b1) = _turn(x1, y1, c1, s1)
        E.store(a0, a1, p + i)
        E.store(b0, b1, p + h + i)
      } else {  // tail: rows are padded, so the cos/sin loads stay inside them
        let (x0, x1) = E.load(p + i, count: n), (y0, y1) = E.load(p + h + i, count: n)
        let (a0, b0) = _turn(x0, y0, c0, s0), (a1, b1) = _turn(x1, y1, c1, s1)
        E.store(a0, a1, p + i, count: n)
        E.store(b0, b1, p + h + i, count: n)
      }
      i &+= 16
    }
  case .gptj:
    let d = 2 &* h
    var j = 0
    while j < d {
      let n = d &- j
      let (u, v) = n >= 16 ? E.load(p + j) : E.load(p + j, count: n)
      let a: FloatHalf, b: FloatHalf
      if E.interleavedHalves {
        let k = j &>> 1
        (a, b) = _turn(u, v, _half(c + k), _half(s + k))
      } else {
        a = u * _half(c + j) + _swapPairs(u) * _half(s + j)
        b = v * _half(c + j + 8) + _swapPairs(v) * _half(s + j + 8)
      }
      if n >= 16 { E.store(a, b, p + j) } else { E.store(a, b, p + j, count: n) }
      j &+= 16
    }
  }
}

/// Brings per-pair rows (c[i], s[i], i < h, zero padded) into the order `_rotateRow` reads for
/// format E: float32 gptj expands them to (c0 c0 c1 c1 ..), (-s0 s0 -s1 s1 ..); 16-bit neox
/// permutes each block of 16 to (even pairs, odd pairs), the lane order of its loads. Rows need
/// `kernelRowCapacity` floats.
@inline(__always)
func _prepareRows<E: RotaryElement>(_: E.Type, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>,
                                    pairs h: Int, layout: PairLayout) {
  if layout == .gptj && !E.interleavedHalves {
    var i = h &- 1
    while i >= 0 {  // back to front: entry i moves to 2i, 2i + 1 >= i
      let cv = c[i], sv = s[i]
      c[2 &* i] = cv; c[2 &* i &+ 1] = cv
      s[2 &* i] = -sv; s[2 &* i &+ 1] = sv
      i &-= 1
    }
  } else if layout == .neox && E.interleavedHalves {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { tmp in
      let t = tmp.baseAddress!
      for row in [c, s] {
        var i = 0
        while i < h {
          for k in 0 ..< 8 { t[k] = row[i &+ 2 &* k]; t[8 &+ k] = row[i &+ 2 &* k &+ 1] }
          row.advanced(by: i).update(from: t, count: 16)
          i &+= 16
        }
      }
    }
  }
}

/// How many rows ahead of the one being rotated (or written, for tables) the kernels prefetch,
/// in visiting order. Measured (f32 prefill 4096 x 32 x 128, 1 thread, portable build): the
/// rotation went from 0.77-0.82 of the in-place memory pass without prefetch to 0.98-1.04 with
/// it (1, 2, 4, 8, 16 rows ahead all within noise of each other from 2 on): the loop's own
/// loads do not keep enough cache misses in flight.
let prefetchRowsAhead = 4

/// Prefetches the `bytes` bytes from `p` for writing. A prefetch never faults, so `p` may be any
/// address (past the buffer at its end); the address arithmetic wraps instead of trapping.
@inline(__always)
func _prefetch(_ p: UnsafeRawPointer, bytes: Int) {
  var o = 0
  while o < bytes {
    rr_prefetch_for_write(p.advanced(by: o))
    o &+= 64
  }
  rr_prefetch_for_write(p.advanced(by: bytes &- 1))
}

/// Runs `body` on every head row of one buffer for token t, prefetching `prefetchRowsAhead` rows
/// (`rowBytes` each) ahead in the order heads of t, then heads of t + 1.
@inline(__always)
func _forEachRow<Bits>(_: Bits.Type, _ b: HeadBuffer, token t: Int, rowBytes: Int,
                       _ body: (UnsafeMutablePointer<Bits>) -> Void) {
  // Offsets: t * stride + head * headStride lies inside the validated span (< 2^63 / size).
  let p = b.base.assumingMemoryBound(to: Bits.self) + t &* b.tokenStride
  let size = MemoryLayout<Bits>.stride
  let hs = b.headStride &* size, ts = b.tokenStride &* size
  for head in 0 ..< b.heads {
    let a = head &+ prefetchRowsAhead
    let ahead = a < b.heads ? a &* hs : ts &+ (a &- b.heads) &* hs  // wraps at worst: a hint only
    _prefetch(UnsafeRawPointer(p).advanced(by: ahead), bytes: rowBytes)
    body(p + head &* b.headStride)
  }
}

/// Rotates every head of q and k for token t with the given rows.
@inline(__always)
func _rotateToken<E: RotaryElement>(_ e: E.Type, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                                    cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>,
                                    pairs h: Int, layout: PairLayout) {
  let rowBytes = 2 &* h &* MemoryLayout<E.Bits>.stride
  _forEachRow(E.Bits.self, q, token: t, rowBytes: rowBytes) { _rotateRow(e, $0, cos: c, sin: s, pairs: h, layout: layout) }
  if let k {
    _forEachRow(E.Bits.self, k, token: t, rowBytes: rowBytes) { _rotateRow(e, $0, cos: c, sin: s, pairs: h, layout: layout) }
  }
}

// MARK: - 16-bit formats converted by rows with CPU-specific instructions

/// A 16-bit format whose rows are converted in C with an instruction set that baseline x86-64
/// lacks, found at run time (Sources/CHalfConversion): float16 with F16C, bfloat16 with AVX2.
/// Without them `Float16Element` / `BFloat16Element` convert in software, 16 lanes at a time with
/// SSE2: the same values (NaN payloads aside), but compute-bound (float16 at ~0.14 of the memory
/// pass, bfloat16 ~0.36, against ~0.6 through the row conversions).
package enum RowConversion: Sendable {
  case f16c, bf16avx2

  /// The conversion this CPU offers for `format` (checked once per process), or nil.
  package static func available(for format: ElementFormat) -> RowConversion? {
    switch format {
    case .float32: nil
    case .float16: _f16cRows ? .f16c : nil
    case .bfloat16: _avx2Rows ? .bf16avx2 : nil
    }
  }

  @inline(__always) func widen(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    switch self {
    case .f16c: resonance_rope_f16c_widen(src, dst, n)
    case .bf16avx2: resonance_rope_bf16_widen(src, dst, n)
    }
  }

  @inline(__always) func narrow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int) {
    switch self {
    case .f16c: resonance_rope_f16c_narrow(src, dst, n)
    case .bf16avx2: resonance_rope_bf16_narrow(src, dst, n)
    }
  }
}

private let _f16cRows = resonance_rope_f16c_available() != 0
private let _avx2Rows = resonance_rope_avx2_available() != 0

/// Pairs converted per step (the float scratch holds 2 * 128 floats, 1 KiB): rows of up to
/// 256 dims convert in one call each way.
let convertedRowChunk = 128

/// Rotates one 16-bit row: chunks of up to `convertedRowChunk` pairs are widened exactly to
/// float32 into `buf`, rotated by the float32 kernel (rows prepared for `Float32Element`), and
/// rounded back once to nearest even: the float32 kernel's result rounded once, as in the
/// software path.
@inline(__always)
func _rotateConvertedRow(_ conv: RowConversion, _ p: UnsafeMutablePointer<UInt16>, scratch buf: UnsafeMutablePointer<Float>,
                         cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>, pairs h: Int, layout: PairLayout) {
  var i = 0
  while i < h {
    let n = min(convertedRowChunk, h &- i)
    switch layout {
    case .neox where n == h:  // the whole row: x and y halves are contiguous
      conv.widen(p, buf, 2 &* h)
      _rotateRow(Float32Element.self, buf, cos: c, sin: s, pairs: h, layout: .neox)
      conv.narrow(buf, p, 2 &* h)
    case .neox:
      conv.widen(p + i, buf, n)
      conv.widen(p + h + i, buf + n, n)
      _rotateRow(Float32Element.self, buf, cos: c + i, sin: s + i, pairs: n, layout: .neox)
      conv.narrow(buf, p + i, n)
      conv.narrow(buf + n, p + h + i, n)
    case .gptj:
      let j = 2 &* i, m = 2 &* n
      conv.widen(p + j, buf, m)
      _rotateRow(Float32Element.self, buf, cos: c + j, sin: s + j, pairs: n, layout: .gptj)
      conv.narrow(buf, p + j, m)
    }
    i &+= n
  }
}

/// `_rotateToken` for 16-bit buffers converted by rows; `cos`, `sin` prepared for Float32Element.
@inline(__always)
func _rotateTokenConverted(_ conv: RowConversion, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                           scratch: UnsafeMutablePointer<Float>, cos c: UnsafePointer<Float>,
                           sin s: UnsafePointer<Float>, pairs h: Int, layout: PairLayout) {
  let rowBytes = 2 &* h &* 2
  _forEachRow(UInt16.self, q, token: t, rowBytes: rowBytes) {
    _rotateConvertedRow(conv, $0, scratch: scratch, cos: c, sin: s, pairs: h, layout: layout)
  }
  if let k {
    _forEachRow(UInt16.self, k, token: t, rowBytes: rowBytes) {
      _rotateConvertedRow(conv, $0, scratch: scratch, cos: c, sin: s, pairs: h, layout: layout)
    }
  }
}

extension FrequencyTable {
  /// Rotates tokens `tokens` of q (and k) in place: pair i of token t turns by the angle of
  /// position `positions[t]` (negated when `inverse`), scaled by the attention factor when
  /// `applyAttentionFactor`. Dimensions past the rotary dim are not touched. `threads` > 1 splits
  /// the tokens into contiguous chunks on that many threads (capped at `maxThreads`); results are
  /// bit-identical for every thread count.
  /// 16-bit formats are converted by rows (`RowConversion`) when the CPU allows, unless
  /// `softwareConversion` (the tests run both).
  package func rotate(format: ElementFormat, q: HeadBuffer, k: HeadBuffer?, tokens: Range<Int>,
                      positions: Positions, inverse: Bool, applyAttentionFactor: Bool, threads: Int = 1,
                      softwareConversion: Bool = false) {
    let conv = softwareConversion ? nil : RowConversion.available(for: format)
    switch format {
    case .float32:
      _rotate(Float32Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads, conversion: nil)
    case _ where conv != nil:
      _rotate(Float32Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads, conversion: conv)
    case .float16:
      _rotate(Float16Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads, conversion: nil)
    case .bfloat16:
      _rotate(BFloat16Element.self, q: q, k: k, tokens: tokens, positions: positions, inverse: inverse,
              applyAttentionFactor: applyAttentionFactor, threads: threads, conversion: nil)
    }
  }

  /// `conversion`: the buffers hold a 16-bit format rotated through row conversions
  /// (`_rotateTokenConverted`), with rows prepared for E = Float32Element.
  private func _rotate<E: RotaryElement>(_ e: E.Type, q: HeadBuffer, k: HeadBuffer?, tokens: Range<Int>,
                                         positions: Positions, inverse: Bool, applyAttentionFactor: Bool,
                                         threads: Int, conversion: RowConversion?) {
    let h = pairCount
    let layout = config.layout
    let scale = applyAttentionFactor ? attentionFactor : 1
    let sinSign: Float = inverse ? -1 : 1
    // Row width: 2h for the gptj expansion, plus the generator's block padding.
    let width = kernelRowCapacity
    parallelChunks(count: tokens.count, threads: threads) { chunk in
      withRowScratch(width: width) { c, s, residues in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * convertedRowChunk) { hb in
          let rowScratch = hb.baseAddress!
          var cursor = makeCursor(storage: residues)
          for t in (tokens.lowerBound + chunk.lowerBound) ..< (tokens.lowerBound + chunk.upperBound) {
            fastCosSinRow(position: positions[t], scale: scale, sinSign: sinSign, cursor: &cursor, cos: c, sin: s)
            _prepareRows(e, cos: c, sin: s, pairs: h, layout: layout)
            if let conversion {
              _rotateTokenConverted(conversion, q: q, k: k, token: t, scratch: rowScratch, cos: c, sin: s, pairs: h, layout: layout)
            } else {
              _rotateToken(e, q: q, k: k, token: t, cos: c, sin: s, pairs: h, layout: layout)
            }
          }
        }
      }
    }
  }

  /// Zeroed scratch rows (cos, sin: `width` floats each) and cursor residues, on the stack.
  /// Three separate allocations so that each stays at or below 1 KiB for h <= 96: larger
  /// temporary allocations make Swift call swift_stdlib_isStackAllocationSafe, which on Linux
  /// asks pthread_getattr_np for the stack bounds (reading /proc/self/maps on the main thread):
  /// measured ~3 us per call, more than a whole decode rotation. Sizes are bounded by h <= 32768.
  @inline(__always)
  func withRowScratch(width: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>) -> Void) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { cb in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { sb in
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: cursorCapacity) { rb in
          let c = cb.baseAddress!, s = sb.baseAddress!, r = rb.baseAddress!
          c.initialize(repeating: 0, count: width)  // padding lanes are read as 0
          s.initialize(repeating: 0, count: width)
          r.initialize(repeating: 0, count: cursorCapacity)
          body(c, s, r)
        }
      }
    }
  }

  /// Rotates one token's heads with precomputed rows (the benchmark's rotation-only case):
  /// `cos`, `sin` as `_rotateRow` expects them for the handle's layout (expanded for gptj).
  package func rotateToken(format: ElementFormat, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                           cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let h = pairCount, layout = config.layout
    if let conv = RowConversion.available(for: format) {
      withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * convertedRowChunk) { hb in
        _rotateTokenConverted(conv, q: q, k: k, token: t, scratch: hb.baseAddress!, cos: cos, sin: sin, pairs: h, layout: layout)
      }
      return
    }
    switch format {
    case .float32: _rotateToken(Float32Element.self, q: q, k: k, token: t, cos: cos, sin: sin, pairs: h, layout: layout)
    case .float16: _rotateToken(Float16Element.self, q: q, k: k, token: t, cos: cos, sin: sin, pairs: h, layout: layout)
    case .bfloat16: _rotateToken(BFloat16Element.self, q: q, k: k, token: t, cos: cos, sin: sin, pairs: h, layout: layout)
    }
  }

  /// The rows `rotateToken` takes for one position and format; `cos`, `sin` need
  /// `kernelRowCapacity` floats each, zero-initialized.
  package func kernelRows(format: ElementFormat, position m: Int64, inverse: Bool, cos: UnsafeMutablePointer<Float>,
                          sin: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Int32>) {
    var cursor = makeCursor(storage: scratch)
    fastCosSinRow(position: m, scale: 1, sinSign: inverse ? -1 : 1, cursor: &cursor, cos: cos, sin: sin)
    if format == .float32 || RowConversion.available(for: format) != nil {
      _prepareRows(Float32Element.self, cos: cos, sin: sin, pairs: pairCount, layout: config.layout)
    } else if format == .float16 {
      _prepareRows(Float16Element.self, cos: cos, sin: sin, pairs: pairCount, layout: config.layout)
    } else {
      _prepareRows(BFloat16Element.self, cos: cos, sin: sin, pairs: pairCount, layout: config.layout)
    }
  }

  /// Floats per row buffer of the kernel: 2h for the float32 gptj expansion, whole blocks of 16,
  /// and the generator's block padding.
  package var kernelRowCapacity: Int { max(rowCapacity, 2 * pairCount + 2 * FloatLanes.scalarCount) }
}
