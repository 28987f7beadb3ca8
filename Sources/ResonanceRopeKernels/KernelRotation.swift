// In-place rotation of strided q/k buffers: one generic kernel over the element format, cos/sin
// computed once per token (KernelAngles.swift) and reused for every head of q and k.
//
// Numerics: elements are widened to float32, rotated in float32 without FMA and rounded back
// once (to nearest even for float16 / bfloat16):
//     x' = x c - y s,   y' = y c + x s
// The SIMD body and the scalar-width tails use the same lane code, so every element gets the same
// arithmetic whatever its place, the instruction set this copy is compiled for (these sources are
// built twice: ResonanceRopeKernels for baseline x86-64, ResonanceRopeKernelsAVX2 for
// x86-64-v3) or the thread count.
//
// Software prefetch of the rows (`KernelRotation.prefetchRows`, for calls whose rows do not fit in
// L2): a read prefetch of every line `rowPrefetchDistance` bytes past the row being rotated. The
// kernel does 17-76 instructions per 64-byte line (f32 to bf16), so the out-of-order window
// holds only a few lines' misses and the hardware prefetcher alone left a single core at
// 0.5-0.8 of the in-place pass (figures at `rowPrefetchDistance`). An earlier prefetch *for
// writing* 2 KiB ahead made the f32 prefill 15-30 % slower on an AMD EPYC Zen 4 (and the
// benchmark's pass with it is slower than without on Zen 3 too), so it is a read prefetch. The
// table entries, which the hardware cannot predict, are prefetched too (KernelAngles.swift).
import CKernelHints
import ResonanceRopeKernelTypes

/// Eight floats from p, any alignment.
@inline(__always)
func _half(_ p: UnsafePointer<Float>) -> FloatHalf {
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
///   gptj, interleaved halves (software 16-bit formats): a block's halves are (x of 8 pairs,
///         y of 8 pairs): c, s per pair.
///   gptj, element-order halves (float32, F16C half): halves are (x0 y0 .. x3 y3), (x4 y4 ..):
///         p' = p * C + swapPairs(p) * S with C = (c0 c0 c1 c1 ..), S = (-s0 s0 -s1 s1 ..),
///         i.e. x c + y (-s) and y c + x s, the same roundings as the formula (negation is exact).
@inline(__always)
func _rotateRow<E: RotaryElement>(_: E.Type, _ p: UnsafeMutablePointer<E.Bits>,
                                  cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>,
                                  pairs h: Int, gptj: Bool) {
  if !gptj {
    var i = 0
    while i &+ 16 <= h {  // i < h <= 32768: no overflow
      let c0 = _half(c + i), c1 = _half(c + i + 8), s0 = _half(s + i), s1 = _half(s + i + 8)
      let (x0, x1) = E.load(p + i), (y0, y1) = E.load(p + h + i)
      let (a0, b0) = _turn(x0, y0, c0, s0), (a1, b1) = _turn(x1, y1, c1, s1)
      E.store(a0, a1, p + i)
      E.store(b0, b1, p + h + i)
      i &+= 16
    }
    if i < h {  // tail: rows are padded, so the cos/sin loads stay inside them
      let n = h &- i
      let c0 = _half(c + i), c1 = _half(c + i + 8), s0 = _half(s + i), s1 = _half(s + i + 8)
      let (x0, x1) = E.load(p + i, count: n), (y0, y1) = E.load(p + h + i, count: n)
      let (a0, b0) = _turn(x0, y0, c0, s0), (a1, b1) = _turn(x1, y1, c1, s1)
      E.store(a0, a1, p + i, count: n)
      E.store(b0, b1, p + h + i, count: n)
    }
  } else {
    let d = 2 &* h
    @inline(__always) func block(_ u: FloatHalf, _ v: FloatHalf, _ j: Int) -> (FloatHalf, FloatHalf) {
      if E.interleavedHalves {
        let k = j &>> 1
        return _turn(u, v, _half(c + k), _half(s + k))
      }
      return (u * _half(c + j) + _swapPairs(u) * _half(s + j), v * _half(c + j + 8) + _swapPairs(v) * _half(s + j + 8))
    }
    var j = 0
    while j &+ 32 <= d {  // two blocks per step: half the loop overhead (d is 128 in most models)
      let (u0, v0) = E.load(p + j), (u1, v1) = E.load(p + j + 16)
      let (a0, b0) = block(u0, v0, j), (a1, b1) = block(u1, v1, j &+ 16)
      E.store(a0, b0, p + j)
      E.store(a1, b1, p + j + 16)
      j &+= 32
    }
    if j &+ 16 <= d {
      let (u, v) = E.load(p + j)
      let (a, b) = block(u, v, j)
      E.store(a, b, p + j)
      j &+= 16
    }
    if j < d {  // tail of n < 16 elements
      let n = d &- j
      let (u, v) = E.load(p + j, count: n)
      let (a, b) = block(u, v, j)
      E.store(a, b, p + j, count: n)
    }
  }
}

/// Brings per-pair rows (c[i], s[i], i < h, zero padded) into the order `_rotateRow` reads for
/// format E: element-order gptj expands them to (c0 c0 c1 c1 ..), (-s0 s0 -s1 s1 ..);
/// interleaved-halves neox permutes each block of 16 to (even pairs, odd pairs), the lane order
/// of its loads. Rows need `_rowFloats` floats.
@inline(__always)
func _prepareRows<E: RotaryElement>(_: E.Type, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>,
                                    pairs h: Int, gptj: Bool) {
  if gptj && !E.interleavedHalves {
    // Back to front, 8 pairs per step: block i (read first) goes to 2i ..< 2i + 16, which is at
    // or past every block not yet read. Vector stores, so the kernel's vector loads of the rows
    // are forwarded (scalar stores followed by a wide load stall on store forwarding).
    var i = (h &- 1) & ~7
    while i >= 0 {
      let cv = _half(c + i), sv = _half(s + i), ns = -sv
      let c0 = FloatHalf(cv[0], cv[0], cv[1], cv[1], cv[2], cv[2], cv[3], cv[3])
      let c1 = FloatHalf(cv[4], cv[4], cv[5], cv[5], cv[6], cv[6], cv[7], cv[7])
      let s0 = FloatHalf(ns[0], sv[0], ns[1], sv[1], ns[2], sv[2], ns[3], sv[3])
      let s1 = FloatHalf(ns[4], sv[4], ns[5], sv[5], ns[6], sv[6], ns[7], sv[7])
      UnsafeMutableRawPointer(c + 2 &* i).storeBytes(of: c0, as: FloatHalf.self)
      UnsafeMutableRawPointer(c + (2 &* i &+ 8)).storeBytes(of: c1, as: FloatHalf.self)
      UnsafeMutableRawPointer(s + 2 &* i).storeBytes(of: s0, as: FloatHalf.self)
      UnsafeMutableRawPointer(s + (2 &* i &+ 8)).storeBytes(of: s1, as: FloatHalf.self)
      i &-= 8
    }
  } else if !gptj && E.interleavedHalves {
    // Each block of 16 to (even pairs, odd pairs), by vector shuffles (a scalar copy through a
    // temporary, with an array of the two rows, was 7 % of a bf16 prefill in cache).
    @inline(__always) func permute(_ row: UnsafeMutablePointer<Float>) {
      var i = 0
      while i < h {
        let v0 = _half(row + i), v1 = _half(row + i + 8)
        let even = FloatHalf(v0[0], v0[2], v0[4], v0[6], v1[0], v1[2], v1[4], v1[6])
        let odd = FloatHalf(v0[1], v0[3], v0[5], v0[7], v1[1], v1[3], v1[5], v1[7])
        UnsafeMutableRawPointer(row + i).storeBytes(of: even, as: FloatHalf.self)
        UnsafeMutableRawPointer(row + (i &+ 8)).storeBytes(of: odd, as: FloatHalf.self)
        i &+= 16
      }
    }
    permute(c)
    permute(s)
  }
}

/// Rotates every head of one buffer for token t with the given rows.
@inline(__always)
func _rotateHeads<E: RotaryElement>(_ e: E.Type, _ b: HeadBuffer, token t: Int, cos c: UnsafePointer<Float>,
                                    sin s: UnsafePointer<Float>, pairs h: Int, gptj: Bool, prefetch: Bool = false) {
  // Offsets: t * stride + head * headStride lies inside the validated span (< 2^63 / size).
  let p = b.base.assumingMemoryBound(to: E.Bits.self) + t &* b.tokenStride
  let rowBytes = 2 &* h &* MemoryLayout<E.Bits>.stride  // <= 2^17
  @inline(__always) func row(_ head: Int, gptj: Bool) {
    let r = p + head &* b.headStride
    if prefetch {  // a hint: an address past the buffer is harmless
      let ahead = UnsafeRawPointer(r) + rowPrefetchDistance
      var o = 0
      while o < rowBytes { rr_prefetch(ahead + o); o &+= 64 }
    }
    _rotateRow(e, r, cos: c, sin: s, pairs: h, gptj: gptj)
  }
  // The layout test outside the head loop, so each loop is specialized for its layout (LLVM kept
  // the test inside the loop: 20 instructions of overhead per head row).
  if gptj {
    for head in 0 ..< b.heads { row(head, gptj: true) }
  } else {
    for head in 0 ..< b.heads { row(head, gptj: false) }
  }
}

/// The rotation loop for one element format: rows for a batch of tokens (`_rowBatch`, each
/// prepared once for E), then every head of q and k of those tokens. `scratch`: one
/// `kernelScratchBytes` block per thread chunk.
@inline(__always)
func _rotate<E: RotaryElement>(_ e: E.Type, _ a: AngleData, _ job: KernelRotation, scratch: UnsafeMutableRawPointer) {
  let h = a.pairCount
  let tokens = job.tokens.count
  let stride = kernelScratchBytes(a, tokens: tokens), batch = _rowBatch(a, tokens: tokens)
  parallelChunks(count: tokens, threads: job.threads) { chunk, index in
    var (rows, cursor) = _scratch(a, scratch + index &* stride, tokens: tokens)
    var t = job.tokens.lowerBound + chunk.lowerBound
    let end = job.tokens.lowerBound + chunk.upperBound
    while t < end {
      let n = min(batch, end &- t)
      _angleRows(a, positions: job.positions, from: t, count: n, scale: job.scale, sinSign: job.sinSign, cursor: &cursor) { rows[$0] }
      for b in 0 ..< n {
        let (c, s) = rows[b]
        _prepareRows(e, cos: c, sin: s, pairs: h, gptj: job.gptj)
      }
      for b in 0 ..< n {
        let (c, s) = rows[b]
        _rotateHeads(e, job.q, token: t &+ b, cos: c, sin: s, pairs: h, gptj: job.gptj, prefetch: job.prefetchRows)
        if let k = job.k { _rotateHeads(e, k, token: t &+ b, cos: c, sin: s, pairs: h, gptj: job.gptj, prefetch: job.prefetchRows) }
      }
      t &+= n
    }
  }
}

/// Rotates `job`. `scratch` holds min(job.threads, tokens, maxThreads) (at least 1) blocks of
/// `kernelScratchBytes(angles, tokens: job.tokens.count)` bytes, 64-byte aligned.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelRotate(_ angles: AngleData, _ job: KernelRotation, scratch: UnsafeMutableRawPointer) {
  switch job.format {
  case .float32: _rotate(Float32Element.self, angles, job, scratch: scratch)
  case .float16: _rotate(HalfElement.self, angles, job, scratch: scratch)
  case .bfloat16: _rotate(BF16Element.self, angles, job, scratch: scratch)
  }
}

/// The rows `kernelRotateToken` takes for one position: cos and sin (`kernelScratchBytes(a,
/// tokens: 1)` bytes of scratch, the rows at its start) prepared for the format (the benchmark's
/// rotation-only case).
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelPreparedRows(_ angles: AngleData, format: KernelFormat, gptj: Bool, position m: Int64,
                                scratch: UnsafeMutableRawPointer) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
  var (rows, cursor) = _scratch(angles, scratch, tokens: 1)
  let (c, s) = rows[0]
  _angleRow(angles, position: m, scale: 1, sinSign: 1, cursor: &cursor, cos: c, sin: s)
  switch format {
  case .float32: _prepareRows(Float32Element.self, cos: c, sin: s, pairs: angles.pairCount, gptj: gptj)
  case .float16: _prepareRows(HalfElement.self, cos: c, sin: s, pairs: angles.pairCount, gptj: gptj)
  case .bfloat16: _prepareRows(BF16Element.self, cos: c, sin: s, pairs: angles.pairCount, gptj: gptj)
  }
  return (c, s)
}

/// Rotates token t of q (and k) with rows from `kernelPreparedRows` (the benchmark's
/// rotation-only case).
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelRotateToken(_ angles: AngleData, format: KernelFormat, gptj: Bool, q: HeadBuffer, k: HeadBuffer?,
                               token t: Int, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>) {
  let h = angles.pairCount
  func run<E: RotaryElement>(_ e: E.Type) {
    _rotateHeads(e, q, token: t, cos: c, sin: s, pairs: h, gptj: gptj)
    if let k { _rotateHeads(e, k, token: t, cos: c, sin: s, pairs: h, gptj: gptj) }
  }
  switch format {
  case .float32: run(Float32Element.self)
  case .float16: run(HalfElement.self)
  case .bfloat16: run(BF16Element.self)
  }
}
