// The public buffer API (CoreAPI.swift), the only way the CLI and the benchmark touch memory:
// results against a float64 rotation written here, and every refusal leaving the buffers as
// they were.
import Testing
import ResonanceRopeCore

/// A buffer of `count` floats with seeded values in [-1, 1).
private func randomFloats(_ count: Int, _ rng: inout SeededRNG) -> [Float] {
  (0 ..< count).map { _ in Float.random(in: -1 ..< 1, using: &rng) }
}

/// float64 rotation of element `(t, head)` of a strided f32 view, from exact double cos/sin.
private func expectRotated(_ before: [Float], _ after: [Float], _ t: FrequencyTable, layout: HeadGeometry, tokens: Int,
                           positions: [Int64], inverse: Bool = false, what: String) {
  let h = t.pairCount, d = t.config.headDim
  var worst = 0.0
  var touched = Set<Int>()
  for tok in 0 ..< tokens {
    for head in 0 ..< Int(layout.heads) {
      let row = tok * Int(layout.tokenStride) + head * Int(layout.headStride)
      for i in 0 ..< h {
        let (a, b) = t.config.layout == .neox ? (i, i + h) : (2 * i, 2 * i + 1)
        let cs = t.cosSin(pair: i, position: positions[tok])
        let s = inverse ? -cs.sin : cs.sin
        let x = Double(before[row + a]), y = Double(before[row + b])
        worst = max(worst, abs(Double(after[row + a]) - (x * cs.cos - y * s)), abs(Double(after[row + b]) - (y * cs.cos + x * s)))
        touched.insert(row + a)
        touched.insert(row + b)
      }
      _ = d
    }
  }
  // float32 cos/sin within 1.2e-7 of exact, two products and a sum of |x|, |y| < 1: < 1e-6.
  #expect(worst < 1e-6, "\(what): largest error \(worst)")
  let untouched = before.indices.filter { !touched.contains($0) && before[$0].bitPattern != after[$0].bitPattern }
  #expect(untouched.isEmpty, "\(what): \(untouched.count) elements outside the rotary pairs changed")
}

@Test(arguments: [PairLayout.neox, .gptj])
func publicRotateMatchesFloat64Reference(_ pairLayout: PairLayout) throws {
  var rng = SeededRNG(20261202)
  // rotary 16 of head 20 (4 pass-through elements), 3 q heads and 2 k heads with padded strides.
  let t = try FrequencyTable(RopeConfig(rotaryDim: 16, headDim: 20, base: 10000, resonance: true, layout: pairLayout))
  let tokens = 5
  let ql = HeadGeometry(heads: 3, tokenStride: 3 * 24 + 4, headStride: 24), kl = HeadGeometry(heads: 2, tokenStride: 44, headStride: 22)
  let q0 = randomFloats(tokens * Int(ql.tokenStride), &rng), k0 = randomFloats(tokens * Int(kl.tokenStride), &rng)
  let positions: [Int64] = (0 ..< tokens).map { _ in Int64.random(in: -(1 << 40) ... (1 << 40), using: &rng) }
  var q = q0, k = k0
  try q.withUnsafeMutableBytes { qb in
    try k.withUnsafeMutableBytes { kb in
      try positions.withUnsafeBufferPointer { p in
        try t.rotate(.float32, q: qb, ql, k: kb, kl, tokens: tokens, positions: .array(p), threads: 2)
      }
    }
  }
  expectRotated(q0, q, t, layout: ql, tokens: tokens, positions: positions, what: "q")
  expectRotated(k0, k, t, layout: kl, tokens: tokens, positions: positions, what: "k")

  // The same token through prepared rows, and the inverse with a start position.
  var one = Array(q0[0 ..< Int(ql.tokenStride)])
  let rows = try t.preparedRows(.float32, position: positions[0])
  try one.withUnsafeMutableBytes { try t.rotate(q: $0, ql, rows: rows) }
  expectRotated(Array(q0[0 ..< Int(ql.tokenStride)]), one, t, layout: ql, tokens: 1, positions: [positions[0]], what: "prepared rows")
  var inv = q0
  try inv.withUnsafeMutableBytes { try t.rotate(.float32, q: $0, ql, tokens: tokens, positions: .start(-2), inverse: true) }
  expectRotated(q0, inv, t, layout: ql, tokens: tokens, positions: (0 ..< Int64(tokens)).map { $0 - 2 }, inverse: true, what: "inverse")
}

@Test func publicRotateRefusesBadViewsAndWritesNothing() throws {
  var rng = SeededRNG(7)
  let t = try FrequencyTable(RopeConfig(rotaryDim: 8, base: 10000, resonance: true))
  let other = try FrequencyTable(RopeConfig(rotaryDim: 8, base: 10000))
  let ql = HeadGeometry.dense(heads: 2, headDim: 8), tokens = 3
  let original = randomFloats(128, &rng)  // room for q (48 floats) and a k after it
  var buf = original
  func refused(_ kind: RopeErrorKind, _ mentions: String, _ body: (UnsafeMutableRawBufferPointer) throws(RopeError) -> Void) {
    buf.withUnsafeMutableBytes { b in expectThrows(kind, mentions) { () throws(RopeError) in try body(b) } }
    #expect(buf == original, "a refused call (\(mentions)) wrote")
  }
  let qBytes = tokens * 16 * 4
  refused(.bufferTooSmall, "q: the view spans") { b throws(RopeError) in
    try t.rotate(.float32, q: UnsafeMutableRawBufferPointer(rebasing: b[0 ..< qBytes - 1]), ql, tokens: tokens)
  }
  refused(.misaligned, "q is not aligned") { b throws(RopeError) in
    try t.rotate(.float32, q: UnsafeMutableRawBufferPointer(rebasing: b[2 ..< qBytes + 2]), ql, tokens: tokens)
  }
  refused(.overlap, "share elements") { b throws(RopeError) in
    try t.rotate(.float32, q: UnsafeMutableRawBufferPointer(rebasing: b[0 ..< qBytes]), ql,
                 k: UnsafeMutableRawBufferPointer(rebasing: b[qBytes - 32 ..< 2 * qBytes - 32]), ql, tokens: tokens)
  }
  refused(.invalidStride, "without its layout") { b throws(RopeError) in
    try t.rotate(.float32, q: UnsafeMutableRawBufferPointer(rebasing: b[0 ..< qBytes]), ql,
                 k: UnsafeMutableRawBufferPointer(rebasing: b[qBytes ..< 256]), nil, tokens: 1)
  }
  refused(.invalidStride, "rows would overlap") { b throws(RopeError) in
    try t.rotate(.float32, q: b, HeadGeometry(heads: 2, tokenStride: 16, headStride: 4), tokens: tokens)
  }
  refused(.overflow, "overflow int64") { b throws(RopeError) in try t.rotate(.float32, q: b, ql, tokens: tokens, positions: .start(.max)) }
  refused(.overflow, "tokens = -1") { b throws(RopeError) in try t.rotate(.float32, q: b, ql, tokens: -1) }
  refused(.invalidValue, "threads = -1") { b throws(RopeError) in try t.rotate(.float32, q: b, ql, tokens: tokens, threads: -1) }
  let positions: [Int64] = [1, 2]
  refused(.bufferTooSmall, "positions: 2 values for 3 tokens") { b throws(RopeError) in
    try positions.withUnsafeBufferPointer { (p) throws(RopeError) in try t.rotate(.float32, q: b, ql, tokens: tokens, positions: .array(p)) }
  }
  refused(.overlap, "overlaps positions") { b throws(RopeError) in
    // positions taken from the last 24 bytes of q's own view
    let p = UnsafeBufferPointer(start: (b.baseAddress! + qBytes - 24).assumingMemoryBound(to: Int64.self), count: 3)
    try t.rotate(.float32, q: UnsafeMutableRawBufferPointer(rebasing: b[0 ..< qBytes]), ql, tokens: tokens, positions: .array(p))
  }
  let rows = try other.preparedRows(.float32, position: 5)
  refused(.invalidValue, "prepared by another table") { b throws(RopeError) in try t.rotate(q: b, ql, rows: rows) }
}

@Test func publicFillTableChecksItsBuffers() throws {
  let t = try FrequencyTable(RopeConfig(rotaryDim: 8, base: 10000, resonance: true))
  var cos = [Float](repeating: 7, count: 40), sin = [Float](repeating: 7, count: 40)
  try cos.withUnsafeMutableBufferPointer { c in
    try sin.withUnsafeMutableBufferPointer { s in
      expectThrows(.bufferTooSmall, "cos: 40 floats, the table needs 44") { () throws(RopeError) in
        try t.fillTable(.half, cos: c, sin: s, start: 0, count: 11, applyAttentionFactor: false)
      }
      expectThrows(.invalidValue, "required by layout half") { () throws(RopeError) in
        try t.fillTable(.half, cos: c, sin: nil, start: 0, count: 2, applyAttentionFactor: false)
      }
      expectThrows(.invalidValue, "vllm writes cos alone") { () throws(RopeError) in
        try t.fillTable(.vllm, cos: c, sin: s, start: 0, count: 2, applyAttentionFactor: false)
      }
      expectThrows(.overlap, "cos and sin overlap") { () throws(RopeError) in
        try t.fillTable(.half, cos: UnsafeMutableBufferPointer(rebasing: c[0 ..< 20]), sin: UnsafeMutableBufferPointer(rebasing: c[16 ..< 36]),
                        start: 0, count: 5, applyAttentionFactor: false)
      }
      expectThrows(.overflow, "overflow int64") { () throws(RopeError) in
        try t.fillTable(.half, cos: c, sin: s, start: .max - 1, count: 3, applyAttentionFactor: false)
      }
    }
  }
  #expect(cos.allSatisfy { $0 == 7 } && sin.allSatisfy { $0 == 7 }, "a refused fill wrote")
  // Accepted: 10 positions from -3, each value within 1.2e-7 of the exact one (double).
  try cos.withUnsafeMutableBufferPointer { c in
    try sin.withUnsafeMutableBufferPointer { s in try t.fillTable(.half, cos: c, sin: s, start: -3, count: 10, applyAttentionFactor: false) }
  }
  var worst = 0.0
  for p in 0 ..< 10 {
    for i in 0 ..< 4 {
      let e = t.cosSin(pair: i, position: Int64(p) - 3)
      worst = max(worst, abs(Double(cos[p * 4 + i]) - e.cos), abs(Double(sin[p * 4 + i]) - e.sin))
    }
  }
  #expect(worst <= 1.2e-7, "largest error \(worst)")
}
