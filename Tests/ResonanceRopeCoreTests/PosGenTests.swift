import Glibc
import Testing
@testable import ResonanceRopeCore

/// The public code's atom and recurrences, written naively (O(j + k) per token, explicit
/// slices), to check the running-sum generator against.
private func referenceSequence(_ spec: PosGenSpec, _ seeds: [Int]) -> [Int32] {
  let m = spec.modulus, j = spec.far, k = spec.near
  func h(_ far: ArraySlice<Int>, _ near: ArraySlice<Int>) -> Int {
    let s = far.reduce(0, +) + near.reduce(0, +)
    switch spec.arith {
    case .modAddition: return s % m
    case .powSin: return min(m - 1, Int((pow(sin(Double(s)), 2) * Double(m)).rounded(.down)))
    case .powSin2pi:
      return min(m - 1, Int((abs(sin(2 * Double.pi * Double(s % m) / Double(m))) * Double(m)).rounded(.down)))
    }
  }
  var x = seeds
  var p = 0
  while x.count < spec.length {
    let l = x.count
    let near = x[(l - k) ..< l]
    switch spec.task {
    case .recurrent: x.append(h(x[(l - k - j) ..< (l - k)], near))
    case .cot: x.append(h(x[0 ..< j], near))
    case .semirecurrent:
      x.append(h(x[p ..< p + j], near))
      if x.count < spec.length {
        let l2 = x.count
        x.append(h(x[p ..< p + j], x[(l2 - k) ..< l2]))
        p += 1
      }
    }
  }
  return x.map { Int32($0) }
}

/// itertools.combinations(range(n), r), by recursion.
private func allCombinations(_ n: Int, _ r: Int) -> [[Int32]] {
  var out: [[Int32]] = []
  var cur: [Int32] = []
  func go(_ start: Int) {
    if cur.count == r { out.append(cur); return }
    var v = start
    while v <= n - (r - cur.count) {
      cur.append(Int32(v)); go(v + 1); cur.removeLast()
      v += 1
    }
  }
  go(0)
  return out
}


@Suite struct PosGenTests {
  // The paper's Figure 2 / shared fixtures README: m = 7, k = 3, j = 1, seeds 2 0 3 1.
  @Test(arguments: [
    (PosGenTask.recurrent, [2, 0, 3, 1, 6, 3, 6, 2, 3, 0, 4, 2] as [Int32]),
    (PosGenTask.cot, [2, 0, 3, 1, 6, 5, 0, 6, 6, 0, 0, 1]),
    (PosGenTask.semirecurrent, [2, 0, 3, 1, 6, 5, 5, 2, 1, 4, 1, 0]),
  ])
  func workedExample(task: PosGenTask, expected: [Int32]) throws {
    let spec = PosGenSpec(task: task, modulus: 7, near: 3, far: 1, length: 12)
    #expect(try posgenSequence(spec: spec, seeds: [2, 0, 3, 1]) == expected)
  }

  @Test func seedOrderMatchesItertoolsCombinations() throws {
    let s = try PosGenSeeds(modulus: 17, size: 4)
    #expect(s.count == 2380)  // C(17, 4)
    #expect(s.combination(0) == [0, 1, 2, 3])
    #expect(s.combination(1) == [0, 1, 2, 4])
    #expect(s.combination(2) == [0, 1, 2, 5])
    #expect(s.combination(13) == [0, 1, 2, 16])
    #expect(s.combination(14) == [0, 1, 3, 4])
    #expect(s.combination(1000) == [1, 11, 13, 15])  // from Python's itertools
    #expect(s.combination(1234) == [2, 6, 9, 13])
    #expect(s.combination(2379) == [13, 14, 15, 16])
    // Every combination, by unrank and by stepping, for a few small spaces.
    for (n, r) in [(17, 4), (9, 1), (9, 9), (12, 5), (2, 1)] {
      let all = allCombinations(n, r)
      let seeds = try PosGenSeeds(modulus: n, size: r)
      #expect(seeds.count == all.count)
      var stepped = all[0]
      for (rank, c) in all.enumerated() {
        #expect(seeds.combination(rank) == c)
        if rank > 0 { stepped.withUnsafeMutableBufferPointer { seeds.advance($0.baseAddress!) } }
        #expect(stepped == c)
      }
      stepped.withUnsafeMutableBufferPointer { seeds.advance($0.baseAddress!) }
      #expect(stepped == all[0])  // wraps
    }
  }

  @Test func hugeCombinationSpacesDoNotTrap() throws {
    // C(2^31, 40) is far beyond Int64: the count saturates and ranks are never reduced.
    let s = try PosGenSeeds(modulus: 1 << 31, size: 40)
    #expect(s.count == Int.max)
    #expect(s.combination(0) == (0 ..< 40).map { Int32($0) })
    let last = s.combination(Int.max - 1)
    #expect(last.count == 40 && zip(last, last.dropFirst()).allSatisfy { $0 < $1 })
    // C(2^31, 2) fits: the last combination is (2^31 - 2, 2^31 - 1).
    let two = try PosGenSeeds(modulus: 1 << 31, size: 2)
    #expect(two.count == (1 << 31) * ((1 << 31) - 1) / 2)
    #expect(two.combination(two.count - 1) == [Int32.max - 1, Int32.max])
    #expect(two.combination(1 << 31) == [1, 3])  // 2^31 - 1 pairs start with 0, then (1, 2), (1, 3)
  }

  @Test func cyclingRepeatsTheCombinationList() throws {
    let spec = PosGenSpec(task: .recurrent, length: 16)
    let a = try posgenGenerate(spec: spec, split: .train, mode: .paper, first: 2378, count: 5)
    for (t, g) in (2378 ..< 2383).enumerated() {
      let single = try posgenGenerate(spec: spec, split: .train, mode: .paper, first: g, count: 1)
      #expect(Array(a[(t * 16) ..< (t * 16 + 16)]) == single)
      let seeds = try PosGenSeeds(modulus: 17, size: 4).combination(g % 2380)
      #expect(Array(single[0 ..< 4]) == seeds)
    }
    #expect(Array(a[(2 * 16) ..< (3 * 16)]) == (try posgenGenerate(spec: spec, split: .train, mode: .paper, first: 0, count: 1)))
  }

  @Test func generatorMatchesNaiveReference() throws {
    var rng = SeededRNG(0x9056)
    for task in PosGenTask.allCases {
      for arith in PosGenArithmetic.allCases {
        for _ in 0 ..< 12 {
          let m = Int.random(in: 2 ... 40, using: &rng)
          let k = Int.random(in: 1 ... 5, using: &rng), j = Int.random(in: 0 ... 4, using: &rng)
          let spec = PosGenSpec(task: task, arith: arith, modulus: m, near: k, far: j,
                                length: j + k + Int.random(in: 0 ... 70, using: &rng))
          let seeds = (0 ..< j + k).map { _ in Int.random(in: 0 ..< m, using: &rng) }
          let got = try posgenSequence(spec: spec, seeds: seeds.map { Int32($0) })
          #expect(got == referenceSequence(spec, seeds), "\(spec) seeds \(seeds)")
          #expect(got.allSatisfy { $0 >= 0 && Int($0) < m })
        }
      }
    }
  }

  // Values printed by the public code's atom_arithmetic and _extend_sequence (CPython, glibc
  // libm) for seed combination 5 = (0, 1, 2, 8), m = 17, k = 3, j = 1.
  @Test(arguments: [
    (PosGenArithmetic.powSin, PosGenTask.recurrent, [0, 1, 2, 8, 16, 15, 0, 15, 13, 11, 15, 5, 0, 2, 0, 7, 2, 16, 0, 0, 9, 0, 2, 16] as [Int32]),
    (.powSin, .cot, [0, 1, 2, 8, 16, 9, 16, 0, 0, 1, 12, 3, 1, 1, 15, 15, 2, 5, 0, 7, 4, 16, 15, 3]),
    (.powSin, .semirecurrent, [0, 1, 2, 8, 16, 9, 4, 16, 2, 13, 15, 1, 12, 0, 0, 11, 7, 0, 4, 15, 11, 5, 0, 7]),
    (.powSin2pi, .recurrent, [0, 1, 2, 8, 13, 8, 15, 8, 8, 16, 16, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16]),
    (.powSin2pi, .cot, [0, 1, 2, 8, 13, 13, 0, 3, 6, 3, 16, 3, 16, 6, 3, 3, 16, 16, 6, 16, 16, 16, 15, 16]),
    (.powSin2pi, .semirecurrent, [0, 1, 2, 8, 13, 13, 6, 6, 8, 16, 16, 15, 3, 16, 16, 15, 11, 15, 16, 15, 15, 15, 8, 15]),
  ])
  func publicCodeArithmetic(arith: PosGenArithmetic, task: PosGenTask, expected: [Int32]) throws {
    let spec = PosGenSpec(task: task, arith: arith, length: 24)
    #expect(try posgenGenerate(spec: spec, split: .train, mode: .paper, first: 5, count: 1) == expected)
  }

  @Test func paperSplitsOverlapTraining() throws {
    let sizes = PosGenSplitSizes.paper
    let seeds = try PosGenSeeds(modulus: 17, size: 4)
    let train = try Set((0 ..< 10000).map { i throws(RopeError) in try posgenSeedRank(seeds: seeds, split: .train, mode: .paper, sizes: sizes, index: i) })
    #expect(train.count == 2380)  // 10000 training sequences cycle through every combination
    for i in [0, 1, 999] {
      #expect(try posgenSeedRank(seeds: seeds, split: .validation, mode: .paper, sizes: sizes, index: i) == i)
      #expect(try posgenSeedRank(seeds: seeds, split: .test, mode: .paper, sizes: sizes, index: i) == 1000 + i)
    }
    // Evaluation sequences (length 256) extend training sequences (length 64) with the same seeds.
    for task in PosGenTask.allCases {
      let tr = try posgenGenerate(spec: PosGenSpec(task: task, length: 64), split: .train, mode: .paper, first: 1000, count: 3)
      let va = try posgenGenerate(spec: PosGenSpec(task: task, length: 256), split: .validation, mode: .paper, first: 0, count: 1)
      let te = try posgenGenerate(spec: PosGenSpec(task: task, length: 256), split: .test, mode: .paper, first: 0, count: 3)
      let tr0 = try posgenGenerate(spec: PosGenSpec(task: task, length: 64), split: .train, mode: .paper, first: 0, count: 1)
      #expect(Array(va[0 ..< 64]) == tr0)
      for s in 0 ..< 3 { #expect(Array(te[(s * 256) ..< (s * 256 + 64)]) == Array(tr[(s * 64) ..< (s * 64 + 64)])) }
    }
  }

  @Test func disjointSplitsNeverShareSeeds() throws {
    for (m, r, sizes) in [(17, 4, PosGenSplitSizes.paper), (9, 3, PosGenSplitSizes(train: 500, validation: 20, test: 30)),
                          (30, 4, PosGenSplitSizes(train: 3000, validation: 1000, test: 1000))] {
      let seeds = try PosGenSeeds(modulus: m, size: r)
      func ranks(_ split: PosGenSplit) throws -> [Int] {
        try (0 ..< sizes.size(of: split)).map { i throws(RopeError) in
          try posgenSeedRank(seeds: seeds, split: split, mode: .disjoint, sizes: sizes, index: i)
        }
      }
      let train = try ranks(.train), val = try ranks(.validation), test = try ranks(.test)
      let eval = Set(val + test)
      #expect(eval.count == sizes.validation + sizes.test)  // all distinct
      #expect(Set(train).isDisjoint(with: eval))
      #expect(train.allSatisfy { $0 >= 0 && $0 < seeds.count } && eval.allSatisfy { $0 >= 0 && $0 < seeds.count })
      // Training walks the non-evaluation ranks in increasing order, then cycles.
      let pool = (0 ..< seeds.count).filter { !eval.contains($0) }
      #expect(train == (0 ..< sizes.train).map { pool[$0 % pool.count] })
      // The generated sequences carry those seeds.
      let spec = PosGenSpec(task: .cot, modulus: m, near: r - 1, far: 1, length: r + 3)
      let te = try posgenGenerate(spec: spec, split: .test, mode: .disjoint, sizes: sizes, first: 0, count: sizes.test)
      for (i, rank) in test.enumerated() {
        #expect(Array(te[(i * (r + 3)) ..< (i * (r + 3) + r)]) == seeds.combination(rank))
      }
    }
    // Too few combinations: C(7, 4) = 35 = 20 + 15 leaves no training seed.
    expectThrows(.invalidValue, "val_size + test_size") { () throws(RopeError) in
      _ = try posgenGenerate(spec: PosGenSpec(task: .recurrent, modulus: 7, length: 8), split: .train, mode: .disjoint,
                             sizes: PosGenSplitSizes(train: 10, validation: 20, test: 15), count: 1)
    }
  }

  @Test func badInputsThrow() throws {
    let ok = PosGenSpec(task: .recurrent)
    func gen(_ s: PosGenSpec, sizes: PosGenSplitSizes = .paper, first: Int = 0, count: Int = 1) throws(RopeError) {
      _ = try posgenGenerate(spec: s, split: .train, mode: .paper, sizes: sizes, first: first, count: count)
    }
    var s = ok; s.modulus = 1
    expectThrows(.invalidValue, "modulus") { () throws(RopeError) in try gen(s) }
    s = ok; s.modulus = (1 << 31) + 1
    expectThrows(.invalidValue, "modulus") { () throws(RopeError) in try gen(s) }
    s = ok; s.modulus = -5
    expectThrows(.invalidValue, "modulus") { () throws(RopeError) in try gen(s) }
    s = ok; s.near = 0
    expectThrows(.invalidValue, "near") { () throws(RopeError) in try gen(s) }
    s = ok; s.far = -1
    expectThrows(.invalidValue, "far") { () throws(RopeError) in try gen(s) }
    s = ok; s.length = 3
    expectThrows(.invalidValue, "length") { () throws(RopeError) in try gen(s) }
    s = ok; s.near = Int.max; s.far = 1
    expectThrows(.overflow, "near + far") { () throws(RopeError) in try gen(s) }
    s = ok; s.near = 1 << 40; s.far = 0; s.modulus = 1 << 31; s.length = 1 << 40
    expectThrows(.overflow, "(near + far) * (modulus - 1)") { () throws(RopeError) in try gen(s) }
    s = ok; s.near = 17; s.far = 1; s.length = 20  // 18 seeds from 17 tokens: no combination
    expectThrows(.invalidValue, "exceeds modulus") { () throws(RopeError) in try gen(s) }
    let huge = PosGenSplitSizes(train: Int.max, validation: 0, test: 0)
    expectThrows(.overflow, "count * length") { () throws(RopeError) in try gen(ok, sizes: huge, count: Int.max / 32) }
    expectThrows(.overflow, "count") { () throws(RopeError) in try gen(ok, count: -1) }
    expectThrows(.overflow, "first") { () throws(RopeError) in try gen(ok, first: -1) }
    expectThrows(.overflow, "split size") { () throws(RopeError) in try gen(ok, first: 9999, count: 2) }
    expectThrows(.overflow, "first + count") { () throws(RopeError) in try gen(ok, sizes: huge, first: Int.max, count: 1) }
    expectThrows(.overflow, "val_size + test_size") { () throws(RopeError) in
      try gen(ok, sizes: PosGenSplitSizes(train: 1, validation: Int.max, test: 1))
    }
    expectThrows(.overflow, "train_size") { () throws(RopeError) in try gen(ok, sizes: PosGenSplitSizes(train: -1)) }
    expectThrows(.invalidDimension, "seeds") { () throws(RopeError) in _ = try posgenSequence(spec: ok, seeds: [1, 2, 3]) }
    expectThrows(.invalidValue, "seeds[2]") { () throws(RopeError) in _ = try posgenSequence(spec: ok, seeds: [1, 2, 17, 3]) }
    expectThrows(.invalidValue, "seeds[0]") { () throws(RopeError) in _ = try posgenSequence(spec: ok, seeds: [-1, 2, 3, 4]) }
    // Zero sequences and seeds-only sequences are fine.
    #expect(try posgenGenerate(spec: ok, split: .test, mode: .paper, first: 1000, count: 0) == [])
    #expect(try posgenSequence(spec: PosGenSpec(task: .cot, length: 4), seeds: [3, 1, 4, 1]) == [3, 1, 4, 1])
  }

  @Test func pointerAPIWritesNothingOnError() throws {
    var buf = [Int32](repeating: -7, count: 64)
    expectThrows(.overflow, "split size") { () throws(RopeError) in
      try buf.withUnsafeMutableBufferPointer { b throws(RopeError) in
        try posgenGenerate(spec: PosGenSpec(task: .cot, length: 32), split: .validation, mode: .paper,
                           first: 999, count: 2, into: b.baseAddress!)
      }
    }
    #expect(buf.allSatisfy { $0 == -7 })
    try buf.withUnsafeMutableBufferPointer { b throws(RopeError) in
      try posgenGenerate(spec: PosGenSpec(task: .cot, length: 32), split: .validation, mode: .paper,
                         first: 998, count: 2, into: b.baseAddress!)
    }
    #expect(buf == (try posgenGenerate(spec: PosGenSpec(task: .cot, length: 32), split: .validation, mode: .paper, first: 998, count: 2)))
  }
}

@Suite struct PosGenScoreTests {
  // Two sequences of 8 tokens, 2 seeds, training length 5: positions 2 3 4 are
  // in-distribution, 5 6 7 out-of-distribution.
  //   s0 ref  1 2 3 4 5 6 7 8   pred 9 9 3 0 5 6 0 8   ID: 3 . 5 -> 2/3   OOD: 6 . 8 -> 2/3
  //   s1 ref  0 0 0 0 0 0 0 0   pred 0 0 1 0 0 1 1 1   ID: . 0 0 -> 2/3   OOD: . . . -> 0/3
  let reference: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]
  let predicted: [Int32] = [9, 9, 3, 0, 5, 6, 0, 8, 0, 0, 1, 0, 0, 1, 1, 1]

  @Test func handComputedExample() throws {
    let (score, per) = try posgenScore(predicted: predicted, reference: reference, count: 2, length: 8, seedCount: 2, trainLength: 5)
    #expect(score.inDistributionCorrect == 4 && score.inDistributionTotal == 6)
    #expect(score.outOfDistributionCorrect == 2 && score.outOfDistributionTotal == 6)
    #expect(score.inDistributionAccuracy == 4.0 / 6.0)
    #expect(score.outOfDistributionAccuracy == 2.0 / 6.0)
    #expect(per[0].isNaN && per[1].isNaN)
    #expect(Array(per[2...]) == [0.5, 0.5, 1, 0.5, 0, 0.5])
  }

  @Test func emptyRangesGiveNaN() throws {
    // Training length beyond the sequence: nothing is out-of-distribution.
    let (a, _) = try posgenScore(predicted: predicted, reference: reference, count: 2, length: 8, seedCount: 2, trainLength: 100)
    #expect(a.outOfDistributionTotal == 0 && a.outOfDistributionAccuracy.isNaN)
    #expect(a.inDistributionCorrect == 6 && a.inDistributionTotal == 12)
    // Training length inside the seeds: nothing is in-distribution.
    let (b, _) = try posgenScore(predicted: predicted, reference: reference, count: 2, length: 8, seedCount: 2, trainLength: 1)
    #expect(b.inDistributionTotal == 0 && b.inDistributionAccuracy.isNaN)
    #expect(b.outOfDistributionCorrect == 6 && b.outOfDistributionTotal == 12)
    let (c, perC) = try posgenScore(predicted: [], reference: [], count: 0, length: 8, seedCount: 2, trainLength: 5)
    #expect(c.inDistributionTotal == 0 && perC.count == 8 && perC.allSatisfy { $0.isNaN })
  }

  @Test func perfectPredictionOfGeneratedData() throws {
    let spec = PosGenSpec(task: .semirecurrent, length: 256)
    let data = try posgenGenerate(spec: spec, split: .test, mode: .paper, count: 50)
    let (s, per) = try posgenScore(predicted: data, reference: data, count: 50, length: 256, seedCount: 4, trainLength: 64)
    #expect(s.inDistributionAccuracy == 1 && s.outOfDistributionAccuracy == 1)
    #expect(s.inDistributionTotal == 50 * 60 && s.outOfDistributionTotal == 50 * 192)
    #expect(per[4...].allSatisfy { $0 == 1 })
  }

  @Test func badShapesThrow() {
    expectThrows(.bufferTooSmall, "predicted") { () throws(RopeError) in
      _ = try posgenScore(predicted: Array(predicted.dropLast()), reference: reference, count: 2, length: 8, seedCount: 2, trainLength: 5)
    }
    expectThrows(.bufferTooSmall, "reference") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference + [0], count: 2, length: 8, seedCount: 2, trainLength: 5)
    }
    expectThrows(.invalidValue, "seed_count") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference, count: 2, length: 8, seedCount: 9, trainLength: 5)
    }
    expectThrows(.invalidValue, "seed_count") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference, count: 2, length: 8, seedCount: -1, trainLength: 5)
    }
    expectThrows(.invalidValue, "train_length") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference, count: 2, length: 8, seedCount: 2, trainLength: -5)
    }
    expectThrows(.overflow, "count") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference, count: -2, length: 8, seedCount: 2, trainLength: 5)
    }
    expectThrows(.overflow, "length") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference, count: 2, length: -8, seedCount: 0, trainLength: 5)
    }
    expectThrows(.overflow, "count * length") { () throws(RopeError) in
      _ = try posgenScore(predicted: predicted, reference: reference, count: Int.max / 4, length: 8, seedCount: 2, trainLength: 5)
    }
  }
}
