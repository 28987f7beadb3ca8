// The kernel benchmark behind `resonance-rope bench`: every case is timed in the same run as its
// baselines over the same bytes, so the ratios survive a noisy shared machine:
//   memory pass  x *= c in place over the same buffer (a fill of the same bytes for table_build,
//                whose "prefetched" variant is a fill with the table fill's streaming stores),
//                split over the same number of threads, timed compiled like each copy of the
//                kernels the CPU runs (baseline x86-64, x86-64-v3, x86-64-v4), each plain
//                and with the kernels' row prefetch (`rowPrefetchDistance` ahead). The yardstick is
//                the FASTEST of them, per case (which one wins differs by CPU), so no ratio
//                flatters the kernel; the plain and prefetched passes of the fastest copy stay
//                visible;
//   memory hint  the prefill cases are also timed with the kernels' row prefetch switched off,
//                table_build without its streaming stores (`ratioWithoutMemoryHint`), so every
//                machine shows whether the hint pays there;
//   scalar       a straightforward per-token implementation: libm sin/cos in double of the
//                exact Resonance angle 2 pi (m mod P) / P, rounded to float, then a plain float
//                loop over every head (same threads).
// Each repetition runs case, memory pass and scalar back to back; medians over repetitions.
// Before a repetition's first timed sample the buffer is streamed over, untimed, for
// `settleNs` (`settle`): measured on an Intel Xeon (KVM, 2026-12-03), after 20 ms or more
// without memory traffic (the scalar reference of a 16-bit prefill runs ~240 ms) the first
// in-place passes over a 32 MiB buffer take 3.5, 3.3, 2.2, 1.8 ms and only then 1.5 ms; the
// case timed right after the scalar ran in that slow state while its memory passes, timed
// after the case, did not (f16 prefill 4.7 ms, 0.33 of the pass; 2.3 ms, 0.7 with the same
// kernel after streaming).
// Results feed a blackHole so nothing is dead code.
import Glibc
import ResonanceRopeCore

/// One measured case.
public struct BenchCase: Sendable {
  public var name: String
  public var dtype: String
  public var layout: String
  public var threads: Int
  public var tokens: Int
  public var medianNs: Double
  /// Bytes read + written per run / time.
  public var gbps: Double
  /// The fastest memory pass (see the file comment) / case time (1.0 = at the memory limit).
  public var ratioMemoryPass: Double
  /// Every yardstick pass of the case / case time, by name.
  public var ratioMemoryPasses: [(name: String, ratio: Double)] = []
  /// The yardstick pass that was fastest (e.g. "x86-64-v3+prefetch", "x86-64-v4+stream"): the
  /// smallest of `ratioMemoryPasses`.
  public var fastestMemoryPass: String? { ratioMemoryPasses.min { $0.ratio < $1.ratio }?.name }
  /// Plain and prefetched passes of the fastest kernel copy / case time (both stay visible).
  public var ratioPlainPass: Double?
  public var ratioMemoryPassPrefetched: Double?
  /// Scalar time / case time.
  public var ratioScalar: Double
  /// decode only: rotation with precomputed cos/sin / decode time.
  public var ratioRotationOnly: Double?
  /// far_positions only: near (prefill) time / far time, same repetitions.
  public var ratioNear: Double?
  /// 4096-token cases and table_build: time as the library runs it / time with its memory hint
  /// (row prefetch, streaming stores) off.
  public var ratioWithoutMemoryHint: Double?
  /// Rotations whose rows go past L2: the row prefetch verdict (`Kernels.learnedRowPrefetch`: the
  /// distance in bytes, 0 none) right after the case's repetitions (nil: not decided then). The
  /// report's `rowPrefetch` is the verdict at the end of the run, which later cases of the same
  /// slot may have learned again.
  public var rowPrefetchLearned: Int?

  public init(name: String, dtype: String, layout: String, threads: Int, tokens: Int, medianNs: Double, gbps: Double,
               ratioMemoryPass: Double, ratioScalar: Double) {
    self.name = name; self.dtype = dtype; self.layout = layout; self.threads = threads; self.tokens = tokens
    self.medianNs = medianNs; self.gbps = gbps; self.ratioMemoryPass = ratioMemoryPass; self.ratioScalar = ratioScalar
  }
}

public struct BenchReport: Sendable {
  public var machine: String
  public var build: String
  /// The kernel copy the library runs on this CPU.
  public var kernels: String
  /// The row prefetch the library learned in this run (`Kernels.learnedRowPrefetch`), e.g.
  /// "f32 1t 8 KiB, f32 2t+ off, ...".
  public var rowPrefetch: String
  public var cases: [BenchCase]
}

/// Defeats dead-code elimination: the optimizer cannot see what happens to the value.
nonisolated(unsafe) var _sink: UInt32 = 0
@inline(never) func blackHole(_ x: Float) { _sink &+= x.bitPattern }
@inline(never) func blackHole(_ p: UnsafeMutableRawPointer) { _sink &+= p.load(as: UInt32.self) }
/// A multiplier the optimizer cannot fold (1.0 at run time).

@inline(__always) func nowNs() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Times `body` (which does `inner` iterations) `reps` times after one warm-up; ns per iteration.
func timeIt(inner: Int = 1, _ body: () -> Void) -> Double {
  let t0 = nowNs()
  body()
  return Double(nowNs() - t0) / Double(inner)
}

/// Streaming, untimed, long enough for the machine's memory path to reach its steady state
/// (see the file comment: ~10 ms of streaming after idle; twice that here).
let settleNs: UInt64 = 20_000_000

/// Runs `pass` (a memory pass or fill over the case's bytes) until `settleNs` have passed, at
/// least twice.
func settle(_ pass: () -> Void) {
  let t0 = nowNs()
  var n = 0
  while n < 2 || nowNs() - t0 < settleNs { pass(); n += 1 }
}

/// The yardstick passes of one case: every kernel copy, plain and with each of its memory hints;
/// `body(copy, hint)` with hint 0 (plain) or 1 ... hints.count. Named "copy" and "copy+hint"
/// (`hints`: the row prefetch at the distances the library chooses from,
/// `Kernels.yardstickPrefetchDistances`, named from them: "prefetch" for the first (8 KiB),
/// "prefetch16" for 16 KiB; "stream" for fills).
struct Passes {
  var hints = Kernels.yardstickPrefetchDistances.enumerated().map { $0.offset == 0 ? "prefetch" : "prefetch\($0.element / 1024)" }
  var times: [String: [Double]] = [:]
  func name(_ k: Kernels, _ hint: Int) -> String { hint > 0 ? "\(k.name)+\(hints[hint - 1])" : k.name }
  mutating func run(_ body: (Kernels, Int) -> Void) {
    for k in Kernels.available {
      for h in 0 ... hints.count { times[name(k, h), default: []].append(timeIt { body(k, h) }) }
    }
  }
  /// Every pass's median, by name (sorted by name).
  var medians: [(name: String, ns: Double)] { times.map { ($0.key, median($0.value)) }.sorted { $0.name < $1.name } }
  /// The fastest pass's median, and the plain and hinted medians of the best copy.
  var fastest: Double { medians.map(\.ns).min() ?? .nan }
  var plain: Double { times[name(Kernels.best, 0)].map(median) ?? .nan }
  var prefetched: Double { (1 ... hints.count).compactMap { times[name(Kernels.best, $0)].map(median) }.min() ?? .nan }
}

/// The prefetch distance of yardstick pass variant h (`Passes`): 0 plain, then
/// `Kernels.yardstickPrefetchDistances`.
func ahead(_ h: Int) -> Int { h > 0 ? Kernels.yardstickPrefetchDistances[h - 1] : 0 }

// MARK: - The scalar reference

/// Scalar element access as a careful engineer writes it: Float16 through the standard library,
/// bfloat16 by shifting and rounding to nearest even on the integer bits.
protocol ScalarElement { associatedtype Bits; static func get(_ p: UnsafeMutablePointer<Bits>, _ i: Int) -> Float; static func set(_ p: UnsafeMutablePointer<Bits>, _ i: Int, _ x: Float) }
enum ScalarF32: ScalarElement {
  @inline(__always) static func get(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> Float { p[i] }
  @inline(__always) static func set(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ x: Float) { p[i] = x }
}
enum ScalarF16: ScalarElement {
  @inline(__always) static func get(_ p: UnsafeMutablePointer<UInt16>, _ i: Int) -> Float { Float(Float16(bitPattern: p[i])) }
  @inline(__always) static func set(_ p: UnsafeMutablePointer<UInt16>, _ i: Int, _ x: Float) { p[i] = Float16(x).bitPattern }
}
enum ScalarBF16: ScalarElement {
  @inline(__always) static func get(_ p: UnsafeMutablePointer<UInt16>, _ i: Int) -> Float { Float(bitPattern: UInt32(p[i]) << 16) }
  @inline(__always) static func set(_ p: UnsafeMutablePointer<UInt16>, _ i: Int, _ x: Float) {
    let b = x.bitPattern
    p[i] = x.isNaN ? UInt16(b >> 16) | 0x40 : UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
  }
}

/// Per-token libm cos/sin of the exact Resonance angle, rounded to float.
@inline(__always)
func scalarAngles(_ periods: UnsafePointer<Int64>, _ h: Int, _ m: Int64, _ c: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>) {
  for i in 0 ..< h {
    var r = m % periods[i]
    if r < 0 { r += periods[i] }
    let a = 2 * Double.pi * Double(r) / Double(periods[i])
    c[i] = Float(cos(a))
    s[i] = Float(sin(a))
  }
}

func scalarRotate<E: ScalarElement>(_: E.Type, _ base: UnsafeMutableRawPointer, tokens: Range<Int>, heads: Int, headDim: Int,
                                    start: Int64, periods: UnsafePointer<Int64>, h: Int, gptj: Bool, threads: Int) {
  let p = base.assumingMemoryBound(to: E.Bits.self)
  parallelChunks(count: tokens.count, threads: threads) { chunk, _ in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * h) { sc in
      let c = sc.baseAddress!, s = c + h
      for t in chunk {
        scalarAngles(periods, h, start + Int64(t), c, s)
        for head in 0 ..< heads {
          let row = p + (t * heads + head) * headDim
          for i in 0 ..< h {
            let (a, b) = gptj ? (2 * i, 2 * i + 1) : (i, i + h)
            let x = E.get(row, a), y = E.get(row, b)
            E.set(row, a, x * c[i] - y * s[i])
            E.set(row, b, y * c[i] + x * s[i])
          }
        }
      }
    }
  }
}

// MARK: - Cases

/// A buffer of `bytes` bytes filled with values in [-1, 1) of the format.
func makeBuffer(bytes: Int, format: ElementFormat) -> UnsafeMutableRawPointer {
  let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
  var state: UInt32 = 12345
  for i in 0 ..< bytes / format.size {
    state = state &* 1_664_525 &+ 1_013_904_223
    let x = Float(Int32(bitPattern: state) >> 8) * 0x1p-23
    switch format {
    case .float32: p.storeBytes(of: x, toByteOffset: i * 4, as: Float.self)
    case .float16: p.storeBytes(of: float16Bits(x), toByteOffset: i * 2, as: UInt16.self)
    case .bfloat16: p.storeBytes(of: bfloat16Bits(x), toByteOffset: i * 2, as: UInt16.self)
    }
  }
  return p
}

func machineName() -> String {
  var name = "unknown CPU"
  if let f = fopen("/proc/cpuinfo", "r") {
    var line: UnsafeMutablePointer<CChar>? = nil
    var cap = 0
    while getline(&line, &cap, f) > 0 {
      let s = String(cString: line!)
      if s.hasPrefix("model name"), let colon = s.firstIndex(of: ":") {
        name = String(s[s.index(after: colon)...]).trimmingCharacters()
        break
      }
    }
    free(line)
    fclose(f)
  }
  return "\(name), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs"
}

extension String {
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
    return String(s)
  }
}

public func benchBuild() -> String {
  #if RESONANCE_ROPE_NATIVE
    return "native"
  #else
    return "portable"
  #endif
}

/// The scalar yardstick of one format (same threads).
func scalarCase(_ format: ElementFormat, _ buf: UnsafeMutableRawPointer, tokens: Int, heads: Int, headDim: Int, start: Int64,
                periods: [Int64], gptj: Bool, threads: Int) {
  periods.withUnsafeBufferPointer { pp in
    let h = headDim / 2, p = pp.baseAddress!
    switch format {
    case .float32: scalarRotate(ScalarF32.self, buf, tokens: 0 ..< tokens, heads: heads, headDim: headDim, start: start, periods: p, h: h, gptj: gptj, threads: threads)
    case .float16: scalarRotate(ScalarF16.self, buf, tokens: 0 ..< tokens, heads: heads, headDim: headDim, start: start, periods: p, h: h, gptj: gptj, threads: threads)
    case .bfloat16: scalarRotate(ScalarBF16.self, buf, tokens: 0 ..< tokens, heads: heads, headDim: headDim, start: start, periods: p, h: h, gptj: gptj, threads: threads)
    }
  }
}

/// Runs every case. `reps` repetitions per case (medians); `progress` gets one line per case.
public func runBenchmarks(reps: Int = 5, progress: (BenchCase) -> Void = { _ in }) throws -> BenchReport {
  var cases: [BenchCase] = []
  func add(_ c: BenchCase) { cases.append(c); progress(c) }
  let d = 128, h = 64
  let tables = try [PairLayout.neox, .gptj].map { try FrequencyTable(RopeConfig(rotaryDim: d, base: 10000, resonance: true, layout: $0)) }
  let periods = tables[0].resonanceWavelengths
  // Plain RoPE (no Resonance): every angle from the anchored double polynomial.
  let plainTables = try [PairLayout.neox, .gptj].map { try FrequencyTable(RopeConfig(rotaryDim: d, base: 10000, resonance: false, layout: $0)) }
  func layoutName(_ l: PairLayout) -> String { l == .neox ? "neox" : "gptj" }
  func make(_ name: String, _ dtype: String, _ layout: String, _ threads: Int, _ tokens: Int, _ m: Double, bytes: Int,
            _ passes: Passes, scalar: Double) -> BenchCase {
    var c = BenchCase(name: name, dtype: dtype, layout: layout, threads: threads, tokens: tokens, medianNs: m,
                      gbps: Double(bytes) / m, ratioMemoryPass: passes.fastest / m, ratioScalar: scalar / m)
    c.ratioPlainPass = passes.plain / m
    c.ratioMemoryPasses = passes.medians.map { ($0.name, $0.ns / m) }
    c.ratioMemoryPassPrefetched = passes.prefetched / m
    return c
  }

  // Rotation cases on [tokens, 32 heads, 128] buffers: prefill (4096 tokens, 32 or 64 MiB: past
  // L2, in DRAM or in a large L3) and
  // in_cache (32 tokens, 512 KiB of f32: L2-resident, timed as `inner` calls per sample against
  // an in-cache pass, which shows whether a kernel is compute-bound whatever the memory).
  // far_positions (positions from 2^40) is timed in the same repetitions as near, so their
  // ratio is not at the mercy of machine noise; prefill_plain_rope: without Resonance;
  // prefill_position_array: an explicit array of random positions in [0, 2^31) (every token
  // needs its own residues and anchor). prefill_dram: a NeoX prefill of 512 MiB (32768 float32
  // tokens, 65536 16-bit ones), past the last-level cache of the machines measured so far (the
  // Intel Xeon of 2026-12-03 has 260 MiB of L3, where the 4096-token buffers, 32 and 64 MiB,
  // stay), so its passes are DRAM passes; its scalar column is timed over its first 4096 tokens
  // and scaled by the token count (the scalar loop's time is per token; 16-bit would take ~6 s).
  let heads = 32
  for (caseName, baseTokens, inner) in [("prefill", 4096, 1), ("prefill_dram", 0, 1), ("in_cache", 32, 200)] {
    let dram = caseName == "prefill_dram"
    let randomPositions = UnsafeMutablePointer<Int64>.allocate(capacity: baseTokens)
    defer { randomPositions.deallocate() }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in 0 ..< baseTokens {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      randomPositions[i] = Int64(state >> 33)
    }
    for format in ElementFormat.allCases where caseName != "in_cache" || format == .float32 {
      let tokens = dram ? (512 << 20) / (heads * d * format.size) : baseTokens
      let bytes = tokens * heads * d * format.size
      let buf = makeBuffer(bytes: bytes, format: format)
      defer { buf.deallocate() }
      let layouts: [PairLayout] = dram ? [.neox] : [.neox, .gptj]
      for (li, layout) in layouts.enumerated() {
        for threads in caseName == "in_cache" ? [1] : [1, 2] {
          let q = UnsafeMutableRawBufferPointer(start: buf, count: bytes), ql = HeadGeometry.dense(heads: Int64(heads), headDim: Int64(d))
          let runs: [(name: String, table: FrequencyTable, positions: RotationPositions)] = format == .float32 && caseName == "prefill"
            ? [("prefill", tables[li], .start(0)), ("far_positions", tables[li], .start(1 << 40)),
               ("prefill_plain_rope", plainTables[li], .start(0)),
               ("prefill_position_array", tables[li], .array(UnsafeBufferPointer(start: randomPositions, count: tokens)))]
            : caseName != "in_cache" ? [(caseName, tables[li], .start(0))]
            : [("in_cache", tables[li], .start(0)), ("in_cache_plain_rope", plainTables[li], .start(0))]
          // Each run timed as the library runs it, then (prefill) without the row prefetch.
          let variants: [Bool?] = caseName == "prefill" ? [nil, false] : [nil]
          var caseT = [[Double]](repeating: [], count: runs.count * variants.count), passes = Passes(), scalarT: [Double] = []
          for rep in 0 ... reps {
            settle { Kernels.best.memoryPass(q, threads: threads, prefetchAhead: 0) }
            // Every (variant, run) slot once, starting one slot later each repetition, so no case
            // is always the first after the settle (measured before: near/far 1.06-1.09, the
            // first case slower, in 5 runs of 6).
            let slots = variants.count * runs.count
            var times = [Double](repeating: 0, count: slots)
            for o in 0 ..< slots {
              let slot = (o + rep) % slots
              let variant = variants[slot / runs.count], run = runs[slot % runs.count]
              times[slot] = timeIt(inner: inner) {
                for _ in 0 ..< inner {
                  try! run.table.rotate(format, q: q, ql, tokens: tokens, positions: run.positions, threads: threads, prefetchRows: variant)
                }
              }
            }
            var p = Passes()
            p.run { k, h in for _ in 0 ..< inner { k.memoryPass(q, threads: threads, prefetchAhead: ahead(h)) } }
            let scalarTokens = dram ? 4096 : tokens
            let c = timeIt {
              scalarCase(format, buf, tokens: scalarTokens, heads: heads, headDim: d, start: 0, periods: periods, gptj: layout == .gptj, threads: threads)
            } * Double(tokens / scalarTokens)
            blackHole(buf)
            if rep > 0 {  // rep 0 warms up
              for (i, x) in times.enumerated() { caseT[i].append(x) }
              for (key, v) in p.times { passes.times[key, default: []].append(contentsOf: v.map { $0 / Double(inner) }) }
              scalarT.append(c)
            }
          }
          let near = median(caseT[0])
          let learned = caseName == "in_cache" ? nil : Kernels.learnedRowPrefetch(format, multiThread: threads > 1)
          for (i, run) in runs.enumerated() {
            var c = make(run.name, format.name, layoutName(layout), threads, tokens, median(caseT[i]), bytes: 2 * bytes, passes, scalar: median(scalarT))
            c.rowPrefetchLearned = learned
            if run.name == "far_positions" { c.ratioNear = near / c.medianNs }
            if variants.count > 1 { c.ratioWithoutMemoryHint = c.medianNs / median(caseT[runs.count + i]) }
            add(c)
          }
        }
      }
    }
  }

  // decode: one token, q 32 heads + k 8 heads, angles included; rotation-only with rows
  // precomputed once. Each sample is `inner` calls at increasing positions.
  let inner = 2000
  for format in ElementFormat.allCases {
    for (li, layout) in [PairLayout.neox, .gptj].enumerated() {
      let t = tables[li]
      let qBytes = 32 * d * format.size, kBytes = 8 * d * format.size
      let buf = makeBuffer(bytes: qBytes + kBytes, format: format)
      defer { buf.deallocate() }
      let q = UnsafeMutableRawBufferPointer(start: buf, count: qBytes), ql = HeadGeometry.dense(heads: 32, headDim: Int64(d))
      let k = UnsafeMutableRawBufferPointer(start: buf + qBytes, count: kBytes), kl = HeadGeometry.dense(heads: 8, headDim: Int64(d))
      let both = UnsafeMutableRawBufferPointer(start: buf, count: qBytes + kBytes)
      let rows = try t.preparedRows(format, position: 123_457)
      var caseT: [Double] = [], rotT: [Double] = [], passes = Passes(), scalarT: [Double] = []
      var pos: Int64 = 100_000
      for rep in 0 ... 2 * reps {
        let a = timeIt(inner: inner) {
          for _ in 0 ..< inner {
            try! t.rotate(format, q: q, ql, k: k, kl, tokens: 1, positions: .start(pos))
            pos &+= 1
          }
        }
        let r = timeIt(inner: inner) {
          for _ in 0 ..< inner { try! t.rotate(q: q, ql, k: k, kl, rows: rows) }
        }
        var p = Passes()
        p.run { kc, h in for _ in 0 ..< inner { kc.memoryPass(both, threads: 1, prefetchAhead: ahead(h)) } }
        let c = timeIt(inner: inner) {
          for _ in 0 ..< inner {  // q and k are adjacent rows of 40 heads
            scalarCase(format, buf, tokens: 1, heads: 40, headDim: d, start: pos, periods: periods, gptj: layout == .gptj, threads: 1)
            pos &+= 1
          }
        }
        blackHole(buf)
        if rep > 0 {
          caseT.append(a); rotT.append(r); scalarT.append(c)
          for (key, v) in p.times { passes.times[key, default: []].append(contentsOf: v.map { $0 / Double(inner) }) }
        }
      }
      var c = make("decode", format.name, layoutName(layout), 1, 1, median(caseT), bytes: 2 * (qBytes + kBytes), passes, scalar: median(scalarT))
      c.ratioRotationOnly = median(rotT) / c.medianNs
      add(c)
    }
  }

  // table_build: cos and sin for 131072 positions x 64 pairs (half layout), float32.
  let n = 131_072
  let bytes = 2 * n * h * 4
  let out = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
  defer { out.deallocate() }
  let outBuffer = UnsafeMutableRawBufferPointer(start: out, count: bytes)
  Kernels.best.memoryFill(outBuffer, stream: false)  // first touch
  let cosOut = out.assumingMemoryBound(to: Float.self), sinOut = cosOut + n * h
  let cosBuffer = UnsafeMutableBufferPointer(start: cosOut, count: n * h), sinBuffer = UnsafeMutableBufferPointer(start: sinOut, count: n * h)
  var caseT: [Double] = [], plainT: [Double] = [], passes = Passes(hints: ["stream"]), scalarT: [Double] = []
  for rep in 0 ... reps {
    settle { Kernels.best.memoryFill(outBuffer, stream: false) }
    let a = timeIt { try! tables[0].fillTable(.half, cos: cosBuffer, sin: sinBuffer, start: 0, count: n, applyAttentionFactor: false) }
    let plain = timeIt {
      try! tables[0].fillTable(.half, cos: cosBuffer, sin: sinBuffer, start: 0, count: n, applyAttentionFactor: false, stream: false)
    }
    var p = Passes(hints: ["stream"])
    p.run { k, h in k.memoryFill(outBuffer, stream: h > 0) }  // the hinted variant streams
    let c = periods.withUnsafeBufferPointer { pp in
      timeIt { for p in 0 ..< n { scalarAngles(pp.baseAddress!, h, Int64(p), cosOut + p * h, sinOut + p * h) } }
    }
    blackHole(out)
    if rep > 0 {
      caseT.append(a); plainT.append(plain); scalarT.append(c)
      for (key, v) in p.times { passes.times[key, default: []].append(contentsOf: v) }
    }
  }
  var build = make("table_build", "f32", "half", 1, n, median(caseT), bytes: bytes, passes, scalar: median(scalarT))
  build.ratioWithoutMemoryHint = build.medianNs / median(plainT)
  add(build)

  // create: handle creation (Resonance builds the periodic table), d = 64 and 128; and gap: the
  // feature-gap analysis of the paper's PosGen setting and a Llama-2-like one. Times only.
  for dim in [64, 128] {
    for resonance in [false, true] {
      var ts: [Double] = []
      for _ in 0 ... 4 * reps { ts.append(timeIt { _ = try! FrequencyTable(RopeConfig(rotaryDim: dim, base: 10000, resonance: resonance)) }) }
      add(BenchCase(name: resonance ? "create_resonance" : "create", dtype: "-", layout: "-", threads: 1, tokens: dim,
                    medianNs: median(Array(ts.dropFirst())), gbps: 0, ratioMemoryPass: 0, ratioScalar: 0))
    }
  }
  for (dim, train, test) in [(64, Int64(64), Int64(256)), (128, Int64(4096), Int64(16384))] {
    var ts: [Double] = []
    for _ in 0 ... reps {
      ts.append(timeIt { _ = try! featureGapComparison(config: RopeConfig(rotaryDim: dim, base: 10000), trainLength: train, testLength: test) })
    }
    add(BenchCase(name: "gap", dtype: "-", layout: "L=\(train)", threads: 1, tokens: Int(test), medianNs: median(Array(ts.dropFirst())),
                  gbps: 0, ratioMemoryPass: 0, ratioScalar: 0))
  }
  let learned = ElementFormat.allCases.flatMap { f in
    [false, true].map { mt in
      let v = Kernels.learnedRowPrefetch(f, multiThread: mt)
      return "\(f.name) \(mt ? "2t+" : "1t") \(v.map { $0 > 0 ? "\($0 / 1024) KiB" : "off" } ?? "undecided")"
    }
  }
  return BenchReport(machine: machineName(), build: benchBuild(), kernels: Kernels.best.name,
                     rowPrefetch: learned.joined(separator: ", "), cases: cases)
}
