// PosGen: the synthetic benchmark of Resonance RoPE (Wang et al. 2024, arXiv 2403.00071, §5.1),
// reproducing the public generator (github.com/sheryc/resonance_rope, src/data/components/*.py).
//
// Tokens are integers modulo m. A sequence starts with j + k seed tokens; every later token is
//     x_l = h(far tokens, near tokens),  s = sum of those j + k tokens,
// where the k near tokens are x_{l-k} ... x_{l-1} and the j far tokens depend on the task:
//     recurrent      x_{l-j-k} ... x_{l-k-1}    (the j tokens just before the near ones)
//     cot            x_0 ... x_{j-1}            (the first j tokens: chain of thought)
//     semirecurrent  x_p ... x_{p+j-1}          (p starts at 0, +1 after every two generated tokens)
//
// Worked example (the paper's Figure 2; m = 7, k = 3, j = 1, seeds 2 0 3 1, modular addition):
//     recurrent      2 0 3 1 | 6 3 6 2 3 0 4 2
//     cot            2 0 3 1 | 6 5 0 6 6 0 0 1
//     semirecurrent  2 0 3 1 | 6 5 5 2 1 4 1 0
//   semirecurrent by hand: p = 0: 2+(0+3+1) = 6, 2+(3+1+6) = 12 = 5; p = 1: 0+(1+6+5) = 5,
//   0+(6+5+5) = 16 = 2; p = 2: 3+(5+5+2) = 15 = 1, ...
//
// Seeds: the public code (base_sequence_dataset.py, `_generate_complete_data`) takes
// `cycle(combinations(range(m), j + k))`: sorted (j + k)-subsets of {0..m-1} in lexicographic
// order, cycled, with no shuffle or permutation. The worked example's unsorted seeds come from
// the paper's figure, not from the generator; `posgenSequence(spec:seeds:)` takes such seeds.
// The public code generates 512 tokens per sequence and truncates to the split's length; the
// recurrences here are prefix-consistent, so any length <= 512 gives the same tokens (longer
// lengths simply continue the recurrence where the public code would stop at 512).
import CLibc

// The C ABI's rr_posgen_task, rr_posgen_arith, rr_posgen_split and rr_posgen_split_mode:
// tools/gen_header.py writes the values and doc comments of these four enums into the header.
/// Where the far tokens of each generated token come from (Wang et al. 2024, Figure 2).
/// Added in 0.1.0.
public enum PosGenTask: Int32, Sendable, CaseIterable {
  /// Recursive: the `far` tokens just before the near ones.
  case recurrent = 0
  /// Chain of thought: the first `far` tokens of the sequence.
  case cot = 1
  /// Semi-recursive: `far` tokens from a pointer p that starts at 0 and advances by one after
  /// every two generated tokens.
  case semirecurrent = 2

  /// The paper's name (Wang et al. 2024, Section 5.1): recursive, cot, semi-recursive.
  public var name: String {
    switch self {
    case .recurrent: "recursive"
    case .cot: "cot"
    case .semirecurrent: "semi-recursive"
    }
  }

  /// The public code's spellings, accepted as aliases of `name` (recurrent, semirecurrent).
  public var aliases: [String] {
    switch self {
    case .recurrent: ["recurrent"]
    case .cot: []
    case .semirecurrent: ["semirecurrent", "semi_recursive"]
    }
  }

  /// The task called `name` or one of its aliases.
  public init?(name: String) {
    guard let t = Self.allCases.first(where: { $0.name == name || $0.aliases.contains(name) }) else { return nil }
    self = t
  }
}

/// The function h of the sum s of the dependency tokens:
///
///     mod_addition  s mod m
///     pow_sin       floor(sin(s)^2 * m)                 (s converted to double, as Python's float(s))
///     pow_sin_2pi   floor(|sin(2*pi*(s mod m)/m)| * m)  (evaluated as ((2*pi)*s')/m, as Python does)
///
/// Results are clamped to [0, m-1] so that rounding can never yield m. Added in 0.1.0.
public enum PosGenArithmetic: Int32, Sendable, CaseIterable {
  /// s mod m.
  case modAddition = 0
  /// floor(sin(s)^2 * m).
  case powSin = 1
  /// floor(abs(sin(2 pi (s mod m) / m)) * m).
  case powSin2pi = 2

  /// The public code's `arith_task` name.
  public var name: String {
    switch self {
    case .modAddition: "mod_addition"
    case .powSin: "pow_sin"
    case .powSin2pi: "pow_sin_2pi"
    }
  }
}

/// Which sequences are training, validation and test. Added in 0.1.0.
public enum PosGenSplit: Int32, Sendable, CaseIterable {
  /// The training split.
  case train = 0
  /// The validation split.
  case validation = 1
  /// The test split.
  case test = 2
}

/// How seeds are assigned to splits. Added in 0.1.0.
///
/// `paper` (public code, `generate_data`): one list of train + val + test sequences with seed
/// ranks 0, 1, 2, ... cycled through the C(m, j+k) combinations; train = sequences
/// [0, train), validation = [0, val), test = [val, val + test). Evaluation seeds therefore are
/// training seeds (with m = 17, j + k = 4 the 10000 training sequences cycle 4.2 times through
/// all 2380 combinations), and each evaluation sequence extends a training sequence.
///
/// `disjoint`: with N = C(m, j+k) (saturated at Int.max) and E = val + test evaluation seeds,
/// evaluation seed e (validation e = i, test e = val + i) is rank floor(e * N / E): evenly
/// spread over the lexicographic list, all distinct because N > E. Training uses the other
/// N - E ranks in increasing order, cycled. Requires N > E (at least one training seed).
public enum PosGenSplitMode: Int32, Sendable, CaseIterable {
  /// The paper's public code: train = sequences [0, train_size), validation = [0, validation_size),
  /// test = [validation_size, validation_size + test_size) of one seed cycle, so evaluation seeds
  /// ARE training seeds (the paper's text says otherwise; its code does this).
  case paper = 0
  /// Validation and test seeds never occur in training: evaluation seed e is combination rank
  /// floor(e * N / E) (N combinations, E = validation_size + test_size, requires N > E); training
  /// cycles through the other ranks in order.
  case disjoint = 1
}

/// Number of sequences per split; the paper's setting is 10000 / 1000 / 1000.
public struct PosGenSplitSizes: Sendable, Equatable {
  public var train: Int
  public var validation: Int
  public var test: Int

  public init(train: Int = 10000, validation: Int = 1000, test: Int = 1000) {
    self.train = train
    self.validation = validation
    self.test = test
  }

  public static let paper = PosGenSplitSizes()

  public func size(of split: PosGenSplit) -> Int {
    switch split {
    case .train: train
    case .validation: validation
    case .test: test
    }
  }

  func validate() throws(RopeError) {
    guard train >= 0 else { throw RopeError(.overflow, "train_size = \(train): must be >= 0") }
    guard validation >= 0 else { throw RopeError(.overflow, "val_size = \(validation): must be >= 0") }
    guard test >= 0 else { throw RopeError(.overflow, "test_size = \(test): must be >= 0") }
    let (_, o) = validation.addingReportingOverflow(test)
    guard !o else { throw RopeError(.overflow, "val_size + test_size overflows") }
  }
}

/// One PosGen task. The paper's setting: m = 17, near k = 3, far j = 1, length 64 (train) and
/// 256 (validation/test), modular addition.
public struct PosGenSpec: Sendable, Equatable {
  public var task: PosGenTask
  public var arith: PosGenArithmetic
  /// m: tokens are 0 ..< m. 2 <= m <= 2^31 (tokens are stored as Int32).
  public var modulus: Int
  /// k >= 1: near tokens.
  public var near: Int
  /// j >= 0: far tokens.
  public var far: Int
  /// Tokens per sequence, seeds included; >= j + k.
  public var length: Int

  public init(task: PosGenTask, arith: PosGenArithmetic = .modAddition, modulus: Int = 17,
               near: Int = 3, far: Int = 1, length: Int = 64) {
    self.task = task
    self.arith = arith
    self.modulus = modulus
    self.near = near
    self.far = far
    self.length = length
  }

  /// Largest modulus: tokens m - 1 must fit in Int32.
  public static let maxModulus = 1 << 31

  /// j + k, the seed tokens at the start of every sequence (the paper's "initial tokens").
  public var seedCount: Int { near &+ far }

  public func validate() throws(RopeError) {
    guard modulus >= 2, modulus <= Self.maxModulus else {
      throw RopeError(.invalidValue, "modulus = \(modulus): must be >= 2 and <= 2^31")
    }
    guard near >= 1 else { throw RopeError(.invalidValue, "near = \(near): must be >= 1") }
    guard far >= 0 else { throw RopeError(.invalidValue, "far = \(far): must be >= 0") }
    let (jk, o1) = near.addingReportingOverflow(far)
    guard !o1 else { throw RopeError(.overflow, "near + far = \(near) + \(far) overflows") }
    guard length >= jk else {
      throw RopeError(.invalidValue, "length = \(length): must be >= near + far = \(jk)")
    }
    // Every sum s of j + k tokens is at most (j + k) * (m - 1); it must fit in Int64.
    let (_, o2) = jk.multipliedReportingOverflow(by: modulus - 1)
    guard !o2 else {
      throw RopeError(.overflow, "(near + far) * (modulus - 1) = \(jk) * \(modulus - 1) overflows int64")
    }
  }
}

// MARK: - Generation

extension PosGenArithmetic {
  /// h(s) for 0 <= s, reduced to [0, m-1].
  @inline(__always)
  func apply(_ s: Int, modulus m: Int, md: Double) -> Int32 {
    switch self {
    case .modAddition:
      return Int32(truncatingIfNeeded: s % m)
    case .powSin:
      // Python: floor(pow(sin(s), 2) * m); glibc's pow as CPython's math.pow calls it.
      let v = pow(sin(Double(s)), 2) * md
      return Self.clampFloor(v, m)
    case .powSin2pi:
      // Python: floor(abs(sin(2 * pi * s / m)) * m) with s = sum % m, left to right.
      let t = (2 * Double.pi) * Double(s % m) / md
      return Self.clampFloor(abs(sin(t)) * md, m)
    }
  }

  @inline(__always)
  static func clampFloor(_ v: Double, _ m: Int) -> Int32 {
    let f = v.rounded(.down)
    // v is finite and >= 0 (sin^2 and |sin| are in [0, 1]); the guard is for NaN safety.
    guard f >= 0 else { return 0 }
    return f >= Double(m - 1) ? Int32(truncatingIfNeeded: m - 1) : Int32(f)
  }
}

/// Extends a sequence whose first j + k tokens (the seeds, each in [0, m)) are already in
/// `buf`, writing tokens j + k ..< length. `spec` must be validated.
///
/// O(1) per token: the near and far sums are kept as running sums (exact, in Int; each is a sum
/// of at most j + k tokens, which `validate` proved fits), so the cost does not grow with j + k.
func _posgenExtend(_ buf: UnsafeMutablePointer<Int32>, spec: PosGenSpec) {
  let j = spec.far, k = spec.near, n = spec.length, m = spec.modulus
  let md = Double(m)
  let arith = spec.arith
  var nearSum = 0
  for i in j ..< j + k { nearSum &+= Int(buf[i]) }
  var farSum = 0
  for i in 0 ..< j { farSum &+= Int(buf[i]) }  // x_0..x_{j-1}: the far window of every task at l = j+k
  var p = 0  // semirecurrent pointer
  var l = j + k
  switch spec.task {
  case .recurrent:
    while l < n {
      let x = arith.apply(farSum &+ nearSum, modulus: m, md: md)
      buf[l] = x
      // x_{l-k} moves from the near window to the far window; x_{l-k-j} leaves.
      let moved = Int(buf[l - k])
      nearSum &+= Int(x) &- moved
      farSum &+= moved &- Int(buf[l - k - j])
      l += 1
    }
  case .cot:
    while l < n {
      let x = arith.apply(farSum &+ nearSum, modulus: m, md: md)
      buf[l] = x
      nearSum &+= Int(x) &- Int(buf[l - k])
      l += 1
    }
  case .semirecurrent:
    while l < n {
      let x = arith.apply(farSum &+ nearSum, modulus: m, md: md)
      buf[l] = x
      nearSum &+= Int(x) &- Int(buf[l - k])
      l += 1
      // After every second generated token the far window [p, p + j) slides by one.
      // p + j <= (generated / 2) + j < l, so x_{p+j} is already written.
      if (l - (j + k)) & 1 == 0 {
        farSum &+= Int(buf[p + j]) &- Int(buf[p])
        p += 1
      }
    }
  }
}

/// Writes one sequence of `spec.length` tokens from `spec.seedCount` seeds (each in [0, m))
/// into `out` (spec.length elements; it may not overlap `seeds`). No allocation.
package func posgenSequence(spec: PosGenSpec, seeds: UnsafePointer<Int32>, into out: UnsafeMutablePointer<Int32>) throws(RopeError) {
  try spec.validate()
  for i in 0 ..< spec.seedCount where seeds[i] < 0 || Int(seeds[i]) >= spec.modulus {
    throw RopeError(.invalidValue, "seeds[\(i)] = \(seeds[i]): must be in [0, modulus = \(spec.modulus))")
  }
  out.update(from: seeds, count: spec.seedCount)
  _posgenExtend(out, spec: spec)
}

/// Generates one sequence of `spec.length` tokens from explicit seeds (any order, repeats
/// allowed; each in [0, m)). `seeds.count` must be j + k.
public func posgenSequence(spec: PosGenSpec, seeds: [Int32]) throws(RopeError) -> [Int32] {
  try spec.validate()
  guard seeds.count == spec.seedCount else {
    throw RopeError(.invalidDimension, "seeds has \(seeds.count) tokens: must have near + far = \(spec.seedCount)")
  }
  for (i, s) in seeds.enumerated() where s < 0 || Int(s) >= spec.modulus {
    throw RopeError(.invalidValue, "seeds[\(i)] = \(s): must be in [0, modulus = \(spec.modulus))")
  }
  guard spec.length <= PosGen.maxArrayElements else {
    throw RopeError(.outOfMemory, "length = \(spec.length): larger than \(PosGen.maxArrayElements) tokens for an array result")
  }
  return [Int32](unsafeUninitializedCapacity: spec.length) { b, initialized in
    let p = b.baseAddress!  // length >= j + k >= 1
    for (i, s) in seeds.enumerated() { p[i] = s }
    _posgenExtend(p, spec: spec)
    initialized = spec.length
  }
}

public enum PosGen {
  /// Array-returning wrappers refuse results above 2^31 tokens (8 GiB) rather than let an
  /// allocation failure trap; the pointer API has no such limit.
  public static let maxArrayElements = 1 << 31
}

// MARK: - Seed combinations

/// C(n, k) exactly, or UInt128.max when it does not fit. The multiplicative steps compute
/// C(n-k+i, i), which never decreases in i (k <= n/2 after symmetry), so once a step
/// overflows every later one would too.
func binomialSaturating(_ n: Int, _ k: Int) -> UInt128 {
  if k < 0 || n < 0 || k > n { return 0 }
  let k = min(k, n - k)
  var c: UInt128 = 1
  var i = 1
  while i <= k {
    let (p, o) = c.multipliedReportingOverflow(by: UInt128(n - k + i))
    if o { return .max }
    c = p / UInt128(i)  // exact: c * (n-k+i) = C(n-k+i, i) * i
    i += 1
  }
  return c
}

/// The (j + k)-element combinations of {0 ..< m} in lexicographic order (itertools.combinations).
public struct PosGenSeeds: Sendable {
  public let modulus: Int
  public let size: Int
  /// C(m, j+k), saturated at Int.max; ranks are taken modulo this (cycling).
  public let count: Int

  public init(modulus: Int, size: Int) throws(RopeError) {
    guard modulus >= 2, modulus <= PosGenSpec.maxModulus else {
      throw RopeError(.invalidValue, "modulus = \(modulus): must be >= 2 and <= 2^31")
    }
    guard size >= 1 else { throw RopeError(.invalidValue, "near + far = \(size): must be >= 1") }
    guard size <= modulus else {
      throw RopeError(.invalidValue, "near + far = \(size) exceeds modulus = \(modulus): there are no seed combinations")
    }
    self.modulus = modulus
    self.size = size
    let c = binomialSaturating(modulus, size)
    self.count = c >= UInt128(Int.max) ? Int.max : Int(c)
  }

  /// Writes combination number `rank mod count` into `out[0 ..< size]`.
  ///
  /// Element by element: the combinations whose next element is v number C(m-1-v, r-1)
  /// (r elements still to choose). If the first candidate's block does not contain the rank,
  /// every block is at most rank < 2^63, so all remaining counts are < 2^31 * 2^63 and exact in
  /// UInt128; the element is then found by binary search on the hockey-stick identity
  /// sum_{u=lo}^{v} C(m-1-u, r-1) = C(m-lo, r) - C(m-1-v, r). O(size^2 log m).
  package func unrank(_ rank: Int, into out: UnsafeMutablePointer<Int32>) {
    var r = UInt128(rank < 0 ? 0 : rank % count)
    let n = modulus
    var lo = 0
    for t in 0 ..< size {
      let left = size - t
      let firstBlock = binomialSaturating(n - 1 - lo, left - 1)
      var v = lo
      if r >= firstBlock {
        let total = binomialSaturating(n - lo, left)
        // Smallest v in (lo, n - left] with C(n-1-v, left) < total - r.
        let target = total - r
        var a = lo + 1, b = n - left
        while a < b {
          let mid = a + (b - a) / 2
          if binomialSaturating(n - 1 - mid, left) < target { b = mid } else { a = mid + 1 }
        }
        v = a
        r -= total - binomialSaturating(n - v, left)
      }
      out[t] = Int32(truncatingIfNeeded: v)
      lo = v + 1
    }
  }

  /// Advances `c` to the next combination in lexicographic order, wrapping to 0 1 ... size-1.
  func advance(_ c: UnsafeMutablePointer<Int32>) {
    var i = size - 1
    while i >= 0 && Int(c[i]) == modulus - size + i { i -= 1 }
    if i < 0 {
      for t in 0 ..< size { c[t] = Int32(truncatingIfNeeded: t) }
      return
    }
    c[i] += 1
    var t = i + 1
    while t < size { c[t] = c[t - 1] + 1; t += 1 }
  }

  public func combination(_ rank: Int) -> [Int32] {
    [Int32](unsafeUninitializedCapacity: size) { b, n in
      unrank(rank, into: b.baseAddress!)
      n = size
    }
  }
}

/// The seed rank (index into the cycled combination list) of sequence `index` of `split`.
/// Validates the split sizes, the index (0 <= index < split size) and, for `disjoint`,
/// that the combination space leaves at least one training seed.
public func posgenSeedRank(seeds: PosGenSeeds, split: PosGenSplit, mode: PosGenSplitMode,
                            sizes: PosGenSplitSizes, index: Int) throws(RopeError) -> Int {
  try sizes.validate()
  let splitSize = sizes.size(of: split)
  guard index >= 0, index < splitSize else {
    throw RopeError(.overflow, "sequence index \(index): must be in [0, \(splitSize)) for this split")
  }
  return try _seedRanks(seeds: seeds, split: split, mode: mode, sizes: sizes).rank(index)
}

/// Precomputed split arithmetic; `rank(i)` maps a sequence index within the split to a rank.
struct _SeedRanks {
  var split: PosGenSplit
  var mode: PosGenSplitMode
  var n: Int           // combination count (saturated)
  var validation: Int
  var evalCount: Int   // E = val + test (disjoint)

  func rank(_ i: Int) -> Int {
    switch mode {
    case .paper:
      // Global sequence g; the combination list is cycled (g mod N).
      let g = split == .test ? validation + i : i  // < Int.max: sizes validated
      return g % n
    case .disjoint:
      if split != .train {
        let e = split == .test ? validation + i : i
        return Int(UInt128(e) * UInt128(n) / UInt128(evalCount))
      }
      let pool = n - evalCount
      let t = i % pool
      // Training ranks below x: x - ceil(x * E / N). Smallest x with trainBelow(x + 1) > t.
      func trainBelow(_ x: Int) -> Int {
        let q = (UInt128(x) * UInt128(evalCount) + UInt128(n) - 1) / UInt128(n)
        return x - Int(q)
      }
      var a = t, b = n - 1
      while a < b {
        let mid = a + (b - a) / 2
        if trainBelow(mid + 1) > t { b = mid } else { a = mid + 1 }
      }
      return a
    }
  }
}

func _seedRanks(seeds: PosGenSeeds, split: PosGenSplit, mode: PosGenSplitMode,
                sizes: PosGenSplitSizes) throws(RopeError) -> _SeedRanks {
  let e = sizes.validation + sizes.test  // validated not to overflow
  if mode == .disjoint {
    guard seeds.count > e else {
      throw RopeError(.invalidValue,
        "val_size + test_size = \(e): disjoint splits need fewer evaluation seeds than the \(seeds.count) combinations C(modulus, near + far)")
    }
  }
  return _SeedRanks(split: split, mode: mode, n: seeds.count, validation: sizes.validation, evalCount: e)
}

/// Writes sequences `first ..< first + count` of `split` (each `spec.length` tokens, row-major
/// [count, length] Int32, elements not bytes) into `out`, which must hold count * length tokens.
/// Nothing is written on error. Thread-safe: no shared state.
/// Checks the arguments of `posgenGenerate(...into:)` without writing anything (the C layer
/// checks every argument before its overlap check, and that before the first write).
public func posgenValidateGenerate(spec: PosGenSpec, split: PosGenSplit, mode: PosGenSplitMode,
                                    sizes: PosGenSplitSizes, first: Int, count: Int) throws(RopeError) {
  _ = try _posgenPlan(spec: spec, split: split, mode: mode, sizes: sizes, first: first, count: count)
}

package func posgenGenerate(spec: PosGenSpec, split: PosGenSplit, mode: PosGenSplitMode,
                            sizes: PosGenSplitSizes = .paper, first: Int, count: Int,
                            into out: UnsafeMutablePointer<Int32>) throws(RopeError) {
  let plan = try _posgenPlan(spec: spec, split: split, mode: mode, sizes: sizes, first: first, count: count)
  guard count > 0 else { return }
  let jk = spec.seedCount
  var prevRank = -2
  var row = out
  for i in first ..< first + count {
    let rank = plan.ranks.rank(i)
    if prevRank >= 0 && (rank == prevRank + 1 || (rank == 0 && prevRank == plan.seeds.count - 1)) {
      // Consecutive ranks (the common case, wrapping when cycling): step the previous row's
      // seeds, O(j + k) amortized instead of an O((j + k)^2 log m) unrank.
      row.update(from: row - spec.length, count: jk)
      plan.seeds.advance(row)
    } else {
      plan.seeds.unrank(rank, into: row)
    }
    _posgenExtend(row, spec: spec)
    prevRank = rank
    row += spec.length
  }
}

/// Array-returning wrapper of `posgenGenerate(spec:split:mode:sizes:first:count:into:)`.
public func posgenGenerate(spec: PosGenSpec, split: PosGenSplit, mode: PosGenSplitMode,
                            sizes: PosGenSplitSizes = .paper, first: Int = 0, count: Int) throws(RopeError) -> [Int32] {
  let plan = try _posgenPlan(spec: spec, split: split, mode: mode, sizes: sizes, first: first, count: count)
  guard plan.total <= PosGen.maxArrayElements else {
    throw RopeError(.outOfMemory, "count * length = \(plan.total): larger than \(PosGen.maxArrayElements) tokens for an array result")
  }
  guard plan.total > 0 else { return [] }
  var failure: RopeError? = nil
  let result = [Int32](unsafeUninitializedCapacity: plan.total) { b, n in
    do throws(RopeError) {
      try posgenGenerate(spec: spec, split: split, mode: mode, sizes: sizes, first: first, count: count, into: b.baseAddress!)
      n = plan.total
    } catch {
      b.baseAddress!.initialize(repeating: 0, count: plan.total)
      n = plan.total
      failure = error
    }
  }
  if let failure { throw failure }
  return result
}

struct _PosGenPlan {
  var seeds: PosGenSeeds
  var ranks: _SeedRanks
  var total: Int
}

func _posgenPlan(spec: PosGenSpec, split: PosGenSplit, mode: PosGenSplitMode, sizes: PosGenSplitSizes,
                 first: Int, count: Int) throws(RopeError) -> _PosGenPlan {
  try spec.validate()
  try sizes.validate()
  guard first >= 0 else { throw RopeError(.overflow, "first = \(first): must be >= 0") }
  guard count >= 0 else { throw RopeError(.overflow, "count = \(count): must be >= 0") }
  let (end, o1) = first.addingReportingOverflow(count)
  let splitSize = sizes.size(of: split)
  guard !o1, end <= splitSize else {
    throw RopeError(.overflow, "first + count = \(first) + \(count): exceeds the split size \(splitSize)")
  }
  let (total, o2) = count.multipliedReportingOverflow(by: spec.length)
  guard !o2, total <= Int.max / 4 else {
    throw RopeError(.overflow, "count * length = \(count) * \(spec.length) overflows")
  }
  let seeds = try PosGenSeeds(modulus: spec.modulus, size: spec.seedCount)
  let ranks = try _seedRanks(seeds: seeds, split: split, mode: mode, sizes: sizes)
  return _PosGenPlan(seeds: seeds, ranks: ranks, total: total)
}
