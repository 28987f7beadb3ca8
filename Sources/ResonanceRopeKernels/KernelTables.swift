// cos/sin cache fills, the periodic table fill at handle creation, and the benchmark's memory
// passes (here so that they run with the same instruction set as the kernels they are compared
// with: the faster of the two builds is the stricter yardstick).
import CKernelHints
import ResonanceRopeKernelTypes

/// Fills a cos/sin cache (see `KernelCacheLayout`) from the fast rows. `scratch`: one
/// `kernelScratchBytes(a, tokens: job.count)` block.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelFillTable(_ a: AngleData, _ job: KernelTableFill, scratch: UnsafeMutableRawPointer) {
  let h = a.pairCount
  var (rows, cursor) = _scratch(a, scratch, tokens: job.count)
  let (c, s) = rows[0]
  let w = job.layout == .half ? h : 2 &* h
  // Half rows straight from the generator when its block writes end at the row's end (it writes
  // whole blocks of 8 from 0 and from the table pairs): no copy through the scratch rows
  // (which writes every value twice).
  // Rows periodicBlock at a time, so consecutive positions take their table pairs by the
  // transposed gather (`_angleRows`; the same values).
  // Large outputs (`job.stream`) with 32-byte aligned rows of whole blocks of 8: rows made in
  // the scratch (L1) a batch at a time, then copied out front to back with non-temporal stores,
  // so each output line is written whole, without being read first, and the output does not
  // evict the periodic table, which the fill reads as much as it writes (16 entries per pair per
  // 16 positions). (Streaming straight from the generator, which writes 32 bytes of 8 rows in
  // turn, left lines half written: 2.5x slower than cached stores.)
  #if RR_KERNEL_AVX512
  // x86-64-v4, pairs in whole groups of 16 (d = 128: the periodic table's 64 pairs of Resonance
  // at base 10000, or plain RoPE's 64 polynomial pairs): the rows go straight to the output, 16
  // pairs a 64-byte line, by non-temporal stores (the transposed table entries by
  // `rr_rows4x16_stream`, the polynomial pairs by `rr_stream8x2`), so no row is written twice.
  // Table pairs of positions that are not consecutive are stored as usual.
  if job.layout == .half && job.stream && h % 16 == 0 && (job.scale != 1 || a.tablePairs % 16 == 0)
    && (UInt(bitPattern: job.cos) | UInt(bitPattern: job.sin!)) % 64 == 0 {
    var t = 0
    while t < job.count {
      let n = min(periodicBlock, job.count &- t)
      _angleRows(a, positions: job.positions, from: t, count: n, scale: job.scale, sinSign: 1, cursor: &cursor, stream: true) {
        (job.cos + (t &+ $0) &* h, job.sin! + (t &+ $0) &* h)
      }
      t &+= n
    }
    rr_store_fence()
    return
  }
  #endif
  if job.layout == .half && h % 8 == 0 && job.stream && (UInt(bitPattern: job.cos) | UInt(bitPattern: job.sin!)) % 32 == 0 {
    let batch = _rowBatch(a, tokens: job.count)
    var t = 0
    while t < job.count {
      let n = min(batch, job.count &- t)
      _angleRows(a, positions: job.positions, from: t, count: n, scale: job.scale, sinSign: 1, cursor: &cursor) { rows[$0] }
      for b in 0 ..< n {
        // cos and sin rows in one loop, 16 floats of each per step (two lines in flight; two
        // loops of 8 floats each cost 98 instructions per row pair at h = 64, this 44).
        let (rc, rs) = rows[b], oc = job.cos + (t &+ b) &* w, os = job.sin! + (t &+ b) &* w
        var i = 0
        while i &+ 16 <= h {
          rr_stream8(oc + i, _eight(rc + i)); rr_stream8(oc + (i &+ 8), _eight(rc + (i &+ 8)))
          rr_stream8(os + i, _eight(rs + i)); rr_stream8(os + (i &+ 8), _eight(rs + (i &+ 8)))
          i &+= 16
        }
        if i < h { rr_stream8(oc + i, _eight(rc + i)); rr_stream8(os + i, _eight(rs + i)) }  // h % 8 == 0
      }
      t &+= n
    }
    rr_store_fence()
    return
  }
  if job.layout == .half && h % 8 == 0 && (a.tablePairs % 8 == 0 || job.scale != 1) {
    var t = 0
    while t < job.count {
      let n = min(periodicBlock, job.count &- t)
      _angleRows(a, positions: job.positions, from: t, count: n, scale: job.scale, sinSign: 1, cursor: &cursor) {
        (job.cos + (t &+ $0) &* w, job.sin! + (t &+ $0) &* w)
      }
      t &+= n
    }
    return
  }
  for t in 0 ..< job.count {
    let co = job.cos + t &* w  // inside the validated n * width buffer
    _angleRow(a, position: job.positions[t], scale: job.scale, sinSign: 1, cursor: &cursor, cos: c, sin: s)
    switch job.layout {
    case .half:
      co.update(from: c, count: h)
      (job.sin! + t &* w).update(from: s, count: h)
    case .hf:
      let so = job.sin! + t &* w
      co.update(from: c, count: h); (co + h).update(from: c, count: h)
      so.update(from: s, count: h); (so + h).update(from: s, count: h)
    case .vllm:
      co.update(from: c, count: h); (co + h).update(from: s, count: h)
    case .gptj:
      let so = job.sin! + t &* w
      for i in 0 ..< h {
        co[2 &* i] = c[i]; co[2 &* i &+ 1] = c[i]
        so[2 &* i] = s[i]; so[2 &* i &+ 1] = s[i]
      }
    }
  }
}

/// Distance from a value within which the float32 rounding is decided: 2^-40 (9.1e-13).
/// The recurrence below stays within 1e-13 of exact, and the exact path within 2.2e-16.
private let roundingMargin = 0x1p-40

/// Fills the periodic table of pairs with periods `periods[i]` at `offsets[i]`: entry r of pair
/// i is the float32 (cos, sin) of 2 pi r / P, for r in [0, P), then residues 0 ..< periodicBlock - 1
/// again. Each value is the exact path's double rounded once, bit for bit, where this function
/// can prove it, and NaN where it cannot (the caller recomputes those by the exact path):
///
/// r in [0, P/2] is computed 8 residues at a time by a rotation recurrence in double, seeded by
/// the polynomial every 64 steps (seed within 1e-15 of exact, each step adds < 1.4e-15: within
/// 1e-13 after 64 steps); r in (P/2, P) is the mirror (cos(2 pi (P - r) / P), -sin(...)), exact
/// identities. A value x is kept when x - 2^-40 and x + 2^-40 round to the same float: then the
/// exact value and the exact path's double (both within 2^-40 of x) round to it too. The rest
/// (about 0.1 %: values near a rounding midpoint or near 0) are NaN, and listed as (pair,
/// residue) in `undecided` while they fit its `capacity`; returns how many there are (when more
/// than `capacity`, the caller must find them itself). Measured: d = 128 Resonance (405,898
/// entries) took 20 ms by libm sin/cos per entry; a scan of the table for the NaNs afterwards
/// was 5.7 of the 9.1 million instructions of the whole handle creation.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelFillPeriodic(periods: UnsafePointer<Int64>, offsets: UnsafePointer<Int>, count k: Int,
                                entries: UnsafeMutablePointer<SIMD2<Float>>, undecided: UnsafeMutablePointer<SIMD2<Int32>>,
                                capacity: Int) -> Int {
  var found = 0
  @inline(__always) func note(_ i: Int, _ r: Int) {  // i < 2^15, r < 2^16
    if found < capacity { undecided[found] = SIMD2(Int32(truncatingIfNeeded: i), Int32(truncatingIfNeeded: r)) }
    found &+= 1
  }
  let lanes = DoubleLanes(0, 1, 2, 3, 4, 5, 6, 7)
  let nan = Float.nan
  for i in 0 ..< k {
    let P = Int(periods[i]), e = entries + offsets[i]
    let p = Double(P)
    let last = P / 2  // residues 0 ... last computed, the rest mirrored
    @inline(__always) func reduced(_ x: DoubleLanes) -> DoubleLanes { x - _roundSmall(x) }
    let step = kernelCosSinTurns(reduced(_v(8) / _v(p)))
    let wc = step.cos, ws = step.sin
    var r0 = 0
    while r0 <= last {
      var (c, s) = _cosSinTurns(reduced((_v(Double(r0)) + lanes) / _v(p)))
      var n = 0
      while n < 64 && r0 <= last {
        let cf = rr_narrow8(c), sf = rr_narrow8(s)
        let m = _v(roundingMargin)
        let bad = (unsafeBitCast(rr_narrow8(c - m), to: SIMD8<UInt32>.self) ^ unsafeBitCast(rr_narrow8(c + m), to: SIMD8<UInt32>.self))
          | (unsafeBitCast(rr_narrow8(s - m), to: SIMD8<UInt32>.self) ^ unsafeBitCast(rr_narrow8(s + m), to: SIMD8<UInt32>.self))
        let any = (bad[0] | bad[1] | bad[2] | bad[3]) | (bad[4] | bad[5] | bad[6] | bad[7])
        if any == 0 && r0 &+ 7 <= last && r0 >= 1 && r0 &+ 7 < P &- last {
          // The common case: all 8 residues and their mirrors, interleaved (cos, sin) pairs.
          let fwd = SIMD16<Float>(cf[0], sf[0], cf[1], sf[1], cf[2], sf[2], cf[3], sf[3],
                                  cf[4], sf[4], cf[5], sf[5], cf[6], sf[6], cf[7], sf[7])
          let ns = -sf
          let rev = SIMD16<Float>(cf[7], ns[7], cf[6], ns[6], cf[5], ns[5], cf[4], ns[4],
                                  cf[3], ns[3], cf[2], ns[2], cf[1], ns[1], cf[0], ns[0])
          UnsafeMutableRawPointer(e + r0).storeBytes(of: fwd, as: SIMD16<Float>.self)
          UnsafeMutableRawPointer(e + (P &- r0 &- 7)).storeBytes(of: rev, as: SIMD16<Float>.self)
        } else {
          for l in 0 ..< 8 {
            let r = r0 &+ l
            guard r <= last else { break }
            let v = bad[l] == 0 ? SIMD2(cf[l], sf[l]) : SIMD2(nan, nan)
            e[r] = v
            let mirrored = r >= 1 && r < P &- last
            if mirrored { e[P &- r] = SIMD2(v.x, -v.y) }
            if bad[l] != 0 {
              note(i, r)
              if mirrored { note(i, P &- r) }
            }
          }
        }
        (c, s) = (c * wc - s * ws, s * wc + c * ws)
        r0 &+= 8
        n &+= 1
      }
    }
    for r in P ..< P &+ periodicBlock &- 1 { e[r] = e[r % P] }
  }
  return found
}

/// x *= c over `bytes` bytes in place, as floats, in runs of blocks over `threads` threads;
/// `ahead` > 0: with the rotation's row prefetch (read, `ahead` bytes ahead). The benchmark's
/// yardstick.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelMemoryPass(_ p: UnsafeMutableRawPointer, bytes: Int, threads: Int, ahead: Int, one: Float) {
  let c = SIMD16<Float>(repeating: one)
  let blocks = bytes / 64
  parallelChunks(count: blocks, threads: threads) { r, _ in
    for b in r {
      let q = p + b &* 64
      if ahead > 0 { rr_prefetch(q + ahead) }  // a hint: past the end is harmless
      q.storeBytes(of: q.loadUnaligned(as: SIMD16<Float>.self) * c, as: SIMD16<Float>.self)
    }
  }
}

/// A fill of `bytes` bytes (stores only), the table build's yardstick; `stream`: with the
/// table fill's non-temporal stores (p 64-byte aligned), fenced.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelMemoryFill(_ p: UnsafeMutableRawPointer, bytes: Int, stream: Bool, one: Float) {
  let c = SIMD16<Float>(repeating: one), h = SIMD8<Float>(repeating: one)
  for b in 0 ..< bytes / 64 {
    let q = p + b &* 64
    if stream {
      let f = q.assumingMemoryBound(to: Float.self)
      #if RR_KERNEL_AVX512
      rr_stream16(f, c)  // one whole line, as the v4 table fill writes
      #else
      rr_stream8(f, h)
      rr_stream8(f + 8, h)
      #endif
    } else {
      q.storeBytes(of: c, as: SIMD16<Float>.self)
    }
  }
  if stream { rr_store_fence() }
}

/// The kernels' half element, `count` values each way, in blocks of 2L with the kernels' tail
/// handling (test hook: the F16C element of the x86-64-v3 copy against the software element of
/// the baseline copy, bit for bit).
/// `bfloat16`: the bfloat16 element instead of the half one.
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelWidenHalves(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count n: Int, bfloat16: Bool) {
  if bfloat16 { _widen(BF16Element.self, src, dst, n) } else { _widen(HalfElement.self, src, dst, n) }
}

@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelNarrowHalves(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count n: Int, bfloat16: Bool) {
  if bfloat16 { _narrow(BF16Element.self, src, dst, n) } else { _narrow(HalfElement.self, src, dst, n) }
}

#if RR_KERNEL_AVX512
/// `kernelNarrowHalves` of bfloat16 through AVX512-BF16 (`BFloat16NativeElement`; test hook).
@export(interface)  // compiled only in this module: see Dispatch.swift
package func kernelNarrowHalvesBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count n: Int) {
  _narrow(BFloat16NativeElement.self, src, dst, n)
}
#endif

/// Element order of a block's halves: (0 ..< L, L ..< 2L), or (even, odd) when interleaved.
@inline(__always)
private func _order<E: RotaryElement>(_: E.Type, _ k: Int) -> Int {
  let l = halfLanes
  return E.interleavedHalves ? (k < l ? 2 * k : 2 * (k - l) + 1) : k
}

private func _widen<E: RotaryElement>(_ e: E.Type, _ src: UnsafePointer<E.Bits>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
  let l = halfLanes
  var i = 0
  while i < n {
    let m = min(2 * l, n - i)
    let (a, b) = m == 2 * l ? E.load(src + i) : E.load(src + i, count: m)
    for k in 0 ..< 2 * l where _order(e, k) < m { dst[i + _order(e, k)] = k < l ? a[k] : b[k - l] }
    i += 2 * l
  }
}

private func _narrow<E: RotaryElement>(_ e: E.Type, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<E.Bits>, _ n: Int) {
  let l = halfLanes
  var i = 0
  while i < n {
    let m = min(2 * l, n - i)
    var a = FloatHalf(), b = FloatHalf()
    for k in 0 ..< 2 * l where _order(e, k) < m { if k < l { a[k] = src[i + _order(e, k)] } else { b[k - l] = src[i + _order(e, k)] } }
    if m == 2 * l { E.store(a, b, dst + i) } else { E.store(a, b, dst + i, count: m) }
    i += 2 * l
  }
}
