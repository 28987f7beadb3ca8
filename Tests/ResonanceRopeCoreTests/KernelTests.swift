// The fast kernels against independent references: element conversions against Float16 and a
// float64 rounding reference, the fast angle generator against the exact double path, and the
// generic rotation against a float64 rotation, with bit-identical results for every thread count.
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
  let h = t.pairCount, cap = t.rowCapacity
  var c = [Float](repeating: 0, count: cap), s = c, ec = c, es = c
  var res = [Int32](repeating: 0, count: t.cursorCapacity)
  var worst: Float = 0
  var mismatched = 0
  res.withUnsafeMutableBufferPointer { rb in
    var cursor = t.makeCursor(storage: rb.baseAddress!)
    // Random positions, then runs of consecutive ones crossing periods and many cursor blocks
    // (periodicBlock = 16 > the smallest periods), one call per position so the cursor steps.
    let positions = randomPositions(100, seed: 0xFA57 &+ UInt64(d)) + (0 ..< 300).map { Int64(54_300) + $0 } + [Int64.max - 1, Int64.max, Int64.min]
      + (0 ..< 100).map { Int64(-50) + $0 } + (0 ..< 40).map { Int64.max - 39 + $0 }
      // Residue edges of every period: around 0, P/2 and P, near and far (x / P near a half).
      + t.resonanceWavelengths.flatMap { (p: Int64) -> [Int64] in
        let far = (Int64.max / 2 / max(p, 1)) * p
        return [p / 2, p / 2 + 1, -(p / 2), -(p / 2) - 1, p - 1, p, far + p / 2, far - p / 2 - 1, -far - 1, -far + p / 2]
      }
    for sign: Float in [1, -1] {
      for m in positions {
        t.fastCosSinRow(position: m, scale: scale, sinSign: sign, cursor: &cursor, cos: &c, sin: &s)
        t.cosSinRow(position: m, scale: scale, sinSign: Double(sign), cos: &ec, sin: &es)
        for i in 0 ..< h {
          worst = max(worst, abs(c[i] - ec[i]), abs(s[i] - es[i]))
          if i < t.periodicTablePairs && scale == 1 && (c[i] != ec[i] || s[i] != es[i]) { mismatched += 1 }
        }
      }
    }
  }
  #expect(mismatched == 0, "periodic table values differ from the exact path")
  // Both are the exact value rounded once (the polynomial within ~1e-15 before rounding): they
  // differ by at most one float ulp of the value (<= 1.2e-7 * scale).
  #expect(Double(worst) <= 1.2e-7 * scale, "max |fast - exact| = \(worst)")
  if resonance && d == 128 && base == 10000 { #expect(t.periodicTablePairs == 64) }
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

/// The row conversions (F16C, AVX2) against the software conversions: every half and every
/// bfloat16 widened, rounding probes narrowed, at lengths with tails. Where the CPU lacks one, its
/// test is reported as skipped (the software path is then the only one, tested above against
/// Float16 and a float64 rounding reference).
@Test(.enabled(if: RowConversion.available(for: .float16) != nil, "this CPU has no F16C: float16 rows use the software path only"))
func rowConversionsMatchSoftwareFloat16() throws { try rowConversionsMatchSoftware(.float16) }

@Test(.enabled(if: RowConversion.available(for: .bfloat16) != nil, "this CPU has no AVX2: bfloat16 rows use the software path only"))
func rowConversionsMatchSoftwareBFloat16() throws { try rowConversionsMatchSoftware(.bfloat16) }

private func rowConversionsMatchSoftware(_ format: ElementFormat) throws {
  let conv = try #require(RowConversion.available(for: format))
  let all = (0 ... 0xFFFF).map { UInt16($0) }
  var wide = [Float](repeating: 0, count: all.count + 3)
  all.withUnsafeBufferPointer { src in wide.withUnsafeMutableBufferPointer { conv.widen(src.baseAddress!, $0.baseAddress!, all.count) } }
  var mismatches = 0
  for b in all {
    let want = format == .float16 ? floatFromFloat16Bits(b) : floatFromBFloat16Bits(b)
    let got = wide[Int(b)]
    if want.isNaN ? !got.isNaN : got.bitPattern != want.bitPattern { mismatches += 1 }
  }
  #expect(mismatches == 0, "\(format.name) widening: \(mismatches) of 65536 differ")
  #expect(wide[65536] == 0 && wide[65538] == 0, "widening wrote past n")
  let probes = roundingProbes(lowBits: format == .float16 ? 13 : 16, count: 3000, seed: 0xC0417)
  for n in [probes.count, 13, 1] {  // tails of every length below a block
    var narrow = [UInt16](repeating: 0xABCD, count: n + 5)
    probes.withUnsafeBufferPointer { src in narrow.withUnsafeMutableBufferPointer { conv.narrow(src.baseAddress!, $0.baseAddress!, n) } }
    var bad = 0
    for i in 0 ..< n {
      let want = format == .float16 ? float16Bits(probes[i]) : bfloat16Bits(probes[i])
      if probes[i].isNaN {
        let w = format == .float16 ? floatFromFloat16Bits(narrow[i]) : floatFromBFloat16Bits(narrow[i])
        if !w.isNaN { bad += 1 }
      } else if narrow[i] != want { bad += 1 }
    }
    #expect(bad == 0, "\(format.name) narrowing of \(n): \(bad) differ")
    #expect(narrow[n ..< n + 5].allSatisfy { $0 == 0xABCD }, "narrowing wrote past n")
  }
}

@Test(arguments: ElementFormat.allCases, [PairLayout.neox, .gptj])
func rotationMatchesFloat64Reference(_ format: ElementFormat, _ layout: PairLayout) throws {
  // Partial rotary (40 of 52 dims: 20 pairs, a 16-lane block plus a tail), padded rows,
  // q 3 heads and k 2 heads in one fused row, explicit positions, forward and inverse.
  let t = try FrequencyTable(RopeConfig(rotaryDim: 40, headDim: 52, base: 10000, resonance: true, layout: layout,
                                        attentionFactor: 1.25))
  // Rows: q heads 0-2 and k heads 3-4 at stride 56 (elements 52 ..< 56 of each head are padding),
  // then 8 padding elements after k (280 ..< 288).
  let tokens = 9, headDim = 52, rowStride = 5 * 56 + 8
  var rng = SeededRNG(0x0707 &+ UInt64(format.size) &* 2 &+ (layout == .neox ? 0 : 1))
  let positions: [Int64] = (0 ..< tokens).map { _ in Int64.random(in: -(1 << 45) ... (1 << 45), using: &rng) }
  let values: [Float] = (0 ..< tokens * rowStride).map { _ in Float.random(in: -2 ... 2, using: &rng) }
  for inverse in [false, true] {
    for attention in [false, true] {
      // Element storage of the buffer, and the values it holds as floats.
      var stored32 = values
      var stored16 = values.map { encode($0, format == .float16 ? .float16 : .bfloat16) }
      let held: [Float] = format == .float32 ? values : stored16.map { decode($0, format) }
      var outputs: [[Float]] = []
      // Threads 1, 2, 7 on the default path (row conversions where the CPU has them), then 1
      // thread converting in software: all four bit-identical.
      for (threads, software) in [(1, false), (2, false), (7, false), (1, true)] {
        var b32 = stored32, b16 = stored16
        positions.withUnsafeBufferPointer { pp in
          func run(_ base: UnsafeMutableRawPointer) {
            let q = HeadBuffer(base: base, geometry: HeadGeometry(heads: 3, tokenStride: Int64(rowStride), headStride: 56))
            let k = HeadBuffer(base: base + 3 * 56 * format.size, geometry: HeadGeometry(heads: 2, tokenStride: Int64(rowStride), headStride: 56))
            t.rotate(format: format, q: q, k: k, tokens: 0 ..< tokens, positions: .list(pp.baseAddress!),
                     inverse: inverse, applyAttentionFactor: attention, threads: threads, softwareConversion: software)
          }
          if format == .float32 { b32.withUnsafeMutableBytes { run($0.baseAddress!) } } else { b16.withUnsafeMutableBytes { run($0.baseAddress!) } }
        }
        outputs.append(format == .float32 ? b32 : b16.map { decode($0, format) })
      }
      func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
      #expect(differing(outputs[0], outputs[1]) == 0, "1 vs 2 threads")
      #expect(differing(outputs[0], outputs[2]) == 0, "1 vs 7 threads")
      #expect(differing(outputs[0], outputs[3]) == 0, "row conversion vs software conversion")
      let got = outputs[0]
      var untouched = true, paddingChecked = 0
      // Bound: float32 math (a few ulp of |x| <= 2.5) plus one rounding to the storage format.
      let ulp: Double = format == .float32 ? 0x1p-23 : format == .float16 ? 0x1p-10 : 0x1p-7
      var worst = 0.0
      for tok in 0 ..< tokens {
        for head in 0 ..< 5 {
          let start = tok * rowStride + head * 56
          let x = (0 ..< headDim).map { Double(held[start + $0]) }
          let want = referenceRow(x, t, position: positions[tok], inverse: inverse, scale: attention ? 1.25 : 1)
          for j in 0 ..< headDim {
            let err = abs(Double(got[start + j]) - want[j])
            worst = max(worst, err / max(1, abs(want[j])))
            if j >= 40 { #expect(got[start + j].bitPattern == held[start + j].bitPattern, "pass-through dim changed") }
          }
          // Padding between heads (52 ..< 56) untouched.
          for j in headDim ..< 56 where got[start + j].bitPattern != held[start + j].bitPattern { untouched = false }
        }
        // Padding after k (280 ..< 288) untouched.
        for j in 5 * 56 ..< rowStride where got[tok * rowStride + j].bitPattern != held[tok * rowStride + j].bitPattern { untouched = false }
        paddingChecked += (5 * (56 - headDim)) + (rowStride - 5 * 56)
      }
      #expect(worst <= (format == .float32 ? 8 : 1.1) * ulp, "\(format) \(layout): max relative error \(worst)")
      #expect(untouched, "padding between or after the heads changed")
      #expect(paddingChecked == tokens * (5 * 4 + 8), "every padding element was compared")
      _ = (stored32, stored16)
      stored32 = []; stored16 = []
    }
  }
}

