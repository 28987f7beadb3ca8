// `resonance-rope gap`: the per-pair out-of-distribution feature gap, RoPE vs Resonance RoPE.
import ArgumentParser
import Glibc
import ResonanceRopeCore

struct Gap: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Feature gap per pair for training length L and test length L2, RoPE and Resonance side by side.",
    discussion: """
      gap_i = max over n in [L, L2) of min over m in [0, L) of the chord |f(n)_i - f(m)_i| between \
      the pair's rotation features. Both variants are always computed (so this command has \
      no Resonance flag). The critical pair is the first whose wavelength (before rounding) \
      is >= L ("none" in the text, null in JSON, when every pair is pre-critical). Runs longer \
      than about 2 s report their progress on standard error.
      """)

  @OptionGroup var rope: RopeOptions
  @Option(parsing: .unconditional, help: "Training length L.") var trainLength: Int64
  @Option(parsing: .unconditional, help: "Test length L2 > L.") var testLength: Int64
  @Flag(help: "Print one JSON object.") var json = false
  @Option(help: "Also draw gap against pair index (log scale) into this SVG file.") var svg: String?

  func run() throws {
    var config = try rope.config(resonance: false)
    let table = try FrequencyTable(config)
    // Only the RoPE side is scanned (periodic Resonance pairs are closed form): about 25 ns per
    // pair and position (FeatureGap.maxScanWork). Runs estimated above 2 s report on stderr.
    let estimate = Double(table.pairCount) * (Double(trainLength) + Double(testLength)) * 25e-9
    let progress = Progress(enabled: estimate > 2)
    progress.say("gap: \(table.pairCount) pairs to scan, L = \(trainLength), L' = \(testLength): about \(fmt1(estimate)) s")
    var tenths = 0
    let plain = try table.featureGaps(trainLength: trainLength, testLength: testLength, progress: { done, total in
      guard total > 0, done * 10 / total > tenths else { return }
      tenths = done * 10 / total
      progress.say("gap: \(done)/\(total) pairs scanned after \(fmt1(progress.elapsed)) s")
    })
    config.resonance = true
    let resTable = try FrequencyTable(config)
    let res = try resTable.featureGaps(trainLength: trainLength, testLength: testLength)
    progress.say("gap: done after \(fmt1(progress.elapsed)) s")
    let critical = plain.criticalPair < config.pairCount ? plain.criticalPair : nil
    if json {
      var o = JSONObject()
      o.set("rotary_dim", config.rotaryDim)
      o.set("base", config.base)
      o.set("scaling", config.scaling.name)
      o.set("train_length", trainLength)
      o.set("test_length", testLength)
      if let critical { o.set("critical_pair", critical) } else { o.setNull("critical_pair") }
      o.set("pre_critical_pairs", plain.preCriticalPairs)
      o.set("periodic_pairs", res.periodicPairs)
      o.set("max_gap_rope", plain.maxGap)
      o.set("max_gap_resonance", res.maxGap)
      o.set("max_pre_critical_gap_rope", plain.maxPreCriticalGap)
      o.set("max_pre_critical_gap_resonance", res.maxPreCriticalGap)
      let pairs = (0 ..< config.pairCount).map { i -> String in
        var p = JSONObject()
        p.set("index", i)
        p.set("wavelength", resTable.wavelengths[i])
        p.set("resonance_wavelength", resTable.resonanceWavelengths[i])
        p.set("gap_rope", plain.gaps[i])
        p.set("gap_resonance", res.gaps[i])
        return p.text
      }
      o.raw("pairs", "[" + pairs.joined(separator: ", ") + "]")
      print(o.text)
    } else {
      print("d = \(config.rotaryDim), base = \(config.base), scaling \(config.scaling.name), L = \(trainLength), L' = \(testLength)")
      let c = critical.map { "critical pair \($0); \(plain.preCriticalPairs) pre-critical pairs" }
        ?? "critical pair none: all \(config.pairCount) pairs are pre-critical"
      print("\(c); \(res.periodicPairs) exactly periodic under Resonance")
      print("max gap over pre-critical pairs: RoPE \(plain.maxPreCriticalGap), Resonance \(res.maxPreCriticalGap)")
      print("max gap over all pairs:          RoPE \(plain.maxGap), Resonance \(res.maxGap)")
      print(pad("pair", 6) + pad("wavelength", 22) + pad("rounded", 10) + pad("gap RoPE", 24) + "gap Resonance")
      for i in 0 ..< config.pairCount {
        print(pad(String(i), 6) + pad(String(resTable.wavelengths[i]), 22) + pad(String(resTable.resonanceWavelengths[i]), 10)
              + pad(String(plain.gaps[i]), 24) + String(res.gaps[i]))
      }
    }
    if let svg {
      try writeOutput(svg, gapSVG(rope: plain.gaps, resonance: res.gaps, critical: plain.criticalPair,
                                  title: "Feature gap per pair: d = \(config.rotaryDim), base = \(fmt(config.base)), L = \(trainLength), L' = \(testLength)"))
    }
  }
}

/// Progress lines on standard error (stdout keeps the result alone), with the elapsed time.
struct Progress {
  let enabled: Bool
  private let t0 = Progress.now()
  init(enabled: Bool) { self.enabled = enabled }
  static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }
  var elapsed: Double { Progress.now() - t0 }
  func say(_ line: String) {
    guard enabled else { return }
    var text = line + "\n"
    _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }   // fd 2: Glibc's `stderr` is not Sendable
  }
}

func fmt1(_ x: Double) -> String { String(Double((x * 10).rounded()) / 10) }

func fmt(_ x: Double) -> String {
  x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
}

/// A self-contained SVG line chart: gap (log10 scale) against pair index for both variants.
/// Zero gaps cannot sit on a log axis; they are drawn on the floor line, labelled "0".
func gapSVG(rope: [Double], resonance: [Double], critical: Int, title: String) -> String {
  let w = 760.0, h = 440.0, left = 78.0, right = 24.0, top = 44.0, bottom = 62.0
  let pw = w - left - right, ph = h - top - bottom
  let positive = (rope + resonance).filter { $0 > 0 }
  let hiExp = (log10(positive.max() ?? 1)).rounded(.up)
  var loExp = (log10(positive.min() ?? 1e-6)).rounded(.down) - 1
  if loExp > hiExp - 2 { loExp = hiExp - 2 }
  let floorExp = loExp
  let n = max(rope.count, 2)
  func x(_ i: Int) -> Double { left + pw * Double(i) / Double(n - 1) }
  func y(_ v: Double) -> Double {
    let e = v > 0 ? max(log10(v), floorExp) : floorExp
    return top + ph * (hiExp - e) / (hiExp - floorExp)
  }
  func f(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
  var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n"
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
  s += "<text x=\"\(f(w / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(title)</text>\n"
  // Grid and y axis labels, one per decade.
  var e = floorExp
  while e <= hiExp {
    let yy = top + ph * (hiExp - e) / (hiExp - floorExp)
    s += "<line x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(left + pw))\" y2=\"\(f(yy))\" stroke=\"#e3e3e3\"/>\n"
    let label = e == floorExp ? "0" : "1e\(Int(e))"
    s += "<text x=\"\(f(left - 8))\" y=\"\(f(yy + 4))\" text-anchor=\"end\">\(label)</text>\n"
    e += 1
  }
  // x axis ticks.
  let step = max(1, Int((Double(n) / 8).rounded(.up)))
  for i in stride(from: 0, to: n, by: step) {
    s += "<line x1=\"\(f(x(i)))\" y1=\"\(f(top + ph))\" x2=\"\(f(x(i)))\" y2=\"\(f(top + ph + 5))\" stroke=\"black\"/>\n"
    s += "<text x=\"\(f(x(i)))\" y=\"\(f(top + ph + 20))\" text-anchor=\"middle\">\(i)</text>\n"
  }
  s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"black\"/>\n"
  s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(h - 18))\" text-anchor=\"middle\">pair index i (wavelength grows with i)</text>\n"
  s += "<text transform=\"translate(18 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">feature gap (chord distance, log scale)</text>\n"
  if critical < rope.count {
    let cx = x(critical)
    s += "<line x1=\"\(f(cx))\" y1=\"\(f(top))\" x2=\"\(f(cx))\" y2=\"\(f(top + ph))\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>\n"
    s += "<text x=\"\(f(cx + 6))\" y=\"\(f(top + ph - 10))\" text-anchor=\"start\" fill=\"#555\">critical pair \(critical)</text>\n"
  }
  func series(_ v: [Double], _ color: String, _ dash: String) -> String {
    let pts = v.indices.map { "\(f(x($0))),\(f(y(v[$0])))" }.joined(separator: " ")
    var out = "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
    for i in v.indices { out += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(v[i])))\" r=\"2.5\" fill=\"\(color)\"/>\n" }
    return out
  }
  s += series(rope, "#d62728", "")
  s += series(resonance, "#1f77b4", " stroke-dasharray=\"5 3\"")
  // Legend.
  let lx = left + 14, ly = top + 14
  s += "<rect x=\"\(f(lx - 6))\" y=\"\(f(ly - 12))\" width=\"210\" height=\"46\" fill=\"white\" stroke=\"#bbb\"/>\n"
  s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 26))\" y2=\"\(f(ly))\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
  s += "<text x=\"\(f(lx + 34))\" y=\"\(f(ly + 4))\">RoPE</text>\n"
  s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly + 20))\" x2=\"\(f(lx + 26))\" y2=\"\(f(ly + 20))\" stroke=\"#1f77b4\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n"
  s += "<text x=\"\(f(lx + 34))\" y=\"\(f(ly + 24))\">Resonance RoPE (0 on floor)</text>\n"
  s += "</svg>\n"
  return s
}
