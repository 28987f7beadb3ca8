// The fast kernels against independent references: element conversions against Float16 and a
// float64 rounding reference, the fast angle generator against the exact double path, and the
// generic rotation against a float64 rotation, with bit-identical results for every thread count.
import CKernelHints
import Glibc
import Testing
@testable import ResonanceRopeCore

// MARK: - Element conversions

@Test func float16WideningIsExactForEveryHalf() {
  for b in 0 ... 0xFFFF {
    let want = Float(Float16(bitPattern: UInt16(b)))
    let got = floatFromFloat16Bits(UInt16(b))
    if want.isNaN {
      #expect(got.isNaN, "half 0x\(String(b, radix: 16))")
    } else {
      #expect(got.bitPattern == want.bitPattern, "half 0x\(String(b, radix: 16)): \(got) vs \(want)")
    }
  }
}

/// Floats around every rounding boundary: random high bits with low 13 bits at ties, just below
/// and above ties, plus specials and the overflow / subnormal edges.
private func roundingProbes(lowBits: Int, count: Int, seed: UInt64, _ test: String = #function) -> [Float] {
  var rng = SeededRNG(seed, test)
  let half = UInt32(1) << (lowBits - 1), mask = (UInt32(1) << lowBits) - 1
  var out: [Float] = [0, -0, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                      65504, 65519.99, 65520, 65536, 6.1035156e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08,
                      .leastNonzeroMagnitude, .leastNormalMagnitude, 1, -1, 0.5]
  // NaNs whose rounding would carry into Inf or into the sign without the NaN repair: smallest
  // and largest payloads, both signs, low halves at and past the rounding point.
  out += ([0x7F80_0001, 0x7F80_7FFF, 0x7F80_8000, 0x7F80_FFFF, 0x7FFF_8000, 0x7FFF_FFFF, 0x7FBF_FFFF] as [UInt32])
    .flatMap { [Float(bitPattern: $0), Float(bitPattern: $0 | 0x8000_0000)] }
  for _ in 0 ..< count {
    let high = UInt32.random(in: 0 ... UInt32.max, using: &rng) & ~mask
    for low in [0, 1, half - 1, half, half + 1, mask] as [UInt32] {
      out.append(Float(bitPattern: high | low))
    }
  }
  return out
}

@Test func float16NarrowingRoundsToNearestEven() {
  for x in roundingProbes(lowBits: 13, count: 3000, seed: 0xF16) {
    let got = float16Bits(x)
    let want = Float16(x)
    if x.isNaN {
      #expect(Float16(bitPattern: got).isNaN)
    } else {
      #expect(got == want.bitPattern, "\(x) (0x\(String(x.bitPattern, radix: 16))): 0x\(String(got, radix: 16)) vs 0x\(String(want.bitPattern, radix: 16))")
    }
  }
}

/// bfloat16 rounding reference in float64: the two neighbours by truncation, the nearer one,
/// ties to the even one; beyond the largest finite bfloat16's rounding range: infinity.
private func referenceBFloat16(_ x: Float) -> UInt16 {
  if x.isNaN { return 0x7FC0 }
  let down = x.bitPattern & 0xFFFF_0000  // toward zero
  let a = Double(Float(bitPattern: down))
  let upBits = down &+ 0x1_0000  // away from zero (exponent carry is the next binade / infinity)
  // Past the largest finite bfloat16 the upper neighbour is 2^128 with unbounded exponent.
  let b = upBits & 0x7FFF_FFFF == 0x7F80_0000 ? (x < 0 ? -0x1p128 : 0x1p128) : Double(Float(bitPattern: upBits))
  let dx = abs(Double(x) - a), dy = abs(b - Double(x))
  let pick: UInt32
  if x.isInfinite { pick = x.bitPattern } else if dx < dy { pick = down } else if dy < dx { pick = upBits } else {
    pick = (down >> 16) & 1 == 0 ? down : upBits
  }
  return UInt16(pick >> 16)
}

@Test func bfloat16RoundsToNearestEven() {
  for x in roundingProbes(lowBits: 16, count: 3000, seed: 0xBF16) {
    let got = bfloat16Bits(x)
    if x.isNaN {
      #expect(got & 0x7F80 == 0x7F80 && got & 0x7F != 0, "NaN stays NaN")
    } else {
      #expect(got == referenceBFloat16(x), "\(x): 0x\(String(got, radix: 16)) vs 0x\(String(referenceBFloat16(x), radix: 16))")
    }
  }
  for b in stride(from: 0, through: 0xFFFF, by: 1) where (b & 0x7F80) != 0x7F80 || (b & 0x7F) == 0 {
    #expect(bfloat16Bits(floatFromBFloat16Bits(UInt16(b))) == UInt16(b))
  }
}

// MARK: - Fast angles

private func randomPositions(_ n: Int, seed: UInt64, _ test: String = #function) -> [Int64] {
  var rng = SeededRNG(seed, test)
  var out: [Int64] = [0, 1, -1, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1 << 40, (1 << 53) + 1, -(1 << 42)]
  for _ in 0 ..< n {
    let bits = Int.random(in: 1 ... 63, using: &rng)
    let m = Int64.random(in: -(Int64(1) << (bits - 1)) ... (Int64(1) << (bits - 1)) - 1, using: &rng)
    out.append(m)
  }
  return out
}

@Test(arguments: [(128, 10000.0, false), (128, 10000.0, true), (128, 500000.0, true), (96, 1e6, false), (8, 10000.0, true)])
func polynomialMatchesExactPath(_ d: Int, _ base: Double, _ resonance: Bool) throws {
  let t = try FrequencyTable(RopeConfig(rotaryDim: d, base: base, resonance: resonance), periodicBudget: 0)
  var worst = 0.0
  for m in randomPositions(300, seed: 0x9017 &+ UInt64(d)) {
    for i in 0 ..< t.pairCount {
      let e = t.cosSin(pair: i, position: m), f = t.polynomialCosSin(pair: i, position: m)
      worst = max(worst, abs(e.cos - f.cos), abs(e.sin - f.sin))
    }
  }
  print("polynomial d=\(d) base=\(base) resonance=\(resonance): max |polynomial - exact| = \(worst)")
  // Measured 3.3e-14 at most (|m| near 2^63, where tau's own 2^-106 error reaches 1e-14 turns in
  // both paths); the float32 bound needs 1e-9.
  #expect(worst < 1e-12, "max |polynomial - exact| = \(worst)")
}

@Test(arguments: [(128, 10000.0, true, 1.0), (128, 500000.0, true, 1.0), (64, 10000.0, false, 1.0), (128, 10000.0, true, 1.3)])
func fastRowsMatchExactRows(_ d: Int, _ base: Double, _ resonance: Bool, _ scale: Double) throws {
  let t = try FrequencyTable(RopeConfig(rotaryDim: d, base: base, resonance: resonance))
  let h = t.pairCount
  // Random positions, then runs of consecutive ones crossing periods, anchors and many cursor
  // blocks (periodicBlock = 16 > the smallest periods), in one fill so the cursor steps.
  let positions = randomPositions(100, seed: 0xFA57 &+ UInt64(d)) + (0 ..< 300).map { Int64(54_300) + $0 } + [Int64.max - 1, Int64.max, Int64.min]
    + (0 ..< 100).map { Int64(-50) + $0 } + (0 ..< 40).map { Int64.max - 39 + $0 }
    // Residue edges of every period: around 0, P/2 and P, near and far (x / P near a half).
    + t.resonanceWavelengths.flatMap { (p: Int64) -> [Int64] in
      let far = (Int64.max / 2 / max(p, 1)) * p
      return [p / 2, p / 2 + 1, -(p / 2), -(p / 2) - 1, p - 1, p, far + p / 2, far - p / 2 - 1, -far - 1, -far + p / 2]
    }
  var ec = [Float](repeating: 0, count: h), es = ec
  // Every kernel copy; then with the streaming stores forced on (64-byte aligned rows: the
  // streaming path; misaligned by one float: the cached path) and off.
  let runs: [(Kernels, Bool?, Int)] = Kernels.available.map { ($0, nil, 0) }
    + Kernels.available.flatMap { [($0, true, 0), ($0, true, 1), ($0, false, 0)] }
  for (kernels, stream, misalign) in runs {
    let n = positions.count * h
    let raw = UnsafeMutableRawPointer.allocate(byteCount: (2 * n + 32) * 4, alignment: 64)
    defer { raw.deallocate() }
    let cp = raw.bindMemory(to: Float.self, capacity: 2 * n + 32) + misalign, sp = cp + (n + 15) / 16 * 16 + 16
    try positions.withUnsafeBufferPointer { pp in
      try t.fillTable(layout: .half, positions: .list(pp.baseAddress!), count: positions.count, scale: scale,
                      cos: cp, sin: sp, kernels: kernels, stream: stream)
    }
    let c = Array(UnsafeBufferPointer(start: cp, count: n)), s = Array(UnsafeBufferPointer(start: sp, count: n))
    var worst: Float = 0
    var mismatched = 0
    for (row, m) in positions.enumerated() {
      t.cosSinRow(position: m, scale: scale, sinSign: 1, cos: &ec, sin: &es)
      for i in 0 ..< h {
        let a = c[row * h + i], b = s[row * h + i]
        worst = max(worst, abs(a - ec[i]), abs(b - es[i]))
        if i < t.periodicTablePairs && scale == 1 && (a != ec[i] || b != es[i]) { mismatched += 1 }
      }
    }
    print("fast rows d=\(d) base=\(base) resonance=\(resonance) scale=\(scale) kernels=\(kernels.name) stream=\(String(describing: stream))+\(misalign): max |fast - exact| = \(worst)")
    #expect(mismatched == 0, "periodic table values differ from the exact path (\(kernels.name), stream \(String(describing: stream)))")
    // Both are the exact value rounded once (the anchored polynomial within ~4e-14 before
    // rounding): they differ by at most one float ulp of the value (<= 1.2e-7 * scale).
    #expect(Double(worst) <= 1.2e-7 * scale, "max |fast - exact| = \(worst) (\(kernels.name))")
  }
  if resonance && d == 128 && base == 10000 { #expect(t.periodicTablePairs == 64) }
}

/// Positions in no order take their periodic-table values computed and rounded where the
/// rounding is decided (`_computedValues`), loaded elsewhere; positions in a range take them
/// from the table. The same bits either way, on every kernel copy, seen through rotations of unit
/// pairs (x = 1, y = 0 gives x' = cos, y' = sin exactly): every position 0 ..< the largest table
/// period in a shuffled order (every residue of every table pair: exact zeros, +-1, the values
/// nearest a float rounding boundary) against one range fill, and 3000 seeded positions (half
/// below 2^20 in magnitude, half anywhere in Int64) against one range call each. Base 500000: a
/// table pair count that is no multiple of 8.
@Test(arguments: [10000.0, 500000.0])
func computedTableValuesAreTheTable(_ base: Double) throws {
  let t = try FrequencyTable(RopeConfig(rotaryDim: 128, base: base, resonance: true))
  let h = t.pairCount, k = t.periodicTablePairs
  try #require(k > 0)
  let span = Int(t.resonanceWavelengths.prefix(k).max() ?? 0)
  try #require(span > 0 && span < 200_000)
  var rng = SeededRNG(0xC0DE_7AB1 &+ UInt64(base))
  let all = (0 ..< Int64(span)).shuffled(using: &rng)
  let far = (0 ..< 3000).map { i -> Int64 in
    i % 2 == 0 ? Int64.random(in: -(1 << 20) ... (1 << 20), using: &rng) : Int64(bitPattern: rng.next())
  }
  let positions = all + far, n = positions.count
  let listed = UnsafeMutablePointer<Float>.allocate(capacity: n * 2 * h), one = UnsafeMutablePointer<Float>.allocate(capacity: 2 * h)
  let tc = UnsafeMutablePointer<Float>.allocate(capacity: span * h), ts = UnsafeMutablePointer<Float>.allocate(capacity: span * h)
  defer { listed.deallocate(); one.deallocate(); tc.deallocate(); ts.deallocate() }
  func unitPairs(_ p: UnsafeMutablePointer<Float>, _ rows: Int) {
    for r in 0 ..< rows { (p + r * 2 * h).update(repeating: 1, count: h); (p + r * 2 * h + h).update(repeating: 0, count: h) }
  }
  func rotate(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ positions: Positions, _ kernels: Kernels) throws {
    try t.rotate(format: .float32, q: HeadBuffer(base: UnsafeMutableRawPointer(p), heads: 1, tokenStride: 2 * h, headStride: 2 * h),
                 k: nil, tokens: 0 ..< count, positions: positions, inverse: false, applyAttentionFactor: false, kernels: kernels)
  }
  // The values behind the decision, against the exact path, at every residue r of every table
  // pair: the kernels take a value where all within 2^-44 round alike.
  var worst = 0.0
  for i in 0 ..< k {
    let p = t.resonanceWavelengths[i]
    for r in 0 ..< p {
      let c = t.computedTableCosSin(pair: i, residue: r), e = t.cosSin(pair: i, position: r)
      worst = max(worst, abs(c.cos - e.cos), abs(c.sin - e.sin))
    }
  }
  print("computed table values base=\(base): max |computed - exact| = \(worst) over every residue of \(k) pairs")
  #expect(worst < 0x1p-44 / 8, "max |computed - exact| = \(worst)")
  for kernels in Kernels.available {
    unitPairs(listed, n)
    try positions.withUnsafeBufferPointer { pp in try rotate(listed, n, .list(pp.baseAddress!), kernels) }
    try t.fillTable(layout: .half, positions: .range(start: 0), count: span, scale: 1, cos: tc, sin: ts, kernels: kernels, stream: false)
    var mismatched = 0
    for (row, m) in positions.enumerated() {
      let (c, s): (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
      if row < span {
        (c, s) = (tc + Int(m) * h, ts + Int(m) * h)
      } else {
        unitPairs(one, 1)
        try rotate(one, 1, .range(start: m), kernels)
        (c, s) = (one, one + h)
      }
      for i in 0 ..< k where listed[row * 2 * h + i].bitPattern != c[i].bitPattern || listed[row * 2 * h + h + i].bitPattern != s[i].bitPattern {
        mismatched += 1
      }
    }
    print("computed table values base=\(base) (\(k) table pairs) kernels=\(kernels.name): \(n) positions, \(mismatched) differ from the table")
    #expect(mismatched == 0, "\(kernels.name): \(mismatched) computed values differ from the table's")
  }
}

/// Every periodic-table entry (each residue of each table pair, and the repeated block after it)
/// is the exact path rounded once, whether the fill's undecided values are fixed from its list
/// (the default) or found by a scan of the table (list capacity 0).
@Test(arguments: [(64, 10000.0, nil), (64, 10000.0, 0), (128, 10000.0, nil), (32, 500000.0, 0)] as [(Int, Double, Int?)])
func periodicTableIsTheExactPathRounded(_ d: Int, _ base: Double, _ listCapacity: Int?) throws {
  let t = try FrequencyTable(RopeConfig(rotaryDim: d, base: base, resonance: true))
  let f = try #require(FastAngles(resonance: true, angles: t.angles, budgetEntries: FastAngles.defaultBudgetEntries,
                                  undecidedCapacity: listCapacity))
  let a = f.data
  #expect(a.tablePairs > 0)
  var entries = 0, wrong = 0
  for i in 0 ..< a.tablePairs {
    let p = Int(t.angles[i].period)
    var want = [SIMD2<Float>](repeating: .zero, count: p)
    for r in 0 ..< p {
      let cs = cosSinOfTurns(t.angles[i].turns(position: Int64(r)))
      want[r] = SIMD2(Float(cs.cos), Float(cs.sin))
    }
    for r in 0 ..< p + periodicBlock - 1 where a.entries[a.offset[i] + r] != want[r % p] { wrong += 1 }
    entries += p
  }
  print("periodic table d=\(d) base=\(base) list capacity \(listCapacity.map(String.init) ?? "default"): \(a.tablePairs) pairs, \(entries) residues, \(wrong) differ from the exact path")
  #expect(wrong == 0)
}

// MARK: - Rotation

/// float64 reference rotation of one row from exact double cos/sin.
private func referenceRow(_ x: [Double], _ t: FrequencyTable, position m: Int64, inverse: Bool, scale: Double) -> [Double] {
  var out = x
  let h = t.pairCount
  for i in 0 ..< h {
    let cs = t.cosSin(pair: i, position: m)
    let c = cs.cos * scale, s = cs.sin * scale * (inverse ? -1 : 1)
    let (a, b) = t.config.layout == .neox ? (i, i + h) : (2 * i, 2 * i + 1)
    out[a] = x[a] * c - x[b] * s
    out[b] = x[b] * c + x[a] * s
  }
  return out
}

private func encode(_ x: Float, _ f: ElementFormat) -> UInt16 { f == .float16 ? float16Bits(x) : bfloat16Bits(x) }
private func decode(_ b: UInt16, _ f: ElementFormat) -> Float { f == .float16 ? floatFromFloat16Bits(b) : floatFromBFloat16Bits(b) }

/// Every copy's 16-bit elements (F16C / AVX2 in the x86-64-v3 copy, integer SIMD in the
/// baseline copy) against the scalar conversions, which the tests above check against Swift's
/// Float16 and a float64 bfloat16 reference: every 16-bit value widened, rounding probes
/// narrowed, at lengths with tails. Prints which copies ran.
@Test(arguments: [ElementFormat.float16, .bfloat16])
func sixteenBitElementsOfEveryKernelCopyMatchScalar(_ format: ElementFormat) {
  print("kernel copies on this CPU: \(Kernels.available.map(\.name))")
  let bf = format == .bfloat16
  let all = (0 ... 0xFFFF).map { UInt16($0) }
  // bfloat16 also gets every subnormal bfloat16 value of both signs with the low halves that
  // decide its rounding: the x86-64-v4+bf16 copy's rounding instruction flushes subnormal inputs
  // to zero, so its blocks with one must take the software rounding.
  let subnormals: [Float] = bf
    ? (0 ..< 256 as Range<UInt32>).flatMap { high in
        [0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF].map { low in Float(bitPattern: ((high & 0x80) << 24) | ((high & 0x7F) << 16) | low) }
      }
    : []
  let probes = roundingProbes(lowBits: bf ? 16 : 13, count: 3000, seed: 0xC0417) + subnormals
  func widen(_ b: UInt16) -> Float { bf ? floatFromBFloat16Bits(b) : floatFromFloat16Bits(b) }
  func narrow(_ x: Float) -> UInt16 { bf ? bfloat16Bits(x) : float16Bits(x) }
  for kernels in Kernels.available {
    var wide = [Float](repeating: 0, count: all.count + 3)
    all.withUnsafeBufferPointer { src in wide.withUnsafeMutableBufferPointer { kernels.widenHalves(src.baseAddress!, $0.baseAddress!, count: all.count, bfloat16: bf) } }
    var mismatches = 0
    for b in all {
      let want = widen(b), got = wide[Int(b)]
      if want.isNaN ? !got.isNaN : got.bitPattern != want.bitPattern { mismatches += 1 }
    }
    #expect(mismatches == 0, "\(kernels.name) \(format.name) widening: \(mismatches) of 65536 differ")
    #expect(wide[65536] == 0 && wide[65538] == 0, "widening wrote past n")
    for n in [probes.count, 13, 1] {  // tails of every length below a block
      var out = [UInt16](repeating: 0xABCD, count: n + 5)
      probes.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { kernels.narrowHalves(src.baseAddress!, $0.baseAddress!, count: n, bfloat16: bf) } }
      var bad = 0
      for i in 0 ..< n {
        if probes[i].isNaN { if !widen(out[i]).isNaN { bad += 1 } } else if out[i] != narrow(probes[i]) { bad += 1 }
      }
      #expect(bad == 0, "\(kernels.name) \(format.name) narrowing of \(n): \(bad) differ")
      #expect(out[n ..< n + 5].allSatisfy { $0 == 0xABCD }, "narrowing wrote past n")
    }
  }
}

@Test(arguments: ElementFormat.allCases, [PairLayout.neox, .gptj])
func rotationMatchesFloat64Reference(_ format: ElementFormat, _ layout: PairLayout) throws {
  // Partial rotary of 40 dims (20 pairs: for 8-lane halves a 16-pair NeoX block plus a tail; for
  // the x86-64-v4 copy's 16-lane halves, whose NeoX block is 32 pairs, a tail only) and of 104
  // dims (52 pairs: whole blocks and a tail in every copy and layout), and of 128 dims (64 pairs:
  // the row walk's loops specialized for h = 64).
  try checkRotation(format, layout, rotary: 40)
  try checkRotation(format, layout, rotary: 104)
  try checkRotation(format, layout, rotary: 128)
}

private func checkRotation(_ format: ElementFormat, _ layout: PairLayout, rotary: Int) throws {
  // Partial rotary (`rotary` of rotary + 12 dims), padded rows, q 3 heads and k 2 heads in one
  // fused row, explicit positions, forward and inverse.
  let headDim = rotary + 12, headStride = headDim + 4
  let t = try FrequencyTable(RopeConfig(rotaryDim: rotary, headDim: headDim, base: 10000, resonance: true, layout: layout,
                                        attentionFactor: 1.25))
  // Rows: q heads 0-2 and k heads 3-4 at stride headDim + 4 (4 padding elements after each
  // head), then 8 padding elements after k.
  let tokens = 9, rowStride = 5 * headStride + 8
  var rng = SeededRNG(0x0707 &+ UInt64(format.size) &* 2 &+ (layout == .neox ? 0 : 1) &+ UInt64(rotary) &* 16)
  let positions: [Int64] = (0 ..< tokens).map { _ in Int64.random(in: -(1 << 45) ... (1 << 45), using: &rng) }
  let values: [Float] = (0 ..< tokens * rowStride).map { _ in Float.random(in: -2 ... 2, using: &rng) }
  for inverse in [false, true] {
    for attention in [false, true] {
      // Element storage of the buffer, and the values it holds as floats.
      var stored32 = values
      var stored16 = values.map { encode($0, format == .float16 ? .float16 : .bfloat16) }
      let held: [Float] = format == .float32 ? values : stored16.map { decode($0, format) }
      var outputs: [[Float]] = []
      // Threads 1, 2, 7 on the fastest kernel copy, then 1 thread on every other copy, then with
      // the rows walked each way (this small buffer would be walked block by block over the
      // heads): row by row with the prefetch at both distances and without, block by block, and
      // with the prefetch as measured (the learner's trials or its verdict): all bit-identical.
      let streamed = RowAccess.streamed(ahead: rowPrefetchDistance), plain = RowAccess.streamed(ahead: 0)
      let far = RowAccess.streamed(ahead: rowPrefetchDistance(arm: 2))
      let runs: [(Int, Kernels, RowAccess?)] = [(1, Kernels.best, nil), (2, Kernels.best, nil), (7, Kernels.best, nil)]
        + Kernels.available.map { (1, $0, nil) }
        + Kernels.available.flatMap { k in
          [(1, k, streamed), (3, k, streamed), (1, k, far), (1, k, plain), (1, k, .cached), (1, k, .measured), (3, k, .measured)]
        }
      for (threads, kernels, access) in runs {
        var b32 = stored32, b16 = stored16
        positions.withUnsafeBufferPointer { pp in
          func run(_ base: UnsafeMutableRawPointer) {
            let q = HeadBuffer(base: base, geometry: HeadGeometry(heads: 3, tokenStride: Int64(rowStride), headStride: Int64(headStride)))
            let k = HeadBuffer(base: base + 3 * headStride * format.size, geometry: HeadGeometry(heads: 2, tokenStride: Int64(rowStride), headStride: Int64(headStride)))
            try! t.rotate(format: format, q: q, k: k, tokens: 0 ..< tokens, positions: .list(pp.baseAddress!),
                          inverse: inverse, applyAttentionFactor: attention, threads: threads, kernels: kernels,
                          rows: access)
          }
          if format == .float32 { b32.withUnsafeMutableBytes { run($0.baseAddress!) } } else { b16.withUnsafeMutableBytes { run($0.baseAddress!) } }
        }
        outputs.append(format == .float32 ? b32 : b16.map { decode($0, format) })
      }
      func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
      #expect(differing(outputs[0], outputs[1]) == 0, "1 vs 2 threads")
      #expect(differing(outputs[0], outputs[2]) == 0, "1 vs 7 threads")
      for o in 3 ..< outputs.count {
        #expect(differing(outputs[0], outputs[o]) == 0, "\(runs[o].1.name) copy, \(runs[o].0) threads, rows \(String(describing: runs[o].2)) vs \(Kernels.best.name)")
      }
      let got = outputs[0]
      // Bound: float32 math (a few ulp of |x| <= 2.5) plus one rounding to the storage format.
      let ulp: Double = format == .float32 ? 0x1p-23 : format == .float16 ? 0x1p-10 : 0x1p-7
      var worst = 0.0
      var untouched = true, paddingChecked = 0
      for tok in 0 ..< tokens {
        for head in 0 ..< 5 {
          let start = tok * rowStride + head * headStride
          let x = (0 ..< headDim).map { Double(held[start + $0]) }
          let want = referenceRow(x, t, position: positions[tok], inverse: inverse, scale: attention ? 1.25 : 1)
          for j in 0 ..< headDim {
            let err = abs(Double(got[start + j]) - want[j])
            worst = max(worst, err / max(1, abs(want[j])))
            if j >= rotary { #expect(got[start + j].bitPattern == held[start + j].bitPattern, "pass-through dim changed") }
          }
          // Padding between heads (headDim ..< headStride) untouched.
          for j in headDim ..< headStride where got[start + j].bitPattern != held[start + j].bitPattern { untouched = false }
        }
        // Padding after k untouched.
        for j in 5 * headStride ..< rowStride where got[tok * rowStride + j].bitPattern != held[tok * rowStride + j].bitPattern { untouched = false }
        paddingChecked += (5 * (headStride - headDim)) + (rowStride - 5 * headStride)
      }
      #expect(worst <= (format == .float32 ? 8 : 1.1) * ulp, "\(format) \(layout) rotary \(rotary): max relative error \(worst)")
      #expect(untouched, "padding between or after the heads changed")
      #expect(paddingChecked == tokens * (5 * 4 + 8), "every padding element was compared")
      _ = (stored32, stored16)
      stored32 = []; stored16 = []
    }
  }
}


@Test func rowPrefetchIsKeptOnlyWhereItMeasurablyPays() throws {
  // The decision (rr_row_prefetch_decide): medians of ns per byte with and without the prefetch,
  // kept only when the median with it is below 0.95 of the one without. Seeded noise around
  // costs 1.0 (without) and `ratio` (with), plus one outlier each way.
  var rng = SeededRNG(0x5EED_0F0F)  // prints its seed
  let n = Int(RR_ROW_PREFETCH_SAMPLES)
  for (ratio, want) in [(0.80, Int32(1)), (0.93, 1), (0.97, 0), (1.0, 0), (1.25, 0)] {
    var with = (0 ..< n).map { _ in ratio * Double.random(in: 0.995 ... 1.005, using: &rng) }
    var without = (0 ..< n).map { _ in Double.random(in: 0.995 ... 1.005, using: &rng) }
    with[0] = 50; without[1] = 0.01  // a preempted trial and a bogus one: the medians ignore them
    #expect(rr_row_prefetch_decide(&with, &without, Int32(n)) == want, "ratio \(ratio)")
  }
  var one = [0.5], other = [1.0]
  #expect(rr_row_prefetch_decide(&one, &other, 0) == 0 && rr_row_prefetch_decide(&one, &other, Int32(n) + 1) == 0,
          "counts outside 1 ... samples decide for no prefetch")
  // The arm (rr_row_prefetch_pick): far where it beats near by the margin, else near; that one
  // where it beats none by the margin. Costs around 1.0 for none, `near` and `far` for the two
  // distances.
  for (near, far, want) in [(0.80, 0.90, Int32(1)), (0.90, 0.80, 2), (0.85, 0.85, 1), (0.90, 0.88, 1), (0.97, 0.98, 0),
                            (1.2, 0.93, 2), (0.93, 1.2, 1), (1.0, 1.0, 0)] {
    func costs(_ c: Double) -> [Double] { (0 ..< n).map { _ in c * Double.random(in: 0.999 ... 1.001, using: &rng) } }
    var none = costs(1), a = costs(near), b = near == far ? a : costs(far)
    #expect(rr_row_prefetch_pick(&none, &a, &b, Int32(n)) == want, "near \(near), far \(far)")
  }
  #expect(rr_row_prefetch_pick(&other, &one, &one, 0) == 0, "no samples: no prefetch")
  // The learner: a process that forgot its verdicts decides again within a few streamed calls
  // (the trials of worker 0; another test's calls may hold the slot meanwhile, so allow a few),
  // and the rows come out the same as without any prefetch.
  let t = try FrequencyTable(RopeConfig(rotaryDim: 64, headDim: 64, base: 10000, resonance: true, layout: .neox))
  let tokens = 64 * 2 * (n + 1), heads = 2
  let values: [Float] = (0 ..< tokens * heads * 64).map { _ in Float.random(in: -1 ... 1, using: &rng) }
  func rotated(_ access: RowAccess) -> [Float] {
    var b = values
    b.withUnsafeMutableBytes { raw in
      let q = HeadBuffer(base: raw.baseAddress!, geometry: HeadGeometry(heads: Int64(heads), tokenStride: Int64(heads * 64), headStride: 64))
      try! t.rotate(format: .float32, q: q, k: nil, tokens: 0 ..< tokens, positions: .range(start: 7), inverse: false,
                    applyAttentionFactor: false, rows: access)
    }
    return b
  }
  let want = rotated(.streamed(ahead: 0))
  rr_row_prefetch_forget()
  let slot = rowPrefetchSlot(.float32, threads: 1)
  #expect(rr_row_prefetch_verdict(slot) == -1)
  var calls = 0
  while rr_row_prefetch_verdict(slot) == -1 && calls < 20 {
    #expect(rotated(.measured).map(\.bitPattern) == want.map(\.bitPattern), "trial call \(calls)")
    calls += 1
  }
  #expect(rr_row_prefetch_verdict(slot) != -1, "no verdict after \(calls) calls of \(tokens) tokens")
  #expect(rotated(.measured).map(\.bitPattern) == want.map(\.bitPattern), "after the verdict")
  print("rowPrefetchIsKeptOnlyWhereItMeasurablyPays: verdict \(rr_row_prefetch_verdict(slot)) after \(calls) calls")
  checkRowPrefetchVerdictIsLearnedAgain()
}

/// Part of rowPrefetchIsKeptOnlyWhereItMeasurablyPays (not a test of its own: that test's
/// rr_row_prefetch_forget, run concurrently, would reset this slot's verdict mid-count).
/// Synthetic trials on one slot (bfloat16, 2+ threads) through the learner's own entry points:
/// a verdict lasts RR_ROW_PREFETCH_RECHECK batches, then the slot learns again and follows the
/// new timings. (Another test's streamed bfloat16 calls could add batches: bounds, not counts.)
func checkRowPrefetchVerdictIsLearnedAgain() {
  let slot = rowPrefetchSlot(.bfloat16, threads: 2)
  let recheck = Int(RR_ROW_PREFETCH_RECHECK), samples = Int(RR_ROW_PREFETCH_SAMPLES)
  // One batch: a timed trial while undecided, else the verdict. Costs per arm (none, near, far).
  func batch(_ cost: (UInt64, UInt64, UInt64)) {
    var arm: Int32 = 0
    if rr_row_prefetch_choose(slot, 1, &arm) < 0 {
      rr_row_prefetch_report(slot, arm, arm == 0 ? cost.0 : arm == 1 ? cost.1 : cost.2, 1000)
    }
  }
  var n = 0
  while rr_row_prefetch_verdict(slot) != 2 && n < 3 * recheck { batch((1000, 700, 500)); n += 1 }
  #expect(rr_row_prefetch_verdict(slot) == 2, "the far prefetch 2x faster: not learned in \(n) batches")
  // Now the prefetch costs twice as much: the verdict holds until the recheck, then flips.
  var kept = 0
  while rr_row_prefetch_verdict(slot) == 2 && kept <= recheck { batch((1000, 2000, 2000)); kept += 1 }
  var relearn = 0
  while rr_row_prefetch_verdict(slot) != 0 && relearn < 6 * samples { batch((1000, 2000, 2000)); relearn += 1 }
  print("rowPrefetchIsKeptOnlyWhereItMeasurablyPays: relearning: prefetch kept for \(kept) batches, learned off in \(relearn) more")
  #expect(kept >= recheck / 2 && kept <= recheck, "verdict kept \(kept) batches (recheck every \(recheck))")
  #expect(rr_row_prefetch_verdict(slot) == 0, "not learned again after \(kept + relearn) batches")
}

@Test func threadAnchorCacheGivesTheBitsOfAColdCall() throws {
  // The calling thread keeps its last anchor row (rr_anchor_cache). Every call of a sequence that
  // hits it, misses it, or meets another handle's or another scale's row must give the bits of
  // the same call made cold (right after a third handle's call at another anchor has replaced
  // the cached row). Handles whose rows use the polynomial: Resonance at base 1e6 (periods past
  // 2^16 for pairs 22 ..< 32: table and polynomial pairs, so a scale-1 row holds only the
  // polynomial pairs and an attention-factor row all of them) and plain RoPE.
  let resonant = try FrequencyTable(RopeConfig(rotaryDim: 64, headDim: 64, base: 1e6, resonance: true, layout: .neox,
                                               attentionFactor: 1.25))
  let plain = try FrequencyTable(RopeConfig(rotaryDim: 64, headDim: 64, base: 10000, resonance: false, layout: .gptj,
                                            attentionFactor: 1.25))
  let other = try FrequencyTable(RopeConfig(rotaryDim: 64, headDim: 64, base: 500, resonance: false, layout: .neox))
  #expect(resonant.fast.data.tablePairs > 0 && resonant.fast.data.tablePairs < 32)
  // The periodic cursor the thread keeps too: handles whose pairs all come from the table (base
  // 10000, d = 64: every period below 2^16), so only the cursor is cached, and one more to evict it.
  let tabled = try FrequencyTable(RopeConfig(rotaryDim: 64, headDim: 64, base: 10000, resonance: true, layout: .gptj))
  let otherTabled = try FrequencyTable(RopeConfig(rotaryDim: 64, headDim: 64, base: 700, resonance: true, layout: .neox))
  #expect(tabled.fast.data.tablePairs == 32 && otherTabled.fast.data.tablePairs > 0)
  var rng = SeededRNG(0xCAC4E)
  let x: [Float] = (0 ..< 3 * 2 * 64).map { _ in Float.random(in: -2 ... 2, using: &rng) }
  // `tokens` tokens (at most 3) at consecutive positions from m.
  func call(_ t: FrequencyTable, _ m: Int64, _ attention: Bool, tokens: Int = 1) -> [UInt32] {
    var buffer = Array(x[0 ..< tokens * 128])
    buffer.withUnsafeMutableBytes { raw in
      let q = HeadBuffer(base: raw.baseAddress!, geometry: HeadGeometry(heads: 2, tokenStride: 128, headStride: 64))
      try! t.rotate(format: .float32, q: q, k: nil, tokens: 0 ..< tokens, positions: .range(start: m), inverse: false,
                    applyAttentionFactor: attention, threads: 1)
    }
    return buffer.map(\.bitPattern)
  }
  let calls: [(FrequencyTable, Int64, Bool, Int)] = [
    (resonant, 1000, false, 1), (resonant, 1001, true, 1), (resonant, 1002, false, 1), (resonant, 1003, false, 1),  // anchor 992
    (plain, 1003, false, 1), (resonant, 1004, true, 1), (plain, 1005, true, 1), (plain, 1006, true, 1),
    (resonant, 5000, false, 1), (resonant, 1007, false, 1), (plain, -1_000_000_007, false, 1), (plain, -1_000_000_008, false, 1),
    // The cursor: the next position across the end of a block of 16 (1006 ... 1009 from 992), the
    // same position again, after a 3-token call (its last position, then the next), after another
    // table's call, with the attention factor (no table: the cursor is left alone), negative positions.
    (tabled, 1006, false, 1), (tabled, 1007, false, 1), (tabled, 1008, false, 1), (tabled, 1008, false, 1),
    (tabled, 1009, false, 1), (tabled, 1020, false, 3), (tabled, 1022, false, 1), (tabled, 1023, false, 1),
    (otherTabled, 1024, false, 1), (tabled, 1024, false, 1), (tabled, 1025, true, 1), (tabled, 1025, false, 1),
    (tabled, -17, false, 1), (tabled, -16, false, 1), (tabled, -15, false, 2), (tabled, -13, false, 1),
  ]
  let warm = calls.map { call($0.0, $0.1, $0.2, tokens: $0.3) }  // one after the other: hits and misses
  for (i, c) in calls.enumerated() {
    _ = call(other, 77_777, false)
    _ = call(otherTabled, 99_991, false)
    #expect(warm[i] == call(c.0, c.1, c.2, tokens: c.3), "call \(i): position \(c.1), attention \(c.2), \(c.3) tokens")
  }
}
