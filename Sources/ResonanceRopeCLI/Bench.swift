// `resonance-rope bench`: the kernel benchmark (Sources/ResonanceRopeBench) as a table or JSON.
import ArgumentParser
import ResonanceRopeBench

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the rotation and table kernels against a memory pass and a scalar implementation.",
    discussion: """
      Cases: prefill (4096 tokens x 32 heads x 128, f32/f16/bf16, neox/gptj, 1 and 2 threads), \
      far_positions (prefill at positions from 2^40), prefill_plain_rope (f32 prefill without \
      Resonance: every angle from the double polynomial), prefill_position_array (f32 prefill at \
      an array of random positions), decode (1 token, q 32 + k 8 heads, angles \
      included), table_build (131072 positions x 64 pairs). ratio_memory_pass = in-place memory \
      pass time / case time (1.0 = memory speed); ratio_scalar = scalar libm implementation time / \
      case time; ratio_memory_pass_prefetched (prefill, far_positions, table_build) = the same pass \
      with the kernels' software prefetch / case time (the stricter yardstick: the plain loop \
      does not reach the memory limit on one core); ratio_rotation_only (decode) = rotation with \
      precomputed cos/sin / decode time. \
      Use a release build: debug timings mean nothing.
      """)

  @Flag(help: "Print one JSON object instead of the table.") var json = false
  @Option(help: "Timed repetitions per case (medians are reported).") var reps: Int = 5

  func run() throws {
    guard reps >= 1, reps <= 100 else { throw ValidationError("--reps must be in 1 ... 100") }
    let report = try runBenchmarks(reps: reps, progress: { c in
      if !json { print(Self.row(c)) }
    })
    if json {
      var root = JSONObject()
      root.set("machine", report.machine)
      root.set("build", report.build)
      let cases = report.cases.map { c -> String in
        var o = JSONObject()
        o.set("name", c.name); o.set("dtype", c.dtype); o.set("layout", c.layout)
        o.set("threads", c.threads); o.set("tokens", c.tokens); o.set("median_ns", c.medianNs)
        o.set("gbps", c.gbps); o.set("ratio_memory_pass", c.ratioMemoryPass); o.set("ratio_scalar", c.ratioScalar)
        if let r = c.ratioMemoryPassPrefetched { o.set("ratio_memory_pass_prefetched", r) }
        if let r = c.ratioRotationOnly { o.set("ratio_rotation_only", r) }
        if let r = c.ratioNear { o.set("ratio_near", r) }
        return o.text
      }
      root.raw("cases", "[" + cases.joined(separator: ", ") + "]")
      print(root.text)
      return
    }
    print("machine: \(report.machine); build: \(report.build)")
    print(Self.summary(report))
  }

  /// `s` left-aligned in a column of n characters and at least one space (a longer value shifts
  /// the rest of its row instead of running into the next column).
  static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
  static func fmt(_ x: Double, _ digits: Int = 2) -> String {
    var p = 1.0
    for _ in 0 ..< digits { p *= 10 }
    let r = (x * p).rounded() / p
    return r.description
  }

  static func row(_ c: BenchCase) -> String {
    // Widths: the longest case name (prefill_position_array, 22) and the widest value of each column.
    pad(c.name, 24) + pad(c.dtype, 6) + pad(c.layout, 6) + pad("\(c.threads)", 4) + pad("\(c.tokens)", 8)
      + pad(fmt(c.medianNs / 1000, 3) + " us", 14) + pad(fmt(c.gbps) + " GB/s", 13)
      + pad("mem " + fmt(c.ratioMemoryPass), 10) + pad(c.ratioMemoryPassPrefetched.map { "mem+pf " + fmt($0) } ?? "", 13)
      + pad("scalar " + fmt(c.ratioScalar, 1), 14)
      + (c.ratioRotationOnly.map { "rot-only " + fmt($0) } ?? "") + (c.ratioNear.map { "near/far " + fmt($0) } ?? "")
  }

  static func summary(_ r: BenchReport) -> String {
    func find(_ name: String, _ dtype: String, _ layout: String, _ threads: Int) -> BenchCase? {
      r.cases.first { $0.name == name && $0.dtype == dtype && $0.layout == layout && $0.threads == threads }
    }
    var lines = ["targets:"]
    for layout in ["neox", "gptj"] {
      if let p = find("prefill", "f32", layout, 1) {
        lines.append("  prefill f32 \(layout) 1 thread >= 0.85 of the memory pass: \(fmt(p.ratioMemoryPass)) \(p.ratioMemoryPass >= 0.85 ? "met" : "NOT met")")
      }
      if let dcs = find("decode", "f32", layout, 1), let rot = dcs.ratioRotationOnly {
        lines.append("  decode f32 \(layout) <= 2x rotation only: \(fmt(1 / rot))x \(1 / rot <= 2 ? "met" : "NOT met")")
      }
      for threads in [1, 2] {
        if let far = find("far_positions", "f32", layout, threads), let r = far.ratioNear {
          let x = 1 / r
          lines.append("  far positions f32 \(layout) \(threads) thread(s) within 10% of near: \(fmt(x)) \(abs(x - 1) <= 0.1 ? "met" : "NOT met")")
        }
      }
    }
    if let tb = r.cases.first(where: { $0.name == "table_build" }) {
      lines.append("  table build >= 0.5 of a memory fill: \(fmt(tb.ratioMemoryPass)) \(tb.ratioMemoryPass >= 0.5 ? "met" : "NOT met")")
    }
    return lines.joined(separator: "\n")
  }
}


