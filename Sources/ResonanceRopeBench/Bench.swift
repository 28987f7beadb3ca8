// The kernel benchmark behind `resonance-rope bench`: every case is timed in the same run as two
// baselines over the same bytes, so the ratios survive a noisy shared machine:
//   memory pass  x *= c in place over the same buffer (a fill of the same bytes for table_build),
//                split over the same number of threads; reported beside it, the same pass with
//                the software prefetch the kernels use (2 KiB ahead): the plain loop does not keep
//                enough cache misses in flight to reach the machine's limit on one core, so the
//                prefetched pass is the stricter yardstick;
//   scalar       a straightforward per-token implementation: libm sin/cos in double of the
//                exact Resonance angle 2 pi (m mod P) / P, rounded to float, then a plain float
//                loop over every head (same threads).
// Each repetition runs case, memory pass and scalar back to back; medians over repetitions.
// Results feed a blackHole so nothing is dead code.
import CKernelHints
import Glibc
import ResonanceRopeCore

/// One measured case.
package struct BenchCase: Sendable {
  package var name: String
  package var dtype: String
  package var layout: String
  package var threads: Int
  package var tokens: Int
  package var medianNs: Double
  /// Bytes read + written per run / time.
  package var gbps: Double
  /// Memory-pass time / case time (1.0 = at the memory limit).
  package var ratioMemoryPass: Double
  /// The same with the prefetched memory pass (prefill, far_positions, table_build).
  package var ratioMemoryPassPrefetched: Double?
  /// Scalar time / case time.
  package var ratioScalar: Double
  /// decode only: rotation with precomputed cos/sin / decode time.
  package var ratioRotationOnly: Double?
  /// far_positions only: near (prefill) time / far time, same repetitions.
  package var ratioNear: Double?
}

package struct BenchReport: Sendable {
  package var machine: String
  package var build: String
  package var cases: [BenchCase]
}

/// Defeats dead-code elimination: the optimizer cannot see what happens to the value.
nonisolated(unsafe) var _sink: UInt32 = 0
@inline(never) func blackHole(_ x: Float) { _sink &+= x.bitPattern }
@inline(never) func blackHole(_ p: UnsafeMutableRawPointer) { _sink &+= p.load(as: UInt32.self) }
/// A multiplier the optimizer cannot fold (1.0 at run time).
nonisolated(unsafe) var _one: Float = 1

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

/// x *= c over `bytes` bytes in place, as floats, in contiguous chunks over `threads` threads;
/// `prefetch`: with the kernels' software prefetch (for writing) 2 KiB ahead.
func memoryPass(_ p: UnsafeMutableRawPointer, bytes: Int, threads: Int, prefetch: Bool = false) {
  let c = FloatLanes(repeating: _one)
  let blocks = bytes / 64
  parallelChunks(count: blocks, threads: threads) { r in
    for b in r {
      let q = p + b * 64
      if prefetch { rr_prefetch_for_write(q + 2048) }  // a hint: past the end is harmless
      q.storeBytes(of: q.loadUnaligned(as: FloatLanes.self) * c, as: FloatLanes.self)
    }
  }
}

/// A fill of `bytes` bytes (stores only), the table build's baseline; `prefetch`: with the
/// kernels' prefetch 2 KiB ahead.
func memoryFill(_ p: UnsafeMutableRawPointer, bytes: Int, prefetch: Bool = false) {
  let c = FloatLanes(repeating: _one)
  for b in 0 ..< bytes / 64 {
    if prefetch { rr_prefetch_for_write(p + b * 64 + 2048) }
    (p + b * 64).storeBytes(of: c, as: FloatLanes.self)
  }
}

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
  parallelChunks(count: tokens.count, threads: threads) { chunk in
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

package func benchBuild() -> String {
  #if RESONANCE_ROPE_NATIVE
    return "native"
  #else
    return "portable"
  #endif
}

/// Runs every case. `reps` repetitions per case (medians); `progress` gets one line per case.
package func runBenchmarks(reps: Int = 5, progress: (BenchCase) -> Void = { _ in }) throws -> BenchReport {
  var cases: [BenchCase] = []
  func add(_ c: BenchCase) { cases.append(c); progress(c) }
  let d = 128, h = 64
  let tables = try [PairLayout.neox, .gptj].map { try FrequencyTable(RopeConfig(rotaryDim: d, base: 10000, resonance: true, layout: $0)) }
  let periods = tables[0].resonanceWavelengths
  // Plain RoPE (no Resonance): every angle from the vectorized double polynomial.
  let plainTables = try [PairLayout.neox, .gptj].map { try FrequencyTable(RopeConfig(rotaryDim: d, base: 10000, resonance: false, layout: $0)) }

  // prefill and far_positions: 4096 tokens x 32 heads x 128; far (positions from 2^40) is timed
  // in the same repetitions as near, so their ratio is not at the mercy of machine noise.
  // prefill_plain_rope (f32): the prefill case without Resonance (same scalar yardstick).
  // prefill_position_array (f32): the prefill case at an explicit array of random positions in
  // [0, 2^31) (every token needs its own residues: no stepping from the previous one).
  let tokens = 4096, heads = 32
  let randomPositions = UnsafeMutablePointer<Int64>.allocate(capacity: tokens)
  defer { randomPositions.deallocate() }
  var state: UInt64 = 0x9E37_79B9_7F4A_7C15
  for i in 0 ..< tokens {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    randomPositions[i] = Int64(state >> 33)
  }
  for format in ElementFormat.allCases {
    let bytes = tokens * heads * d * format.size
    let buf = makeBuffer(bytes: bytes, format: format)
    defer { buf.deallocate() }
    for (li, layout) in [PairLayout.neox, .gptj].enumerated() {
      for threads in [1, 2] {
        let q = HeadBuffer(base: buf, geometry: HeadGeometry(heads: Int64(heads), tokenStride: Int64(heads * d), headStride: Int64(d)))
        let runs: [(name: String, table: FrequencyTable, positions: Positions)] = format == .float32
          ? [("prefill", tables[li], .range(start: 0)), ("far_positions", tables[li], .range(start: 1 << 40)),
             ("prefill_plain_rope", plainTables[li], .range(start: 0)),
             ("prefill_position_array", tables[li], .list(UnsafePointer(randomPositions)))]
          : [("prefill", tables[li], .range(start: 0))]
        var caseT = [[Double]](repeating: [], count: runs.count), memT: [Double] = [], memPfT: [Double] = [], scalarT: [Double] = []
        for rep in 0 ... reps {
          var times: [Double] = []
          for run in runs {
            times.append(timeIt {
              run.table.rotate(format: format, q: q, k: nil, tokens: 0 ..< tokens, positions: run.positions,
                               inverse: false, applyAttentionFactor: false, threads: threads)
            })
          }
          let b = timeIt { memoryPass(buf, bytes: bytes, threads: threads) }
          let bp = timeIt { memoryPass(buf, bytes: bytes, threads: threads, prefetch: true) }
          let c = periods.withUnsafeBufferPointer { pp in
            timeIt {
              switch format {
              case .float32: scalarRotate(ScalarF32.self, buf, tokens: 0 ..< tokens, heads: heads, headDim: d, start: 0, periods: pp.baseAddress!, h: h, gptj: layout == .gptj, threads: threads)
              case .float16: scalarRotate(ScalarF16.self, buf, tokens: 0 ..< tokens, heads: heads, headDim: d, start: 0, periods: pp.baseAddress!, h: h, gptj: layout == .gptj, threads: threads)
              case .bfloat16: scalarRotate(ScalarBF16.self, buf, tokens: 0 ..< tokens, heads: heads, headDim: d, start: 0, periods: pp.baseAddress!, h: h, gptj: layout == .gptj, threads: threads)
              }
            }
          }
          blackHole(buf)
          if rep > 0 {  // rep 0 warms up
            for (i, x) in times.enumerated() { caseT[i].append(x) }
            memT.append(b); memPfT.append(bp); scalarT.append(c)
          }
        }
        let near = median(caseT[0])
        for (i, run) in runs.enumerated() {
          let m = median(caseT[i])
          var c = BenchCase(name: run.name, dtype: format.name, layout: layout == .neox ? "neox" : "gptj",
                            threads: threads, tokens: tokens, medianNs: m, gbps: Double(2 * bytes) / m,
                            ratioMemoryPass: median(memT) / m, ratioScalar: median(scalarT) / m, ratioRotationOnly: nil)
          c.ratioMemoryPassPrefetched = median(memPfT) / m
          if run.name == "far_positions" { c.ratioNear = near / m }
          add(c)
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
      let q = HeadBuffer(base: buf, geometry: HeadGeometry(heads: 32, tokenStride: Int64(32 * d), headStride: Int64(d)))
      let k = HeadBuffer(base: buf + qBytes, geometry: HeadGeometry(heads: 8, tokenStride: Int64(8 * d), headStride: Int64(d)))
      let cap = t.kernelRowCapacity
      let rows = UnsafeMutablePointer<Float>.allocate(capacity: 2 * cap)
      let res = UnsafeMutablePointer<Int32>.allocate(capacity: t.cursorCapacity)
      defer { rows.deallocate(); res.deallocate() }
      rows.initialize(repeating: 0, count: 2 * cap)
      t.kernelRows(format: format, position: 123_457, inverse: false, cos: rows, sin: rows + cap, scratch: res)
      var caseT: [Double] = [], rotT: [Double] = [], memT: [Double] = [], scalarT: [Double] = []
      var pos: Int64 = 100_000
      for rep in 0 ... 2 * reps {
        let a = timeIt(inner: inner) {
          for _ in 0 ..< inner {
            t.rotate(format: format, q: q, k: k, tokens: 0 ..< 1, positions: .range(start: pos),
                     inverse: false, applyAttentionFactor: false, threads: 1)
            pos &+= 1
          }
        }
        let r = timeIt(inner: inner) {
          for _ in 0 ..< inner { t.rotateToken(format: format, q: q, k: k, token: 0, cos: rows, sin: rows + cap) }
        }
        let b = timeIt(inner: inner) { for _ in 0 ..< inner { memoryPass(buf, bytes: qBytes + kBytes, threads: 1) } }
        let c = periods.withUnsafeBufferPointer { pp in
          timeIt(inner: inner) {
            for _ in 0 ..< inner {
              switch format {  // q and k are adjacent rows of 40 heads
              case .float32: scalarRotate(ScalarF32.self, buf, tokens: 0 ..< 1, heads: 40, headDim: d, start: pos, periods: pp.baseAddress!, h: h, gptj: layout == .gptj, threads: 1)
              case .float16: scalarRotate(ScalarF16.self, buf, tokens: 0 ..< 1, heads: 40, headDim: d, start: pos, periods: pp.baseAddress!, h: h, gptj: layout == .gptj, threads: 1)
              case .bfloat16: scalarRotate(ScalarBF16.self, buf, tokens: 0 ..< 1, heads: 40, headDim: d, start: pos, periods: pp.baseAddress!, h: h, gptj: layout == .gptj, threads: 1)
              }
              pos &+= 1
            }
          }
        }
        blackHole(buf)
        if rep > 0 { caseT.append(a); rotT.append(r); memT.append(b); scalarT.append(c) }
      }
      let m = median(caseT)
      add(BenchCase(name: "decode", dtype: format.name, layout: layout == .neox ? "neox" : "gptj", threads: 1, tokens: 1,
                    medianNs: m, gbps: Double(2 * (qBytes + kBytes)) / m, ratioMemoryPass: median(memT) / m,
                    ratioScalar: median(scalarT) / m, ratioRotationOnly: median(rotT) / m))
    }
  }

  // table_build: cos and sin for 131072 positions x 64 pairs (half layout), float32.
  let n = 131_072
  let bytes = 2 * n * h * 4
  let out = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
  defer { out.deallocate() }
  memoryFill(out, bytes: bytes)  // first touch
  let cosOut = out.assumingMemoryBound(to: Float.self), sinOut = cosOut + n * h
  var caseT: [Double] = [], memT: [Double] = [], memPfT: [Double] = [], scalarT: [Double] = []
  for rep in 0 ... reps {
    let a = timeIt { tables[0].fillTable(layout: .half, positions: .range(start: 0), count: n, scale: 1, cos: cosOut, sin: sinOut) }
    let b = timeIt { memoryFill(out, bytes: bytes) }
    let bp = timeIt { memoryFill(out, bytes: bytes, prefetch: true) }
    let c = periods.withUnsafeBufferPointer { pp in
      timeIt { for p in 0 ..< n { scalarAngles(pp.baseAddress!, h, Int64(p), cosOut + p * h, sinOut + p * h) } }
    }
    blackHole(out)
    if rep > 0 { caseT.append(a); memT.append(b); memPfT.append(bp); scalarT.append(c) }
  }
  let m = median(caseT)
  add(BenchCase(name: "table_build", dtype: "f32", layout: "half", threads: 1, tokens: n, medianNs: m,
                gbps: Double(bytes) / m, ratioMemoryPass: median(memT) / m,
                ratioMemoryPassPrefetched: median(memPfT) / m, ratioScalar: median(scalarT) / m,
                ratioRotationOnly: nil))
  return BenchReport(machine: machineName(), build: benchBuild(), cases: cases)
}
