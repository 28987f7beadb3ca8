// Per-position cos/sin rows for the kernels, within the accuracy bound of the exact path
// (every float32 value within 1.2e-7 of exact; the data is built in FastAngles.swift).
//
// Two generators, chosen per pair when the handle is created:
//
// 1. Periodic table (Resonance pairs with a small integer period P, when no magnitude factor
//    applies): the float32 (cos, sin) of every residue, computed once, looked up. Bit-identical
//    to the exact path rounded once, so positions m and m + P give the same bits. The cursor
//    keeps, per pair, the entry index of the first position of a block of `periodicBlock`
//    consecutive positions, so a consecutive position costs one load per pair; when it moves
//    to the next block it prefetches the lines of the block after (measured: the table, 3.1 MiB
//    for d = 128, is evicted by the streamed q/k of a prefill, and the demand misses on it cost
//    more than the whole angle computation). A position in no order (a positions array) misses
//    on the entries of the long periods; the x86-64-v3 and v4 copies compute those values
//    instead from the exact residue and take them where their rounding is decided, the entry
//    elsewhere (`_computedValues`, `_storeComputed`): the same bits. The short periods' entries
//    (`AngleData.gatheredPairs`), which every position touches, stay in cache and are loaded.
//
// 2. Anchored polynomial (every other pair; every pair when a magnitude factor applies). The row
//    of position m is the row of its anchor a = m with the low 4 bits cleared, turned by the
//    stored step (cos j theta, sin j theta), j = m - a in 0 ..< anchorSpan:
//        c = ca cj - sa sj,   s = sa cj + ca sj      (double, then times the scale, rounded once)
//    The anchor row comes from the vectorized double polynomial below and is kept in the cursor
//    while consecutive positions share it, so a prefill pays one polynomial per 16 positions and
//    one complex product per position (measured: the polynomial per position made plain-RoPE
//    prefill 1.3x slower than a plain rotation loop). The value depends on m alone (never on
//    the previous position or the thread), so results are identical for any call pattern.
//    Error: the anchor within 3.3e-14 of exact (KernelTests), the step within 2e-16 (exact
//    path), the product adds < 4.5e-16: below 4e-14 before the float32 rounding, which the
//    1.2e-7 bound allows 1e-9 for.
//
// The polynomial. The angle in turns, t = frac(m tau) with tau = theta / (2 pi) in
// double-double, is reduced exactly: sigma_j = 2^(21 j) tau mod 1 in [-1/2, 1/2] (double-double,
// exact at creation), split as A_j (top 31 bits of the high part) + B_j (its remaining 22 bits)
// + L_j (the low part), so m_j A_j (21 + 31 bits) and m_j B_j (21 + 22 bits) are exact products
// and their fractions exact; the sum t has an error of a few 1e-16 turns plus |m| * 2^-106 * tau
// from tau itself (below 1e-13 turns for every int64 m). Resonance pairs use tau = 1 / P in
// double-double. Then q = round(4 t), u = t - q / 4 in [-1/8, 1/8] (exact), and Taylor
// polynomials in u with the (2 pi)^k / k! factors folded in: sin to u^15 (truncation < 5e-17),
// cos to u^16 (< 3e-18); Horner rounding adds a few 1e-16. No FMA anywhere: Swift never fuses,
// so every build gives the same bits, and baseline x86-64 has no FMA instruction. Rounding to an
// integer uses the 1.5 * 2^52 trick (exact for |x| <= 2^51; every argument here is below 2^22)
// because baseline x86-64 (SSE2) has no roundpd: `.rounded()` on a SIMD vector becomes one libm
// call per lane there.
import CKernelHints
import ResonanceRopeKernelTypes

/// Lanes of the double-precision generator.
typealias DoubleLanes = SIMD8<Double>

/// k.0 + z (k.1 + z (k.2 + ... + z k.7)): Horner's rule from the highest coefficient down, with
/// the coefficients as a tuple (a loop over a coefficient array stayed a loop in the build:
/// bounds checks, a branch and a broadcast load per step, 376 instructions per 8 pairs of a
/// plain-RoPE decode row, 29 % of the call).
@inline(__always)
func _horner8(_ z: DoubleLanes, _ k: (Double, Double, Double, Double, Double, Double, Double, Double)) -> DoubleLanes {
  var r = _v(k.7)
  r = r * z + k.6
  r = r * z + k.5
  r = r * z + k.4
  r = r * z + k.3
  r = r * z + k.2
  r = r * z + k.1
  return r * z + k.0
}

/// sum S_k z^k with S_k = (-1)^k (2 pi)^(2k+1) / (2k+1)!, so sin(2 pi u) = u * this at z = u^2.
/// Nearest doubles, from mpmath.
@inline(__always)
func _sinSeries(_ z: DoubleLanes) -> DoubleLanes {
  _horner8(z, (6.283185307179586, -41.34170224039976, 81.60524927607506, -76.70585975306139,
               42.058693944897655, -15.09464257682299, 3.819952584848282, -0.7181223017785006))
}

/// sum C_k z^k with C_k = (-1)^k (2 pi)^(2k) / (2k)!, cos(2 pi u) at z = u^2: C_1 ... C_8 by
/// `_horner8`, then its last step to C_0 (the same operations as Horner over all nine).
@inline(__always)
func _cosSeries(_ z: DoubleLanes) -> DoubleLanes {
  _horner8(z, (-19.739208802178716, 64.9393940226683, -85.45681720669373, 60.24464137187666,
               -26.4262567833744, 7.903536371318469, -1.714390711088672, 0.28200596845579123)) * z + 1.0
}

/// A vector of `x` in every lane.
@inline(__always)
func _v(_ x: Double) -> DoubleLanes { DoubleLanes(repeating: x) }

/// round(x) to the nearest integer (ties to even) for |x| <= 2^51, without roundpd.
@inline(__always)
func _roundSmall(_ x: DoubleLanes) -> DoubleLanes {
  let magic = _v(6755399441055744.0)  // 1.5 * 2^52
  return (x + magic) - magic
}

@inline(__always)
func _roundSmall(_ x: Double) -> Double {
  (x + 6755399441055744.0) - 6755399441055744.0
}

/// cos(2 pi t), sin(2 pi t) for |t| <= 2^50 turns given exactly (see the file comment).
@inline(__always)
func _cosSinTurns(_ t: DoubleLanes) -> (cos: DoubleLanes, sin: DoubleLanes) {
  let q = _roundSmall(t * 4)
  let u = t - q * 0.25  // exact: t and q / 4 are within 1/8 of each other
  let z = u * u
  let s = _sinSeries(z) * u
  let c = _cosSeries(z)
  // Quadrant q in -2 ... 2 (|t| <= 1/2): 0 -> (c, s), 1 -> (-s, c), +-2 -> (-c, -s),
  // -1 -> (s, -c). As exact arithmetic (SIMD comparisons and lane selects are scalar loops in
  // Swift 6.3): odd = q^2 (4 - q^2) / 3 is 1 for q = +-1, else 0; a = (1 - odd)(1 - q^2 / 2)
  // and b = odd * q are in {-1, 0, 1}, so a c - b s and a s + b c are one value plus an exact 0.
  // The division is a multiplication by the double nearest 1/3: 3 * that is exactly 1 (the
  // product 1 - 2^-54 rounds to even), 0 * that is 0, so the same values without a vdivpd
  // (latency 13+ cycles, 16 per decode row).
  let q2 = q * q
  let odd = q2 * (4 - q2) * (1.0 / 3.0)  // 0 * 4, 1 * 3, 4 * 0 times RN(1/3): 0, 1, 0 exactly
  let a = (1 - odd) * (1 - q2 * 0.5), b = odd * q
  let co = a * c - b * s, si = a * s + b * c
  return (co, si)
}

@inline(__always)
func _load(_ p: UnsafePointer<Double>) -> DoubleLanes { UnsafeRawPointer(p).loadUnaligned(as: DoubleLanes.self) }
@inline(__always)
func _load(_ p: UnsafeMutablePointer<Double>) -> DoubleLanes { UnsafeRawPointer(p).loadUnaligned(as: DoubleLanes.self) }
@inline(__always)
func _store(_ v: DoubleLanes, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: DoubleLanes.self) }

/// Exact double values of pairs [i, i + 8) at position m by the polynomial (see the file comment).
@inline(__always)
func _polynomial(_ a: AngleData, from i: Int, m0: DoubleLanes, m1: DoubleLanes, m2: DoubleLanes) -> (cos: DoubleLanes, sin: DoubleLanes) {
  let n = a.paddedPairs
  let sg = a.sigma + i
  // Fractions of the exact products m_j * A_j (each below 2^21 in magnitude).
  let p0 = m0 * _load(sg), p1 = m1 * _load(sg + 3 * n), p2 = m2 * _load(sg + 6 * n)
  var t = (p0 - _roundSmall(p0)) + (p1 - _roundSmall(p1)) + (p2 - _roundSmall(p2))
  t = t + ((m0 * _load(sg + n) + m1 * _load(sg + 4 * n) + m2 * _load(sg + 7 * n))
    + (m0 * _load(sg + 2 * n) + m1 * _load(sg + 5 * n) + m2 * _load(sg + 8 * n)))
  t = t - _roundSmall(t)
  return _cosSinTurns(t)
}

/// m split into 21-bit limbs, each an exact double in every lane: m = m0 + 2^21 m1 + 2^42 m2.
@inline(__always)
func _limbs(_ m: Int64) -> (DoubleLanes, DoubleLanes, DoubleLanes) {
  (_v(Double(m & 0x1F_FFFF)), _v(Double((m &>> 21) & 0x1F_FFFF)), _v(Double(m &>> 42)))
}

/// Entry indices offset[i] + (m mod P_i) of table pairs [i, i + 8), as exact integers in
/// doubles, branch-free, exact for every Int64 m: x = m0 + m1 R1 + m2 R2 is exact (|x| < 2^38),
/// r = x - round(x / P) P is exact and in [-P/2 - 1, P/2 + 1] (x / P is rounded once), and
/// round(r / P - 1/2) is -1 for r < 0 and 0 for r >= 0 (every P >= 1; ties go to even), so
/// r - that * P is m mod P in [0, P). Lanes past the table pairs give 0.
@inline(__always)
func _entryIndices(_ a: AngleData, from i: Int, m0: DoubleLanes, m1: DoubleLanes, m2: DoubleLanes) -> DoubleLanes {
  let p = _load(a.periodD + i), inv = _load(a.invPeriod + i)
  let x = m0 + m1 * _load(a.r1 + i) + m2 * _load(a.r2 + i)  // |x| < 2^38: exact
  let r = x - _roundSmall(x * inv) * p
  let q = _roundSmall(r * inv - _v(0.5))
  return (r - q * p) + _load(a.offsetD + i)
}

/// `_entryIndices` of pairs [i, i + 8) as Int32 into slots[i ..< i + 8] (i + 8 <= `_residueCount`,
/// i a multiple of 8). Lanes past the table pairs give entry 0 (a valid entry; the gathers read
/// them and write past the pair count). Exact integers below 2^20: + 2^52 puts them in the low
/// bits of the double. Always all 8 lanes: with the count min(8, k - i) LLVM computed the indices
/// in scalar code, 8 times the instructions (callgrind: 2,366 per decode row of 64 pairs).
@inline(__always)
func _storeEntryIndices(_ a: AngleData, from i: Int, m0: DoubleLanes, m1: DoubleLanes, m2: DoubleLanes,
                        to slots: UnsafeMutablePointer<Int32>) {
  _storeIndices(_entryIndices(a, from: i, m0: m0, m1: m1, m2: m2), to: slots + i)
}

/// Entry indices e (exact integers below 2^20, `_entryIndices`) as Int32 into slots[0 ..< 8].
@inline(__always)
func _storeIndices(_ e: DoubleLanes, to slots: UnsafeMutablePointer<Int32>) {
  let bits = unsafeBitCast(e + _v(0x1p52), to: SIMD8<UInt64>.self)
  for l in 0 ..< 8 { slots[l] = Int32(truncatingIfNeeded: bits[l]) }
}

/// Whether positions in no order compute their periodic-table values (`_computedValues`)
/// instead of loading them, past the short periods (`AngleData.gatheredPairs`): in the x86-64-v3
/// and x86-64-v4 copies. Measured (every table pair computed) on an AMD EPYC Zen 5
/// VM (4096 random positions x 32 heads x 128 f32, Resonance, medians of 21 calls, both libraries
/// in one process): x86-64-v4 2508-2520 -> 2160-2202 us, x86-64-v3 2504 -> 2269 us; the baseline
/// copy, two doubles per vector, 2937 -> 3186 us, so it loads them. The same bits either way.
#if RR_KERNEL_AVX2
@inline(__always) var _computesTableValues: Bool { true }
#else
@inline(__always) var _computesTableValues: Bool { false }
#endif

/// How far from a float rounding boundary a computed table value must be to be taken
/// (`_storeComputed`): 2^-44 = 5.7e-14, against an error below 2e-15 (the residue's turn
/// r * RN(1/P) within 2^-52 relative, 2 pi times that below 3.5e-16 in the value; the series and
/// their Horner steps a few 1e-16, the file comment).
@inline(__always)
var tableDecisionMargin: Double { 0x1p-44 }

/// The periodic-table values of pairs [i, i + 8) at entries e (`_entryIndices`), computed
/// instead of loaded, for positions in no order, whose entries are cache misses (measured, AMD
/// EPYC Zen 5, 4096 random positions of a d = 128 prefill: the gather of the entries took 86 %
/// of the angle rows, 28 % of the call): the turn r / P of the residue r = e - offset, then cos
/// and sin by `_cosSinTurns`, within 2e-15 of exact; `_storeComputed` rounds them.
@inline(__always)
func _computedValues(_ a: AngleData, from i: Int, entries e: DoubleLanes) -> (cos: DoubleLanes, sin: DoubleLanes) {
  let r = e - _load(a.offsetD + i)  // m mod P, exact
  let turn = r * _load(a.invPeriod + i)  // in [0, 1)
  return _cosSinTurns(turn - _roundSmall(turn))  // the turn in [-1/2, 1/2], exact
}

/// Computed table values c, s (`_computedValues`) rounded to float at cos, sin (sines times
/// sinSign, exact, as the gather does), each where every value within `tableDecisionMargin` of
/// it rounds to the same float: the entry is the exact value rounded once, so the same bits. The
/// other lanes (about 1 value in 10^4 near +-1/2, more for values near 0, every exact 0) load
/// their entries slots[0 ..< 8]. Lanes past the table pairs (entry 0, offset 0) give entry 0
/// either way.
@inline(__always)
func _storeComputed(_ a: AngleData, _ c: DoubleLanes, _ s: DoubleLanes, slots: UnsafePointer<Int32>, sinSign: Float,
                    cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
  var cv = SIMD8<Float>(), sv = SIMD8<Float>()
  @inline(__always) func narrow(_ v: DoubleLanes, _ out: inout SIMD8<Float>) -> Int32 {
    withUnsafeMutablePointer(to: &out) { rr_narrow8_undecided(v, tableDecisionMargin, UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self)) }
  }
  let undecided = narrow(c, &cv) | narrow(s, &sv)
  if undecided != 0 {
    let entries = UnsafeRawPointer(a.entries)
    for l in 0 ..< 8 where undecided & (1 << l) != 0 {
      let v = entries.loadUnaligned(fromByteOffset: Int(slots[l]) &* 8, as: SIMD2<Float>.self)  // < offset + P
      cv[l] = v.x
      sv[l] = v.y
    }
  }
  UnsafeMutableRawPointer(cos).storeBytes(of: cv, as: SIMD8<Float>.self)
  UnsafeMutableRawPointer(sin).storeBytes(of: sv * SIMD8<Float>(repeating: sinSign), as: SIMD8<Float>.self)
}

/// Table pairs [0, hi) (hi a multiple of 8) of a row loaded from the periodic table: pair i's
/// entry base[i] + j, cos to cos[i], sin times sinSign to sin[i].
@inline(__always)
func _gatherTable(_ a: AngleData, base: UnsafeMutablePointer<Int32>, phase j: Int, to hi: Int, sinSign: Float,
                  cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
  // Gathered 8 pairs at a time into vectors and stored as vectors (scalar stores followed by
  // the kernel's vector loads of the rows stall on store forwarding). Lanes past the table pairs
  // read entry `base[tablePairs ...]`, which is 0 (zeroed scratch, or `_storeEntryIndices`): a
  // valid entry, written past the pair count.
  let e = UnsafeRawPointer(a.entries)
  #if RR_KERNEL_AVX2
  var i = 0
  while i < hi {  // base[i ..< i + 8] lie in the residue slots (`_residueCount`)
    rr_table_gather8(e, base + i, Int32(truncatingIfNeeded: j), sinSign, cos + i, sin + i)
    i &+= 8
  }
  #else
  let sign = SIMD8<Float>(repeating: sinSign)
  var i = 0
  while i < hi {
    @inline(__always) func at(_ l: Int) -> SIMD2<Float> {
      e.loadUnaligned(fromByteOffset: (Int(base[i &+ l]) &+ j) &* 8, as: SIMD2<Float>.self)  // < offset + P + 15
    }
    let e0 = at(0), e1 = at(1), e2 = at(2), e3 = at(3), e4 = at(4), e5 = at(5), e6 = at(6), e7 = at(7)
    let cv = SIMD8<Float>(e0.x, e1.x, e2.x, e3.x, e4.x, e5.x, e6.x, e7.x)
    let sv = SIMD8<Float>(e0.y, e1.y, e2.y, e3.y, e4.y, e5.y, e6.y, e7.y) * sign
    UnsafeMutableRawPointer(cos + i).storeBytes(of: cv, as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(sin + i).storeBytes(of: sv, as: SIMD8<Float>.self)
    i &+= 8
  }
  #endif
}

/// Per-thread generator state: the periodic cursor (per table pair the entry index of the first
/// position of the current block, and the place of the last position in it) and the anchor row
/// (double cos and sin of the polynomial pairs at `anchor`).
struct AngleCursor {
  var base: UnsafeMutablePointer<Int32>
  var phase = 0
  var last: Int64 = 0
  var valid = false
  var anchorCos: UnsafeMutablePointer<Double>
  var anchorSin: UnsafeMutablePointer<Double>
  var anchor: Int64 = 0
  var anchorValid = false
}

extension AngleCursor {
  /// The key of this table's anchor rows computed for `scale`: with scale 1 the rows hold only
  /// the polynomial pairs [tablePairs, pairCount), otherwise every pair (`_angleRow`).
  @inline(__always)
  static func cacheKey(_ a: AngleData, scale: Double) -> UInt64 { a.cacheKey &* 2 &+ (scale == 1 ? 0 : 1) }

  /// Which parts of the thread's cache a call uses: the anchor rows when it needs the polynomial
  /// (and they fit), the periodic cursor when it reads the table (scale 1; residues fit).
  @inline(__always)
  static func cacheParts(_ a: AngleData, scale: Double) -> (anchors: Bool, residues: Bool) {
    ((scale != 1 || a.tablePairs < a.pairCount) && a.paddedPairs <= Int(RR_ANCHOR_CACHE_PAIRS),
     scale == 1 && a.tablePairs > 0 && _residueCount(a) <= Int(RR_ANCHOR_CACHE_PAIRS))
  }

  /// Takes the anchor rows and the periodic cursor from the calling thread's cache
  /// (`rr_anchor_cache`), those the call uses (`cacheParts`): the cursor then computes and keeps
  /// them there, and `release` records what they hold. Returns the cache, or nil (the scratch's
  /// rows and residues are used).
  @inline(__always)
  mutating func adoptThreadCache(_ a: AngleData, scale: Double) -> UnsafeMutablePointer<rr_anchor_cache>? {
    let (anchors, residues) = AngleCursor.cacheParts(a, scale: scale)
    guard anchors || residues, let c = rr_thread_anchor_cache(), let rows = rr_anchor_cache_rows(c),
          let slots = rr_anchor_cache_residues(c) else { return nil }
    if anchors {
      anchorCos = rows
      anchorSin = rows + Int(RR_ANCHOR_CACHE_PAIRS)
      anchorValid = c.pointee.key == AngleCursor.cacheKey(a, scale: scale)
      anchor = c.pointee.anchor
      c.pointee.key = 0  // the rows may change until `release`
    }
    if residues {
      base = slots
      valid = c.pointee.table_key == a.cacheKey
      last = c.pointee.last
      phase = Int(truncatingIfNeeded: c.pointee.phase)  // < periodicBlock when valid
      c.pointee.table_key = 0  // the residues may change until `release`
    }
    return c
  }

  /// Records what the cache's anchor rows and cursor now hold (after `adoptThreadCache`).
  @inline(__always)
  func release(_ c: UnsafeMutablePointer<rr_anchor_cache>, _ a: AngleData, scale: Double) {
    let (anchors, residues) = AngleCursor.cacheParts(a, scale: scale)
    if anchors {
      c.pointee.anchor = anchor
      c.pointee.key = anchorValid ? AngleCursor.cacheKey(a, scale: scale) : 0
    }
    if residues {
      c.pointee.last = last
      c.pointee.phase = Int64(phase)
      c.pointee.table_key = valid ? a.cacheKey : 0
    }
  }
}

/// Floats of one cos or sin row: the pair count rounded up for whole-block writes, and 2h for the
/// gptj expansion, plus a block.
@inline(__always)
func _rowFloats(_ a: AngleData) -> Int { max(a.paddedPairs + 16, 2 * a.pairCount + 32) }

/// Bytes of one row (64-byte multiple).
@inline(__always)
func _rowBytes(_ a: AngleData) -> Int { (_rowFloats(a) * 4 + 63) / 64 * 64 }

/// Tokens whose rows are computed together before they are rotated: up to 16, within 32 KiB of
/// rows (L1). Computing a batch of rows between rotations keeps the angle loads away from the
/// rotation's stores still waiting for their lines (measured, AMD EPYC, f32 prefill: the
/// periodic-table rows one token at a time ran at 0.67-0.73 of the memory pass; see
/// KernelRotation.swift for the batched figure).
@inline(__always)
func _rowBatch(_ a: AngleData) -> Int {  // <= periodicBlock: `_angleRows`
  // Rows up to 1 KiB (d <= 480) give a full batch without a division (three per decode call were
  // on its critical path).
  let rb = _rowBytes(a)
  return rb <= 32768 / (2 * periodicBlock) ? periodicBlock : max(1, 32768 / (2 * rb))
}

/// Cursor residues: the table pairs rounded up to whole blocks of 8 (the gather reads 8).
@inline(__always)
func _residueCount(_ a: AngleData) -> Int { (a.tablePairs + 8) / 8 * 8 }

/// Row pairs of the scratch for a call of `tokens` tokens: `_rowBatch`, or fewer when the call
/// has fewer tokens (a decode call needs one: its scratch fits on the caller's stack).
@inline(__always)
func _rowBatch(_ a: AngleData, tokens: Int) -> Int { max(1, min(_rowBatch(a), tokens)) }

/// Bytes of per-thread scratch the kernels need for a table and a call of `tokens` tokens:
/// `_rowBatch(a, tokens:)` pairs of cos and sin rows, cursor residues, anchor rows; 64-byte
/// aligned pieces.
package func kernelScratchBytes(_ a: AngleData, tokens: Int) -> Int {
  2 * _rowBatch(a, tokens: tokens) * _rowBytes(a) + (_residueCount(a) * 4 + 63) / 64 * 64 + 2 * a.paddedPairs * 8
}

/// The rows of one scratch block: row pair `b` (< _rowBatch) is (cos, sin).
struct RowSlots {
  var base: UnsafeMutableRawPointer
  var rowBytes: Int
  @inline(__always) subscript(b: Int) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    let c = base + 2 &* b &* rowBytes
    return (c.assumingMemoryBound(to: Float.self), (c + rowBytes).assumingMemoryBound(to: Float.self))
  }
}

/// Splits one scratch block (kernelScratchBytes(a, tokens:), 64-byte aligned) into the row slots and the
/// cursor. Rows are not cleared: lanes past the pairs a row holds are only ever combined into
/// lanes that are not stored. The residues are cleared (the gather reads whole blocks of 8).
@inline(__always)
func _scratch(_ a: AngleData, _ raw: UnsafeMutableRawPointer, tokens: Int) -> (rows: RowSlots, cursor: AngleCursor) {
  let rb = _rowBytes(a), batch = _rowBatch(a, tokens: tokens)
  raw.bindMemory(to: Float.self, capacity: 2 * batch * rb / 4)
  let resStart = raw + 2 * batch * rb
  let res = resStart.bindMemory(to: Int32.self, capacity: _residueCount(a))
  res.initialize(repeating: 0, count: _residueCount(a))
  let ac = (resStart + (_residueCount(a) * 4 + 63) / 64 * 64).bindMemory(to: Double.self, capacity: 2 * a.paddedPairs)
  return (RowSlots(base: raw, rowBytes: rb), AngleCursor(base: res, anchorCos: ac, anchorSin: ac + a.paddedPairs))
}

/// cos and sin of every pair at position m, times `scale` (sin also times `sinSign`, +1 or -1),
/// rounded once to float. Within 1.2e-7 of exact for every int64 m; pairs from the periodic
/// table (scale == 1) are bit-identical to the exact path rounded. Writes whole blocks of 8 past
/// the pair count (rows have `_rowFloats` floats).
/// `stream`: the polynomial pairs as `_polynomialRow`'s (the table pairs are stored as usual).
@inline(__always)
func _angleRow(_ a: AngleData, position m: Int64, scale: Double, sinSign: Float, cursor: inout AngleCursor,
               cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>, stream: Bool = false,
               computeTable: Bool = false) {
  var from = 0
  if scale == 1 && a.tablePairs > 0 {
    let k = a.tablePairs
    let base = cursor.base
    if cursor.valid && m == cursor.last {
      // The same position again (the next layer): the same entries.
    } else if cursor.valid && m == cursor.last &+ 1 && m != Int64.min {
      cursor.phase &+= 1
      if cursor.phase == periodicBlock {  // next block: residue + periodicBlock mod P
        for i in 0 ..< k {
          let o = Int32(truncatingIfNeeded: a.offset[i])  // < 2^20
          var r = base[i] &- o &+ a.blockStep[i]  // < 2P
          if r >= a.period[i] { r &-= a.period[i] }
          base[i] = o &+ r
          // The next block's 16 entries (128 bytes: 2 or 3 lines) start periodicBlock entries on
          // unless the residue wraps (a hint: never faults, wherever it points).
          let next = UnsafeRawPointer(a.entries + Int(base[i])) + periodicBlock * 8
          rr_prefetch(next); rr_prefetch(next + 64); rr_prefetch(next + 127)
        }
        cursor.phase = 0
      }
    } else {
      let (m0, m1, m2) = _limbs(m)
      if computeTable {
        // A position apart from the last: its entries loaded for the short periods
        // (`AngleData.gatheredPairs`) and computed for the others (`_computedValues`), its
        // residues kept in the cursor for the positions after it.
        var i = 0
        while i < a.gatheredPairs {
          _storeEntryIndices(a, from: i, m0: m0, m1: m1, m2: m2, to: base)
          i &+= 8
        }
        _gatherTable(a, base: base, phase: 0, to: i, sinSign: sinSign, cos: cos, sin: sin)
        while i < k {
          // Four blocks at a time where all hold table pairs: four independent chains of ~150
          // cycles of latency side by side (one at a time, the series' Horner steps bound it).
          let w = k &- i > 24 ? 4 : 1
          @inline(__always) func entries(_ b: Int) -> DoubleLanes { _entryIndices(a, from: i &+ 8 &* b, m0: m0, m1: m1, m2: m2) }
          let e0 = entries(0), e1 = w > 1 ? entries(1) : e0, e2 = w > 1 ? entries(2) : e0, e3 = w > 1 ? entries(3) : e0
          let v0 = _computedValues(a, from: i, entries: e0)
          let v1 = w > 1 ? _computedValues(a, from: i &+ 8, entries: e1) : v0
          let v2 = w > 1 ? _computedValues(a, from: i &+ 16, entries: e2) : v0
          let v3 = w > 1 ? _computedValues(a, from: i &+ 24, entries: e3) : v0
          @inline(__always) func store(_ b: Int, _ e: DoubleLanes, _ v: (cos: DoubleLanes, sin: DoubleLanes)) {
            let j = i &+ 8 &* b
            _storeIndices(e, to: base + j)
            _storeComputed(a, v.cos, v.sin, slots: base + j, sinSign: sinSign, cos: cos + j, sin: sin + j)
          }
          store(0, e0, v0)
          if w > 1 {
            store(1, e1, v1)
            store(2, e2, v2)
            store(3, e3, v3)
          }
          i &+= 8 &* w
        }
        cursor.phase = 0
        cursor.last = m
        cursor.valid = true
        _polynomialRow(a, position: m, scale: scale, sinSign: sinSign, cursor: &cursor, cos: cos, sin: sin, from: k, stream: stream)
        return
      }
      var i = 0
      while i < k {
        _storeEntryIndices(a, from: i, m0: m0, m1: m1, m2: m2, to: base)
        i &+= DoubleLanes.scalarCount
      }
      cursor.phase = 0
    }
    _gatherTable(a, base: base, phase: cursor.phase, to: k, sinSign: sinSign, cos: cos, sin: sin)
    cursor.last = m
    cursor.valid = true
    from = k
  }
  _polynomialRow(a, position: m, scale: scale, sinSign: sinSign, cursor: &cursor, cos: cos, sin: sin, from: from, stream: stream)
}

/// The polynomial pairs [from, pairCount) of the row of position m (see `_angleRow`).
/// `stream` (x86-64-v4 table fills; `from` and the pair count multiples of 16, rows 64-byte
/// aligned): 16 pairs per whole-line non-temporal store (`rr_stream8x2`), the same values.
@inline(__always)
func _polynomialRow(_ a: AngleData, position m: Int64, scale: Double, sinSign: Float, cursor: inout AngleCursor,
                    cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>, from: Int, stream: Bool = false) {
  if from < a.pairCount {
    let anchor = m & ~Int64(anchorSpan - 1)
    let n = a.paddedPairs
    if !cursor.anchorValid || cursor.anchor != anchor {
      let (m0, m1, m2) = _limbs(anchor)
      var i = from
      while i < a.pairCount {
        let (c, s) = _polynomial(a, from: i, m0: m0, m1: m1, m2: m2)
        _store(c, cursor.anchorCos + i)
        _store(s, cursor.anchorSin + i)
        i &+= DoubleLanes.scalarCount
      }
      cursor.anchor = anchor
      cursor.anchorValid = true
    }
    let j = Int(m &- anchor)  // 0 ..< anchorSpan
    let sc = a.stepCos + j &* n, ss = a.stepSin + j &* n
    let scaleV = _v(scale), sinScaleV = _v(scale * Double(sinSign))
    // Pairs [i, i + 8): the anchor turned by the step, times the scale, rounded once.
    // (Vector conversion in line, rr_narrow8: Swift 6.3 calls its SIMD8<Float>(SIMD8<Double>)
    // out of line; converting lane by lane instead made LLVM scalarize the whole polynomial:
    // mulsd, no mulpd.)
    @inline(__always) func block(_ i: Int) -> (SIMD8<Float>, SIMD8<Float>) {
      let ca = _load(cursor.anchorCos + i), sa = _load(cursor.anchorSin + i)
      let cj = _load(sc + i), sj = _load(ss + i)
      return (rr_narrow8((ca * cj - sa * sj) * scaleV), rr_narrow8((sa * cj + ca * sj) * sinScaleV))
    }
    #if RR_KERNEL_AVX512
    if stream {
      var i = from
      while i < a.pairCount {
        let (c0, s0) = block(i), (c1, s1) = block(i &+ 8)
        rr_stream8x2(cos + i, c0, c1)
        rr_stream8x2(sin + i, s0, s1)
        i &+= 16
      }
      return
    }
    #endif
    var i = from
    while i < a.pairCount {
      let (c, s) = block(i)
      UnsafeMutableRawPointer(cos + i).storeBytes(of: c, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(sin + i).storeBytes(of: s, as: SIMD8<Float>.self)
      i &+= DoubleLanes.scalarCount
    }
  }
}

/// The periodic-table pairs [0, tablePairs) of the rows of n <= periodicBlock consecutive
/// positions m, m + 1, .. (m + n - 1 without overflow), written to rowAt(b) for b < n (whole
/// blocks of 8, like `_angleRow`). Pair i's entries for m + b are entries (m mod P) + b of its
/// padded run (P entries, then the first periodicBlock - 1 again), so a pair's n entries are
/// contiguous: loaded as vectors of (c, s) of 4 positions for 8 pairs and transposed (8 x 8) into
/// cos and sin of 8 pairs for each of the 4 positions (`rr_rows4_*` in CKernelHints; written as
/// Swift lane builds, LLVM made ~190 broadcasts and blends per 8 x 8 block). The same entries as
/// `_angleRow` reads, so the same bits. The residues of m come from the exact `_entryIndices`
/// into the cursor's residue slots, which it leaves at position m + n - 1. Also prefetches
/// each pair's entries for the next n positions.
/// `stream` (x86-64-v4 copy, table fills; k a multiple of 16, every row 64-byte aligned): the rows
/// written with whole-line non-temporal stores, 16 pairs at a time (`rr_rows4x16_stream`).
@inline(__always)
func _tableRowsConsecutive(_ a: AngleData, first m: Int64, count n: Int, sinSign: Float, cursor: inout AngleCursor,
                           stream: Bool = false,
                           rowAt: (Int) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>)) {
  let k = a.tablePairs
  let (m0, m1, m2) = _limbs(m)
  let e = UnsafeRawPointer(a.entries)
  // Every table pair's entry index for m, in the cursor's residue slots, then the rows 4
  // positions at a time, each row written front to back (stores to one row follow each other: a
  // fill writes its lines whole, one after the other).
  let idx = cursor.base
  var i = 0
  while i < k {
    _storeEntryIndices(a, from: i, m0: m0, m1: m1, m2: m2, to: idx)
    for l in 0 ..< min(8, k &- i) {  // the next positions' entries (a hint: never faults)
      let next = e + (Int(idx[i &+ l]) &+ n) &* 8
      rr_prefetch(next); rr_prefetch(next + 64); rr_prefetch(next + 127)
    }
    i &+= 8
  }
  var b = 0
  while b < n {
    // Positions b ..< b + 4 (those below n): rows of pairs i ..< i + 8 from entries idx + b.
    let (c0, s0) = rowAt(b), (c1, s1) = rowAt(min(b &+ 1, n &- 1))
    let (c2, s2) = rowAt(min(b &+ 2, n &- 1)), (c3, s3) = rowAt(min(b &+ 3, n &- 1))
    let src = (e + b &* 8).assumingMemoryBound(to: CChar.self), count = Int32(min(4, n &- b))
    #if RR_KERNEL_AVX512
    if stream {
      var i = 0
      while i < k {
        rr_rows4x16_stream(src, idx + i, count, sinSign, c0 + i, s0 + i, c1 + i, s1 + i, c2 + i, s2 + i, c3 + i, s3 + i)
        i &+= 16
      }
      b &+= 4
      continue
    }
    #endif
    var i = 0
    while i < k {
      #if RR_KERNEL_AVX2
      rr_rows4_avx(src, idx + i, count, sinSign, c0 + i, s0 + i, c1 + i, s1 + i, c2 + i, s2 + i, c3 + i, s3 + i)
      #else
      rr_rows4_sse(src, idx + i, count, sinSign, c0 + i, s0 + i, c1 + i, s1 + i, c2 + i, s2 + i, c3 + i, s3 + i)
      #endif
      i &+= 8
    }
    b &+= 4
  }
  // The residues are those of m: the cursor now stands at m + n - 1 (n <= periodicBlock), where
  // the next row (a decode call after a prefill) continues.
  cursor.valid = true
  cursor.last = m &+ Int64(n &- 1)
  cursor.phase = n &- 1
}

/// Tokens t ..< t + n (n >= 2) sit at consecutive positions m, m + 1, .. without overflow.
@inline(__always)
func _consecutive(_ p: Positions, from t: Int, count n: Int) -> Bool {
  guard n >= 2 else { return false }
  switch p {
  case .range: return true  // start + count - 1 fits in Int64: checked by the caller
  case .list(let list):
    let m = list[t]
    guard m <= Int64.max &- Int64(n &- 1) else { return false }
    for b in 1 ..< n where list[t &+ b] != m &+ Int64(b) { return false }
    return true
  }
}

/// The rows of tokens t ..< t + n (n <= periodicBlock) to rowAt(b), b < n: when their positions
/// are consecutive and the table applies (scale 1), the table pairs of all n rows by
/// `_tableRowsConsecutive`, then each row's polynomial pairs; otherwise row by row
/// (`_angleRow`). The same values either way. Used by the rotation and the table fill.
/// `stream`: as `_tableRowsConsecutive`'s, for the consecutive rows (the others are stored as usual).
@inline(__always)
func _angleRows(_ a: AngleData, positions: Positions, from t: Int, count n: Int, scale: Double, sinSign: Float,
                cursor: inout AngleCursor, stream: Bool = false,
                rowAt: (Int) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>)) {
  if a.tablePairs > 0 && scale == 1 && _consecutive(positions, from: t, count: n) {
    let m = positions[t]
    _tableRowsConsecutive(a, first: m, count: n, sinSign: sinSign, cursor: &cursor, stream: stream, rowAt: rowAt)
    for b in 0 ..< n {
      let (c, s) = rowAt(b)
      _polynomialRow(a, position: m &+ Int64(b), scale: 1, sinSign: sinSign, cursor: &cursor, cos: c, sin: s, from: a.tablePairs,
                     stream: stream)
    }
  } else {
    for b in 0 ..< n {
      let (c, s) = rowAt(b)
      _angleRow(a, position: positions[t &+ b], scale: scale, sinSign: sinSign, cursor: &cursor, cos: c, sin: s, stream: stream,
                computeTable: _computesTableValues)
    }
  }
}

/// The anchored polynomial's double values of pair i at m before rounding (test hook: accuracy
/// against the exact path).
package func kernelPolynomialCosSin(_ a: AngleData, pair i: Int, position m: Int64) -> (cos: Double, sin: Double) {
  let anchor = m & ~Int64(anchorSpan - 1)
  let (m0, m1, m2) = _limbs(anchor)
  let (c, s) = _polynomial(a, from: i, m0: m0, m1: m1, m2: m2)
  let j = Int(m &- anchor), n = a.paddedPairs
  let cj = a.stepCos[j * n + i], sj = a.stepSin[j * n + i]
  return (c[0] * cj - s[0] * sj, s[0] * cj + c[0] * sj)
}

/// `_computedValues` of table pair i at residue r < P before rounding (test hook: accuracy
/// against the exact path). Pairs are read in blocks of 8 (the arrays are padded to them).
package func kernelComputedTableCosSin(_ a: AngleData, pair i: Int, residue r: Int64) -> (cos: Double, sin: Double) {
  let i0 = i & ~7
  let (c, s) = _computedValues(a, from: i0, entries: _load(a.offsetD + i0) + _v(Double(r)))
  return (c[i &- i0], s[i &- i0])
}

/// cos(2 pi t), sin(2 pi t) of eight exactly given turns |t| <= 1/2 (used to fill the periodic
/// table at creation).
package func kernelCosSinTurns(_ t: SIMD8<Double>) -> (cos: SIMD8<Double>, sin: SIMD8<Double>) { _cosSinTurns(t) }
