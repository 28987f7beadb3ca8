// In-place rotation of strided q/k buffers: one generic kernel over the element format, cos/sin
// computed once per token (KernelAngles.swift) and reused for every head of q and k.
//
// Numerics: elements are widened to float32, rotated in float32 without FMA and rounded back
// once (to nearest even for float16 / bfloat16):
//     x' = x c - y s,   y' = y c + x s
// The SIMD body and the scalar-width tails use the same lane code, so every element gets the same
// arithmetic whatever its place, the instruction set this copy is compiled for (these sources are
// built three times: ResonanceRopeKernels for baseline x86-64, ResonanceRopeKernelsAVX2 for
// x86-64-v3, ResonanceRopeKernelsAVX512 for x86-64-v4 with 16-lane halves) or the thread count.
//
// Software prefetch of the rows (`RowAccess.streamed(ahead:)`, and `.measured`, the library's
// choice for calls whose rows do not fit in L2, where and how far ahead the process measured
// that it pays on this CPU: see rr_row_prefetch_choose in CKernelHints and `_rotate` below): a
// read prefetch of every line `rowPrefetchDistance` (or twice that) bytes past the row being
// rotated (where in the row's instructions: `_prefetchAhead`). On AMD Zen 3 (below) it
// pays; on Zen 4, whose hardware prefetcher keeps up alone, it costs 5-37 %. The
// kernel does 17-76 instructions per 64-byte line (f32 to bf16), so the out-of-order window
// holds only a few lines' misses and the hardware prefetcher alone left a single core at
// 0.5-0.8 of the in-place pass (figures at `rowPrefetchDistance`). An earlier prefetch *for
// writing* 2 KiB ahead made the f32 prefill 15-30 % slower on an AMD EPYC Zen 4 (and the
// benchmark's pass with it is slower than without on Zen 3 too), so it is a read prefetch. The
// table entries, which the hardware cannot predict, are prefetched too (KernelAngles.swift).
import CKernelHints
import ResonanceRopeKernelTypes

/// L floats (one half) from p, any alignment.
@inline(__always)
func _half(_ p: UnsafePointer<Float>) -> FloatHalf {
  UnsafeRawPointer(p).loadUnaligned(as: FloatHalf.self)
}

/// Eight floats from p, any alignment (the table fill's streaming stores take 8).
@inline(__always)
func _eight(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Exchanges the two floats of every adjacent pair: (a0 b0 a1 b1 ..) -> (b0 a0 b1 a1 ..).
/// Written as a lane build so LLVM emits one shuffle (shufps / vpermilps); the 64-bit rotate
/// form ((w << 32) | (w >> 32)) was scalarized on SSE2 (rol on general registers, measured
/// 3x slower gptj decode).
/// `_spreadPairs`: (v0 v0 v1 v1 ..) of the first and the second half of v: one permutation each.
/// `_evenOdd`: the even and the odd lanes of (v0, v1). `_alternatingSign` (8-lane copies): (-1 1 -1 1 ..).
#if RR_KERNEL_AVX512
@inline(__always)
private func _swapPairs(_ v: FloatHalf) -> FloatHalf {
  FloatHalf(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6], v[9], v[8], v[11], v[10], v[13], v[12], v[15], v[14])
}
@inline(__always)
private func _spreadPairs(_ v: FloatHalf) -> (FloatHalf, FloatHalf) {
  (FloatHalf(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3], v[4], v[4], v[5], v[5], v[6], v[6], v[7], v[7]),
   FloatHalf(v[8], v[8], v[9], v[9], v[10], v[10], v[11], v[11], v[12], v[12], v[13], v[13], v[14], v[14], v[15], v[15]))
}
@inline(__always)
private func _evenOdd(_ v0: FloatHalf, _ v1: FloatHalf) -> (FloatHalf, FloatHalf) {
  (FloatHalf(v0[0], v0[2], v0[4], v0[6], v0[8], v0[10], v0[12], v0[14], v1[0], v1[2], v1[4], v1[6], v1[8], v1[10], v1[12], v1[14]),
   FloatHalf(v0[1], v0[3], v0[5], v0[7], v0[9], v0[11], v0[13], v0[15], v1[1], v1[3], v1[5], v1[7], v1[9], v1[11], v1[13], v1[15]))
}
#else
@inline(__always)
private func _swapPairs(_ v: FloatHalf) -> FloatHalf {
  FloatHalf(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6])
}
@inline(__always)
private func _spreadPairs(_ v: FloatHalf) -> (FloatHalf, FloatHalf) {
  (FloatHalf(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3]), FloatHalf(v[4], v[4], v[5], v[5], v[6], v[6], v[7], v[7]))
}
@inline(__always)
private var _alternatingSign: FloatHalf { FloatHalf(-1, 1, -1, 1, -1, 1, -1, 1) }
@inline(__always)
private func _evenOdd(_ v0: FloatHalf, _ v1: FloatHalf) -> (FloatHalf, FloatHalf) {
  (FloatHalf(v0[0], v0[2], v0[4], v0[6], v1[0], v1[2], v1[4], v1[6]), FloatHalf(v0[1], v0[3], v0[5], v0[7], v1[1], v1[3], v1[5], v1[7]))
}
#endif

// Element-order GPT-J: the sine row `_prepareRows` writes (`_gptjSines`) and the rotation that
// reads it (`_gptjPairs`), defined together because each copy's pair must agree: u = (x0 y0 x1 y1
// ..), C = (c0 c0 c1 c1 ..), result (x c - y s, y c + x s) lane pair by lane pair.
#if RR_KERNEL_AVX2 && !RR_KERNEL_AVX512
/// S = (s0 s0 s1 s1 ..): vaddsubps subtracts in the even lanes (no negated row; a - b rounds as
/// a + (-b)).
@inline(__always)
private func _gptjSines(_ sv: FloatHalf) -> (FloatHalf, FloatHalf) { _spreadPairs(sv) }
@inline(__always)
private func _gptjPairs(_ u: FloatHalf, _ c: FloatHalf, _ s: FloatHalf) -> FloatHalf {
  rr_addsub8(u * c, _swapPairs(u) * s)
}
#else
/// Even lanes x c + y (-s), odd lanes y c + x s, with S = (-s0 s0 -s1 s1 ..) (negation is exact:
/// the same bits as the formula; SSE2 has no addsubps, AVX-512 no 512-bit one).
@inline(__always)
private func _gptjPairs(_ u: FloatHalf, _ c: FloatHalf, _ s: FloatHalf) -> FloatHalf {
  u * c + _swapPairs(u) * s
}
#if RR_KERNEL_AVX512
/// S by rr_gptj_sines16: one negation and one two-source permutation per half. (The spread
/// times (-1 1 -1 1 ..) of the SSE2 copy became a chain of about 20 shuffles per 16 pairs here,
/// LLVM folding the multiplication by -1 into the shuffle: measured on an AMD EPYC Zen 5, 12 ns
/// per token of a gptj rotation.)
@inline(__always)
private func _gptjSines(_ sv: FloatHalf) -> (FloatHalf, FloatHalf) {
  var lo = FloatHalf(), hi = FloatHalf()
  withUnsafeMutablePointer(to: &lo) { l in
    withUnsafeMutablePointer(to: &hi) { h in
      rr_gptj_sines16(sv, UnsafeMutableRawPointer(l).assumingMemoryBound(to: Float.self),
                      UnsafeMutableRawPointer(h).assumingMemoryBound(to: Float.self))
    }
  }
  return (lo, hi)
}
#else
/// S: the spread sines times (-1 1 -1 1 ..) (exact).
@inline(__always)
private func _gptjSines(_ sv: FloatHalf) -> (FloatHalf, FloatHalf) {
  let (s0, s1) = _spreadPairs(sv)
  return (s0 * _alternatingSign, s1 * _alternatingSign)
}
#endif
#endif

/// The rotation of one block: x' = x c - y s, y' = y c + x s (float32, no FMA).
@inline(__always)
private func _turn(_ x: FloatHalf, _ y: FloatHalf, _ c: FloatHalf, _ s: FloatHalf) -> (FloatHalf, FloatHalf) {
  (x * c - y * s, y * c + x * s)
}

/// A NeoX block: its x halves (x0, x1) and y halves turned by the block's cos/sin, as
/// ((x0', x1'), (y0', y1')).
@inline(__always)
private func _turnNeox(_ x: (FloatHalf, FloatHalf), _ y: (FloatHalf, FloatHalf), _ b: RotationBlock)
  -> ((FloatHalf, FloatHalf), (FloatHalf, FloatHalf)) {
  let (a0, b0) = _turn(x.0, y.0, b.c0, b.s0), (a1, b1) = _turn(x.1, y.1, b.c1, b.s1)
  return ((a0, a1), (b0, b1))
}

/// Pairs per rotation block: 2L in neox (2L x and 2L y elements), L in gptj (2L elements).
@inline(__always)
func _blockPairs(gptj: Bool) -> Int { gptj ? halfLanes : 2 &* halfLanes }

/// cos and sin of one rotation block, in the lane order `_rotateBlock` takes (rows from
/// `_prepareRows`; L = `halfLanes`, 8 or 16):
///   neox: x = p[i], y = p[h + i]: blocks of x and of y load into the same lane order, so the
///         rotation is lane-wise: c0, s0 for pairs i ..< i + L, c1, s1 for the next L.
///   gptj, interleaved halves (software 16-bit formats, AVX2 bf16): the block's 2L elements load
///         as (x of its L pairs, y of its L pairs): c0, s0.
///   gptj, element-order halves (float32, F16C half): halves are (x0 y0 ..), the first and the
///         second L elements:
///         p' = p * C + swapPairs(p) * S with C = (c0 c0 c1 c1 ..), S = (-s0 s0 -s1 s1 ..),
///         i.e. x c + y (-s) and y c + x s, the same roundings as the formula (negation is
///         exact): c0, s0 for the first half, c1, s1 for the second. The x86-64-v3 copy keeps
///         S = (s0 s0 s1 s1 ..) and subtracts in the even lanes (vaddsubps, `_gptjPairs`): one
///         instruction fewer per row (no negation), the same roundings; the x86-64-v4 copy has no
///         addsub and makes S by one multiplication with (-1 1 -1 1 ..).
/// Four vectors, so a loop over heads keeps them in registers with room for the work.
struct RotationBlock {
  var c0, c1, s0, s1: FloatHalf
}

/// The cos/sin block that starts at pair i (rows are padded: the loads stay inside them).
@inline(__always)
func _block<E: RotaryElement>(_: E.Type, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>, pair i: Int,
                              gptj: Bool) -> RotationBlock {
  if gptj && E.interleavedHalves {
    let unused = FloatHalf()
    return RotationBlock(c0: _half(c + i), c1: unused, s0: _half(s + i), s1: unused)
  }
  let j = gptj ? 2 &* i : i  // element-order gptj rows are expanded to 2h floats
  return RotationBlock(c0: _half(c + j), c1: _half(c + (j &+ halfLanes)), s0: _half(s + j), s1: _half(s + (j &+ halfLanes)))
}

/// Rotates the block of one head row that starts at pair i (a multiple of `_blockPairs` below h)
/// with its cos/sin: `whole` when the block has all its pairs (h - i >= _blockPairs), else the
/// row's last h - i pairs. Tails load and store through `count:` with the same lane code, so every
/// element gets the same arithmetic wherever it is. (`whole` is the caller's, so that a loop of
/// whole blocks has no tail code: the tail's copies call memcpy, which clobbers every vector
/// register, and LLVM then kept the block's cos/sin on the stack for the whole loop.)
/// `prefetch`: after its stores, the block read-prefetches the lines it stored `ahead` bytes
/// ahead (`_prefetchAhead`).
@inline(__always)
func _rotateBlock<E: RotaryElement>(_: E.Type, _ p: UnsafeMutablePointer<E.Bits>, pair i: Int, _ b: RotationBlock,
                                    pairs h: Int, gptj: Bool, whole: Bool, prefetch: Bool = false, ahead: Int = 0) {
  let n = h &- i  // pairs left in the row, > 0
  if !gptj {
    if whole {
      let (x, y) = _turnNeox(E.load(p + i), E.load(p + h + i), b)
      E.store(x.0, x.1, p + i)
      if prefetch { _prefetchAhead(E.self, p + i, ahead) }
      E.store(y.0, y.1, p + h + i)
      if prefetch { _prefetchAhead(E.self, p + h + i, ahead) }
    } else {
      let (x, y) = _turnNeox(E.load(p + i, count: n), E.load(p + h + i, count: n), b)
      E.store(x.0, x.1, p + i, count: n)
      E.store(y.0, y.1, p + h + i, count: n)
      if prefetch { _prefetchAhead(E.self, p + i, ahead); _prefetchAhead(E.self, p + h + i, ahead) }
    }
    return
  }
  @inline(__always) func turn(_ u: FloatHalf, _ v: FloatHalf) -> (FloatHalf, FloatHalf) {
    if E.interleavedHalves { return _turn(u, v, b.c0, b.s0) }
    return (_gptjPairs(u, b.c0, b.s0), _gptjPairs(v, b.c1, b.s1))
  }
  let j = 2 &* i
  if whole {
    let (u, v) = E.load(p + j)
    let (a, b) = turn(u, v)
    E.store(a, b, p + j)
  } else {
    let (u, v) = E.load(p + j, count: 2 &* n)
    let (a, b) = turn(u, v)
    E.store(a, b, p + j, count: 2 &* n)
  }
  if prefetch { _prefetchAhead(E.self, p + j, ahead) }
}

/// Read-prefetches the lines of one block's span (2L elements from q) `distance` bytes ahead: a
/// hint (an address past the buffer is harmless). The 16-lane copy issues it after each block's
/// stores (`_prefetchAfterStores`), the 8-lane copies before the row's loads.
/// Measured on an AMD EPYC Zen 5 VM (4096 tokens x 32 heads x 128 float32 from DRAM, 1 thread,
/// ratio to the fastest prefetched in-place pass in the same process):
/// - a C loop of the x86-64-v4 row walk compiled by clang: the row's 8 prefetches ahead of its 8
///   loads 0.77-0.81 (what LLVM made of the Swift walk), after the row's loads and stores
///   0.86-0.91, each block's after its stores 0.96-0.97 (gcc, which spreads them among the loads
///   by itself: 0.94-0.95);
/// - the library's x86-64-v4 copy, before the row -> after each block's stores: NeoX 0.78-0.80 ->
///   0.84-0.88, GPT-J 0.77-0.84 -> 0.84-0.90 (16-bit formats unchanged, 0.57-0.74);
/// - its x86-64-v3 copy: NeoX 0.82-0.88 before the row, 0.79-0.84 after each block, 0.79-0.84
///   after the row; GPT-J 0.85-0.90, 0.87-0.90, 0.76-0.82. Before each block's loads: f32
///   0.85-0.91 against 0.84-0.90 for the row's prefetch first, but float16 0.66 -> 0.52 (its
///   blocks are half a line). So that copy keeps the row's prefetch first.
@inline(__always)
var _prefetchAfterStores: Bool { halfLanes == 16 }

@inline(__always)
func _prefetchAhead<E: RotaryElement>(_: E.Type, _ q: UnsafeMutablePointer<E.Bits>, _ distance: Int) {
  let ahead = UnsafeRawPointer(q) + distance
  var o = 0
  repeat { rr_prefetch(ahead + o); o &+= 64 } while o < 2 &* halfLanes &* MemoryLayout<E.Bits>.stride
}

/// Brings per-pair rows (c[i], s[i], i < h, zero padded) into the order `_block` reads for
/// format E: element-order gptj expands them to (c0 c0 c1 c1 ..), (-s0 s0 -s1 s1 ..) (the
/// x86-64-v3 copy: (s0 s0 s1 s1 ..), see `_gptjPairs`);
/// interleaved-halves neox permutes each block of 2L to (even pairs, odd pairs), the lane order
/// of its loads. Rows need `_rowFloats` floats.
@inline(__always)
func _prepareRows<E: RotaryElement>(_: E.Type, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>,
                                    pairs h: Int, gptj: Bool) {
  if gptj && !E.interleavedHalves {
    // Back to front, L pairs per step: block i (read first) goes to 2i ..< 2i + 2L, which is at
    // or past every block not yet read. Vector stores, so the kernel's vector loads of the rows
    // are forwarded (scalar stores followed by a wide load stall on store forwarding).
    // (In the x86-64-v3 copy the lane build from -sv and sv was scalarized by LLVM, 36
    // instructions per 8 pairs: hence its row without negation, `_gptjSines`.)
    let l = halfLanes
    var i = (h &- 1) & ~(l &- 1)
    while i >= 0 {
      let (c0, c1) = _spreadPairs(_half(c + i)), (s0, s1) = _gptjSines(_half(s + i))
      UnsafeMutableRawPointer(c + 2 &* i).storeBytes(of: c0, as: FloatHalf.self)
      UnsafeMutableRawPointer(c + (2 &* i &+ l)).storeBytes(of: c1, as: FloatHalf.self)
      UnsafeMutableRawPointer(s + 2 &* i).storeBytes(of: s0, as: FloatHalf.self)
      UnsafeMutableRawPointer(s + (2 &* i &+ l)).storeBytes(of: s1, as: FloatHalf.self)
      i &-= l
    }
  } else if !gptj && E.interleavedHalves {
    // Each block of 2L to (even pairs, odd pairs), by vector shuffles (a scalar copy through a
    // temporary, with an array of the two rows, was 7 % of a bf16 prefill in cache).
    @inline(__always) func permute(_ row: UnsafeMutablePointer<Float>) {
      let l = halfLanes
      var i = 0
      while i < h {
        let (even, odd) = _evenOdd(_half(row + i), _half(row + (i &+ l)))
        UnsafeMutableRawPointer(row + i).storeBytes(of: even, as: FloatHalf.self)
        UnsafeMutableRawPointer(row + (i &+ l)).storeBytes(of: odd, as: FloatHalf.self)
        i &+= 2 &* l
      }
    }
    permute(c)
    permute(s)
  }
}

/// Rotates every head of one buffer for token t with the given rows, in one of two orders (the
/// same arithmetic on every element, so the same bits):
/// - `.streamed` (the library's choice for rows past L2): row after row, each row's lines
///   prefetched `rowPrefetchDistance` ahead (`prefetch`), every block's cos/sin loaded again for
///   every row (the 16-lane copy at h = 64: once per token, see `registerRows`).
/// - `.cached` (rows in cache; 8-lane copies, see below): block after block, the block's
///   cos/sin loaded once into registers and used for every head. The row order in cache is
///   bound by loads: 12 256-bit loads per 32 float32 elements in gptj (4 of the row, 8 of the
///   expanded cos/sin), 2 per cycle on AMD Zen 3; the block order does 4 (the row's). Measured on an AMD EPYC Zen 3 VM (a C loop
///   of each order, 32 heads x 128 float32): 1 token (L1) gptj 516 -> 346 ns, neox 271 -> 184
///   ns; 32 tokens (L2) gptj 19.3 -> 15.6 us; but 4096 tokens from DRAM 7.7 -> 9.5 ms, hence the
///   rule. (A prefetch of each row's next block in the block order: no gain in L2, 0.56 -> 0.48
///   of the in-cache pass for neox.)
///   The rule holds for the 8-lane copies only. With 16 lanes (x86-64-v4) a row's cos/sin loads
///   are half as many per element, and the row order is the faster one in cache as well:
///   measured on an AMD EPYC Zen 5 VM (4.5 GHz, 32 tokens x 32 heads x 128 float32, 512 KiB,
///   medians of 31 x 200 calls through the C ABI, Resonance, angles included), block -> row order:
///   x86-64-v4 neox 4540 -> 3490 ns, gptj 5170 -> 4900 ns; x86-64-v3 neox 4870 -> 5250, gptj
///   5880 -> 7280; baseline neox 10420 -> 10830, gptj 11450 -> 13830; 1 token (decode) unchanged
///   (168 / 203 ns). So `.cached` is the block order in the 8-lane copies and the row order
///   without prefetch in the 16-lane one. In the 16-lane copy at h = 64 (rotary dim 128) the
///   row walk keeps every block of the token in registers (`registerRows`, 16 of the 32 vector
///   registers in gptj): measured on the same VM, 32 tokens, gptj 4850-4940 -> 3480-3560 ns,
///   neox 3770-3790 -> 3370-3490 ns (LLVM had reloaded every block for every row: 24 loads per
///   gptj row of 8 vectors). From DRAM that walk stayed at 0.77-0.84 of the fastest prefetched
///   pass, below the x86-64-v3 copy's 0.83-0.90, until its prefetches moved after each block's
///   stores (`_prefetchAhead`: 0.84-0.90).
@inline(__always)
func _rotateHeads<E: RotaryElement>(_ e: E.Type, _ b: HeadBuffer, token t: Int, cos c: UnsafePointer<Float>,
                                    sin s: UnsafePointer<Float>, pairs h: Int, gptj: Bool, rows: RowAccess = .cached) {
  // Offsets: t * stride + head * headStride lies inside the validated span (< 2^63 / size).
  let p = b.base.assumingMemoryBound(to: E.Bits.self) + t &* b.tokenStride
  let step = _blockPairs(gptj: gptj)
  // The layout test outside the head loops, so each loop is specialized for its layout (LLVM kept
  // the test inside the loop: 20 instructions of overhead per head row).
  // .measured is resolved batch by batch in `_rotate`; here it is the streamed walk without it.
  let streamed: Bool?, ahead: Int
  switch rows {
  case .cached: streamed = halfLanes < 16 ? nil : false; ahead = 0  // the x86-64-v4 copy walks rows in cache too: see above
  case .streamed(let distance): streamed = distance > 0; ahead = distance
  case .measured: streamed = false; ahead = 0
  }
  if let prefetch = streamed {
    // `h` as an argument, so the loops below can pass a constant for the common rotary dim 128
    // (h = 64): then the prefetch and block loops of a row have fixed trip counts and unroll, as
    // a kernel templated on the head size would.
    @inline(__always) func row(_ head: Int, pairs h: Int, gptj: Bool, prefetch: Bool) {
      let r = p + head &* b.headStride
      if prefetch && !_prefetchAfterStores {
        let next = UnsafeRawPointer(r) + ahead  // a hint: an address past the buffer is harmless
        var o = 0
        while o < 2 &* h &* MemoryLayout<E.Bits>.stride { rr_prefetch(next + o); o &+= 64 }  // <= 2^17 bytes
      }
      let blockPrefetch = prefetch && _prefetchAfterStores
      var i = 0
      while i &+ 2 &* step <= h {  // two blocks per step: half the loop overhead; i < h <= 32768
        _rotateBlock(e, r, pair: i, _block(e, cos: c, sin: s, pair: i, gptj: gptj), pairs: h, gptj: gptj, whole: true,
                     prefetch: blockPrefetch, ahead: ahead)
        _rotateBlock(e, r, pair: i &+ step, _block(e, cos: c, sin: s, pair: i &+ step, gptj: gptj), pairs: h, gptj: gptj,
                     whole: true, prefetch: blockPrefetch, ahead: ahead)
        i &+= 2 &* step
      }
      while i < h {
        _rotateBlock(e, r, pair: i, _block(e, cos: c, sin: s, pair: i, gptj: gptj), pairs: h, gptj: gptj,
                     whole: h &- i >= step, prefetch: blockPrefetch, ahead: ahead)
        i &+= step
      }
    }
    // 16 lanes, h = 64: the row's blocks (4 in gptj, 2 in neox: 16 or 8 of the 32 vector
    // registers) loaded once, before the head loop. In `row` LLVM loads every block again for
    // every row (the row's stores might alias the cos/sin rows), 24 loads per row in gptj.
    @inline(__always) func registerRows(gptj: Bool, prefetch: Bool) {
      let step = _blockPairs(gptj: gptj)
      let b0 = _block(e, cos: c, sin: s, pair: 0, gptj: gptj), b1 = _block(e, cos: c, sin: s, pair: step, gptj: gptj)
      let b2 = gptj ? _block(e, cos: c, sin: s, pair: 2 &* step, gptj: gptj) : b0  // neox: 64 = 2 blocks
      let b3 = gptj ? _block(e, cos: c, sin: s, pair: 3 &* step, gptj: gptj) : b1
      for head in 0 ..< b.heads {
        let r = p + head &* b.headStride
        if !gptj {
          // The whole row loaded in address order, then rotated and stored in that order: block
          // by block the loads went to the row's lines 0 1 4 5 2 3 6 7 (f32), and without a
          // software prefetch that walk ran at 0.75 of the plain in-place pass from DRAM.
          let x0 = E.load(r), x1 = E.load(r + step), y0 = E.load(r + 64), y1 = E.load(r + (64 &+ step))
          let (u0, v0) = _turnNeox(x0, y0, b0), (u1, v1) = _turnNeox(x1, y1, b1)
          // Each block's prefetch after its store (`_prefetchAhead`).
          E.store(u0.0, u0.1, r)
          if prefetch { _prefetchAhead(e, r, ahead) }
          E.store(u1.0, u1.1, r + step)
          if prefetch { _prefetchAhead(e, r + step, ahead) }
          E.store(v0.0, v0.1, r + 64)
          if prefetch { _prefetchAhead(e, r + 64, ahead) }
          E.store(v1.0, v1.1, r + (64 &+ step))
          if prefetch { _prefetchAhead(e, r + (64 &+ step), ahead) }
          continue
        }
        _rotateBlock(e, r, pair: 0, b0, pairs: 64, gptj: gptj, whole: true, prefetch: prefetch, ahead: ahead)
        _rotateBlock(e, r, pair: step, b1, pairs: 64, gptj: gptj, whole: true, prefetch: prefetch, ahead: ahead)
        if gptj {
          _rotateBlock(e, r, pair: 2 &* step, b2, pairs: 64, gptj: gptj, whole: true, prefetch: prefetch, ahead: ahead)
          _rotateBlock(e, r, pair: 3 &* step, b3, pairs: 64, gptj: gptj, whole: true, prefetch: prefetch, ahead: ahead)
        }
      }
    }
    if halfLanes == 16 && h == 64 {
      switch (gptj, prefetch) {
      case (true, true): registerRows(gptj: true, prefetch: true)
      case (true, false): registerRows(gptj: true, prefetch: false)
      case (false, true): registerRows(gptj: false, prefetch: true)
      case (false, false): registerRows(gptj: false, prefetch: false)
      }
      return
    }
    // Four loops, so that neither test is made per row; each for h = 64 and for any h.
    @inline(__always) func rows(pairs h: Int) {
      switch (gptj, prefetch) {
      case (true, true): for head in 0 ..< b.heads { row(head, pairs: h, gptj: true, prefetch: true) }
      case (true, false): for head in 0 ..< b.heads { row(head, pairs: h, gptj: true, prefetch: false) }
      case (false, true): for head in 0 ..< b.heads { row(head, pairs: h, gptj: false, prefetch: true) }
      case (false, false): for head in 0 ..< b.heads { row(head, pairs: h, gptj: false, prefetch: false) }
      }
    }
    if h == 64 { rows(pairs: 64) } else { rows(pairs: h) }
  } else {
    var i = 0
    while i < h {
      let block = _block(e, cos: c, sin: s, pair: i, gptj: gptj)
      @inline(__always) func heads(gptj: Bool, whole: Bool) {
        for head in 0 ..< b.heads { _rotateBlock(e, p + head &* b.headStride, pair: i, block, pairs: h, gptj: gptj, whole: whole) }
      }
      switch (gptj, h &- i >= step) {
      case (true, true): heads(gptj: true, whole: true)
      case (true, false): heads(gptj: true, whole: false)
      case (false, true): heads(gptj: false, whole: true)
      case (false, false): heads(gptj: false, whole: false)
      }
      i &+= step
    }
  }
}

/// Bytes of a batch's q read-prefetched after each of its cos/sin rows is computed, for positions
/// in no order when the walk prefetches (`_rotate`): such a row took ~120 ns at d = 128 on an
/// AMD EPYC Zen 5 (Resonance, x86-64-v4: its table values computed; 95-114 ns since the short
/// periods' are loaded, `AngleData.gatheredPairs`; plain RoPE ~100 ns: its polynomial anchor;
/// 14 ns for consecutive positions), in which one core streams about 4-5 KiB.
/// Measured there (4096 random positions x 32 heads x 128 f32, 1 thread, ratio to the fastest
/// memory pass, one process, 4 rounds x 2 layouts): without 0.69-0.72, with 3.2 KiB 0.77-0.79,
/// 4.8 KiB 0.76-0.81, 6.4 KiB 0.76-0.82; prefetching the whole batch (16 rows) before its rows,
/// or batches of 1, 4 or 8 tokens, were slower. The x86-64-v3 copy (~180 ns a row) is unchanged by
/// it (0.65-0.69 either way, not understood); the learner's trials time it with the row prefetch.
@inline(__always)
var _rowComputePrefetchBytes: Int { 4800 }

/// The rotation loop for one element format: rows for a batch of tokens (`_rowBatch`, each
/// prepared once for E), then every head of q and k of those tokens. `scratch`: one
/// `kernelScratchBytes` block per thread chunk.
@inline(__always)
func _rotate<E: RotaryElement>(_ e: E.Type, _ a: AngleData, _ job: KernelRotation, scratch: UnsafeMutableRawPointer) {
  let h = a.pairCount
  let tokens = job.tokens.count
  let stride = kernelScratchBytes(a, tokens: tokens), batch = _rowBatch(a, tokens: tokens)
  let slot = rowPrefetchSlot(job.format, threads: job.threads)
  // Bytes of q and k one token moves (validated spans: heads * rotary dim * size fits).
  let tokenBytes = (job.q.heads &+ (job.k?.heads ?? 0)) &* 2 &* h &* MemoryLayout<E.Bits>.stride
  parallelChunks(count: tokens, threads: job.threads) { chunk, index in
    var (rows, cursor) = _scratch(a, scratch + index &* stride, tokens: tokens)
    // Worker 0 is the calling thread: its anchor rows live in its thread's cache, so the next
    // call (the next position, the next layer) starts with them.
    let cache = index == 0 ? cursor.adoptThreadCache(a, scale: job.scale) : nil
    defer { if let cache { cursor.release(cache, a, scale: job.scale) } }
    var t = job.tokens.lowerBound + chunk.lowerBound
    let end = job.tokens.lowerBound + chunk.upperBound
    while t < end {
      let n = min(batch, end &- t)
      // The measured prefetch: the verdict, or (worker 0 while undecided) a timed trial batch.
      var walk = job.rows, trial: Int32 = -1, started: UInt64 = 0
      if case .measured = walk {
        var trialArm: Int32 = 0
        let choice = rr_row_prefetch_choose(slot, index == 0 ? 1 : 0, &trialArm)
        if choice < 0 { trial = trialArm; started = rr_monotonic_ns() }
        walk = .streamed(ahead: rowPrefetchDistance(arm: choice < 0 ? trialArm : choice))
      }
      // While rows of positions in no order are computed (~95-120 ns each at d = 128,
      // `_rowComputePrefetchBytes`) the walk issues no memory access, and a single core's stream
      // stops (the hardware prefetcher follows demand): with the walk's prefetch on, each such row
      // is followed by a read prefetch of the batch's next lines, past those the previous batch's
      // walk prefetched. (The rows `_angleRows` computes for them, one by one: its loop with a
      // per-row hook was 1-5 % slower in 7 of 7 A/Bs, consecutive positions too, so it is kept
      // apart here.)
      if walk.prefetches && !_consecutive(job.positions, from: t, count: n) {
        // q's bytes from the batch's first row to its last (non-negative strides, validated),
        // in address order like the walk's own prefetch; k's lines are left to that.
        let size = MemoryLayout<E.Bits>.stride, q = job.q
        let first = UnsafeRawPointer(q.base) + t &* q.tokenStride &* size
        let span = ((n &- 1) &* q.tokenStride &+ (q.heads &- 1) &* q.headStride &+ 2 &* h) &* size
        var next = 0
        if t != job.tokens.lowerBound &+ chunk.lowerBound, case .streamed(let ahead) = walk { next = min(span, ahead) }
        for b in 0 ..< n {
          let (c, s) = rows[b]
          _angleRow(a, position: job.positions[t &+ b], scale: job.scale, sinSign: job.sinSign, cursor: &cursor, cos: c, sin: s,
                    computeTable: _computesTableValues)
          let end = min(span, next &+ _rowComputePrefetchBytes)
          while next < end { rr_prefetch(first + next); next &+= 64 }
        }
      } else {
        _angleRows(a, positions: job.positions, from: t, count: n, scale: job.scale, sinSign: job.sinSign, cursor: &cursor) { rows[$0] }
      }
      for b in 0 ..< n {
        let (c, s) = rows[b]
        _prepareRows(e, cos: c, sin: s, pairs: h, gptj: job.gptj)
      }
      for b in 0 ..< n {
        let (c, s) = rows[b]
        _rotateHeads(e, job.q, token: t &+ b, cos: c, sin: s, pairs: h, gptj: job.gptj, rows: walk)
        if let k = job.k { _rotateHeads(e, k, token: t &+ b, cos: c, sin: s, pairs: h, gptj: job.gptj, rows: walk) }
      }
      if trial >= 0 {
        rr_row_prefetch_report(slot, trial, rr_monotonic_ns() &- started, UInt64(truncatingIfNeeded: n &* tokenBytes))
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

#if RR_KERNEL_AVX512
/// `kernelRotate` with bfloat16 stored through AVX512-BF16 (`BFloat16NativeElement`; the same
/// bits); for CPUs that have it (Dispatch.swift, `Kernels.avx512bf16`).
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelRotateBF16(_ angles: AngleData, _ job: KernelRotation, scratch: UnsafeMutableRawPointer) {
  if job.format == .bfloat16 { _rotate(BFloat16NativeElement.self, angles, job, scratch: scratch) } else { kernelRotate(angles, job, scratch: scratch) }
}

/// `kernelRotateToken` with bfloat16 stored through AVX512-BF16.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelRotateTokenBF16(_ angles: AngleData, format: KernelFormat, gptj: Bool, q: HeadBuffer, k: HeadBuffer?,
                                   token t: Int, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>) {
  guard format == .bfloat16 else {
    return kernelRotateToken(angles, format: format, gptj: gptj, q: q, k: k, token: t, cos: c, sin: s)
  }
  _rotateToken(BFloat16NativeElement.self, q: q, k: k, token: t, cos: c, sin: s, pairs: angles.pairCount, gptj: gptj)
}
#endif

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
  switch format {
  case .float32: _rotateToken(Float32Element.self, q: q, k: k, token: t, cos: c, sin: s, pairs: h, gptj: gptj)
  case .float16: _rotateToken(HalfElement.self, q: q, k: k, token: t, cos: c, sin: s, pairs: h, gptj: gptj)
  case .bfloat16: _rotateToken(BF16Element.self, q: q, k: k, token: t, cos: c, sin: s, pairs: h, gptj: gptj)
  }
}

/// Every head of q (and k) of token t with prepared rows (`kernelRotateToken` and its
/// AVX512-BF16 form).
@inline(__always)
private func _rotateToken<E: RotaryElement>(_ e: E.Type, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                                            cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>, pairs h: Int, gptj: Bool) {
  _rotateHeads(e, q, token: t, cos: c, sin: s, pairs: h, gptj: gptj)
  if let k { _rotateHeads(e, k, token: t, cos: c, sin: s, pairs: h, gptj: gptj) }
}
