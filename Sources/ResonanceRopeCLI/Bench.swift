// `resonance-rope bench`: the kernel benchmark (Sources/ResonanceRopeBench) as a table or JSON.
import ArgumentParser
import ResonanceRopeBench

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the rotation and table kernels against a memory pass and a scalar implementation.",
    discussion: """
      Cases: prefill (4096 tokens x 32 heads x 128, f32/f16/bf16, neox/gptj, 1 and 2 threads), \
      far_positions (prefill at positions from 2^40), prefill_plain_rope (without Resonance), \
      prefill_position_array (an array of random positions), in_cache (32 tokens, 512 KiB, \
      L2-resident), decode (1 token, q 32 + k 8 heads, angles included), table_build (131072 \
      positions x 64 pairs), create (handle creation, d = 64 / 128), gap (feature-gap analysis). \
      mem = the fastest in-place memory pass over the same bytes (compiled like each kernel \
      copy, plain and with a software prefetch) / case time: 1.0 = at the memory limit; \
      plain and +pf = the best copy's plain and prefetched passes alone; scalar = a scalar libm \
      implementation's time / case time; rot-only (decode) = rotation with precomputed cos/sin / \
      decode time; no-hint (4096-token cases, table_build) = time as run / time with the kernels' \
      memory hint switched off (the row prefetch of rotations, the streaming stores of table \
      fills; below 1: the hint pays on this machine). Use a release build: debug timings mean \
      nothing.
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
      root.set("kernels", report.kernels)
      root.set("row_prefetch", report.rowPrefetch)
      let cases = report.cases.map { c -> String in
        var o = JSONObject()
        o.set("name", c.name); o.set("dtype", c.dtype); o.set("layout", c.layout)
        o.set("threads", c.threads); o.set("tokens", c.tokens); o.set("median_ns", c.medianNs)
        o.set("gbps", c.gbps); o.set("ratio_memory_pass", c.ratioMemoryPass); o.set("ratio_scalar", c.ratioScalar)
        if let r = c.ratioPlainPass { o.set("ratio_memory_pass_plain", r) }
        if let r = c.ratioMemoryPassPrefetched { o.set("ratio_memory_pass_prefetched", r) }
        if let f = c.fastestMemoryPass { o.set("fastest_memory_pass", f) }
        if !c.ratioMemoryPasses.isEmpty {
          var passes = JSONObject()
          for (name, r) in c.ratioMemoryPasses { passes.set(name, r) }
          o.raw("ratio_memory_passes", passes.text)
        }
        if let r = c.ratioRotationOnly { o.set("ratio_rotation_only", r) }
        if let r = c.ratioNear { o.set("ratio_near", r) }
        if let r = c.ratioWithoutMemoryHint { o.set("ratio_without_memory_hint", r) }
        if let l = c.rowPrefetchLearned { o.set("row_prefetch_learned", l) }
        return o.text
      }
      root.raw("cases", "[" + cases.joined(separator: ", ") + "]")
      print(root.text)
      return
    }
    print("machine: \(report.machine); build: \(report.build); kernels: \(report.kernels); row prefetch learned: \(report.rowPrefetch)")
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
    let head = pad(c.name, 24) + pad(c.dtype, 5) + pad(c.layout, 8) + pad("\(c.threads)", 3) + pad("\(c.tokens)", 8)
      + pad(fmt(c.medianNs / 1000, 3) + " us", 15)
    if c.gbps == 0 { return head }
    return head + pad(fmt(c.gbps) + " GB/s", 13) + pad("mem " + fmt(c.ratioMemoryPass), 10)
      + pad(c.ratioPlainPass.map { "plain " + fmt($0) } ?? "", 12) + pad(c.ratioMemoryPassPrefetched.map { "+pf " + fmt($0) } ?? "", 10)
      + pad("scalar " + fmt(c.ratioScalar, 1), 13)
      + (c.ratioRotationOnly.map { "rot-only " + fmt($0) } ?? "") + (c.ratioNear.map { "near/far " + fmt($0) + " " } ?? "")
      + (c.ratioWithoutMemoryHint.map { "no-hint " + fmt($0) } ?? "")
  }

  static func summary(_ r: BenchReport) -> String {
    var lines = ["targets (ratios to the fastest memory pass of the same run):"]
    func check(_ what: String, _ value: Double, _ ok: Bool) { lines.append("  \(what): \(fmt(value)) \(ok ? "met" : "NOT met")") }
    for c in r.cases {
      let what = "\(c.name) \(c.dtype) \(c.layout) \(c.threads) thread(s)"
      switch c.name {
      case "prefill" where c.dtype == "f32", "prefill_plain_rope", "prefill_position_array":
        check("\(what) >= 0.85", c.ratioMemoryPass, c.ratioMemoryPass >= 0.85)
      case "prefill": check("\(what) >= 0.7", c.ratioMemoryPass, c.ratioMemoryPass >= 0.7)
      case "in_cache", "in_cache_plain_rope": check("\(what) >= 0.5", c.ratioMemoryPass, c.ratioMemoryPass >= 0.5)
      case "table_build": check("\(what) >= 0.6", c.ratioMemoryPass, c.ratioMemoryPass >= 0.6)
      case "far_positions": if let n = c.ratioNear { check("\(what) far time within 10% of near", 1 / n, abs(1 / n - 1) <= 0.1) }
      case "decode" where c.dtype == "f32": if let rot = c.ratioRotationOnly { check("\(what) <= 2x rotation only", 1 / rot, 1 / rot <= 2) }
      case "create_resonance" where c.tokens == 128: check("create_resonance d=128 <= 1 ms (ms)", c.medianNs / 1e6, c.medianNs <= 1e6)
      default: break
      }
    }
    return lines.joined(separator: "\n")
  }
}
