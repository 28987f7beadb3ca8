// Scalings against an independent float64 transcription of Hugging Face transformers'
// `_compute_*_parameters` (written here from the formulas, not calling the code under test).
import Glibc
import Testing
@testable import ResonanceRopeCore

// MARK: - Fixtures

/// Reads Tests/Fixtures/<name> relative to this file.
func readFixture(_ name: String, file: String = #filePath) -> String? {
  var dir = file
  for _ in 0 ..< 2 { if let slash = dir.lastIndex(of: "/") { dir = String(dir[..<slash]) } }
  guard let f = fopen(dir + "/Fixtures/" + name, "rb") else { return nil }
  defer { fclose(f) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 4096)
  while true {
    let n = fread(&chunk, 1, chunk.count, f)
    if n == 0 { break }
    bytes.append(contentsOf: chunk[0 ..< n])
  }
  return String(decoding: bytes, as: UTF8.self)
}

let fixtureNames = [
  "deepseek-v3", "gpt-j-6b", "gpt-oss-20b", "llama-2-7b-hf", "llama-3.1-8b", "phi-2",
  "phi-3.5-mini-instruct", "qwen2.5-7b-instruct-yarn",
]

// MARK: - Reference (float64 transcription of transformers)

func refDefault(_ d: Int, _ base: Double) -> [Double] {
  (0 ..< d / 2).map { 1.0 / pow(base, Double(2 * $0) / Double(d)) }
}

func refMscale(_ s: Double, _ m: Double = 1) -> Double { s <= 1 ? 1.0 : 0.1 * m * log(s) + 1.0 }

func refYarn(d: Int, base: Double, factor: Double, original: Double, betaFast: Double = 32, betaSlow: Double = 1,
             truncate: Bool = true, mscale: Double? = nil, mscaleAllDim: Double? = nil)
  -> (inv: [Double], attention: Double, low: Double, high: Double)
{
  var attention = refMscale(factor)
  if let m = mscale, let a = mscaleAllDim, m != 0, a != 0 { attention = refMscale(factor, m) / refMscale(factor, a) }
  func corr(_ rot: Double) -> Double { Double(d) * log(original / (rot * 2 * Double.pi)) / (2 * log(base)) }
  var low = corr(betaFast), high = corr(betaSlow)
  if truncate { low = floor(low); high = ceil(high) }
  low = max(low, 0); high = min(high, Double(d - 1))
  var hi2 = high
  if low == hi2 { hi2 += 0.001 }
  let extrap = refDefault(d, base)
  var inv: [Double] = []
  for i in 0 ..< d / 2 {
    let ramp = min(max((Double(i) - low) / (hi2 - low), 0), 1)
    let e = 1 - ramp
    let interp = extrap[i] / factor
    inv.append(interp * (1 - e) + extrap[i] * e)
  }
  return (inv, attention, low, high)
}

func refLlama3(d: Int, base: Double, factor: Double, low: Double, high: Double, original: Double) -> [Double] {
  let lowWl = original / low, highWl = original / high
  return refDefault(d, base).map { f in
    let wl = 2 * Double.pi / f
    if wl > lowWl { return f / factor }
    if wl < highWl { return f }
    let s = (original / wl - low) / (high - low)
    return (1 - s) * f / factor + s * f
  }
}

func refLongrope(d: Int, base: Double, ext: [Double], factor: Double, original: Double) -> (inv: [Double], attention: Double) {
  let inv = (0 ..< d / 2).map { 1.0 / (ext[$0] * pow(base, Double(2 * $0) / Double(d))) }
  return (inv, factor > 1 ? (1 + log(factor) / log(original)).squareRoot() : 1)
}

func maxRelativeError(_ a: [Double], _ b: [Double]) -> Double {
  guard a.count == b.count else { return .infinity }
  return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / abs($1.1)) }
}

/// Distance in float32 ulps of the reference value (the brief's acceptance bound is 1).
func float32Ulps(_ a: Double, _ ref: Double) -> Double {
  abs(a - ref) / Double(Float(ref).ulp)
}

// MARK: - Every fixture model against the reference

struct FixtureCase {
  var name: String
  var sequenceLength: Int64?
  var label: String
  var reference: (inv: [Double], attention: Double)
}

func fixtureCases() -> [FixtureCase] {
  let phiText = readFixture("hf_configs/phi-3.5-mini-instruct.json") ?? ""
  var shortF: [Double] = [], longF: [Double] = []
  if case .object(let o)? = try? JSONValue.parse(phiText), let s = o["rope_scaling"]?.objectValue {
    if case .array(let a)? = s["short_factor"] { shortF = a.compactMap { if case .number(let x, _) = $0 { x } else { nil } } }
    if case .array(let a)? = s["long_factor"] { longF = a.compactMap { if case .number(let x, _) = $0 { x } else { nil } } }
  }
  let ds = refYarn(d: 64, base: 10000, factor: 40, original: 4096, mscale: 1, mscaleAllDim: 1)
  let oss = refYarn(d: 64, base: 150000, factor: 32, original: 4096, truncate: false)
  let qwen = refYarn(d: 128, base: 1_000_000, factor: 4, original: 32768)
  return [
    FixtureCase(name: "deepseek-v3", label: "yarn mscale", reference: (ds.inv, ds.attention)),
    FixtureCase(name: "gpt-j-6b", label: "none (gptj)", reference: (refDefault(64, 10000), 1)),
    FixtureCase(name: "gpt-oss-20b", label: "yarn truncate=false", reference: (oss.inv, oss.attention)),
    FixtureCase(name: "llama-2-7b-hf", label: "none", reference: (refDefault(128, 10000), 1)),
    FixtureCase(name: "llama-3.1-8b", label: "llama3",
                reference: (refLlama3(d: 128, base: 500000, factor: 8, low: 1, high: 4, original: 8192), 1)),
    FixtureCase(name: "phi-2", label: "none partial 32/80", reference: (refDefault(32, 10000), 1)),
    FixtureCase(name: "phi-3.5-mini-instruct", sequenceLength: 4096, label: "longrope short",
                reference: refLongrope(d: 96, base: 10000, ext: shortF, factor: 32, original: 4096)),
    FixtureCase(name: "phi-3.5-mini-instruct", sequenceLength: 131072, label: "longrope long",
                reference: refLongrope(d: 96, base: 10000, ext: longF, factor: 32, original: 4096)),
    FixtureCase(name: "qwen2.5-7b-instruct-yarn", label: "yarn", reference: (qwen.inv, qwen.attention)),
  ]
}

@Suite struct ScalingTests {
  @Test func fixtureModelsMatchReference() throws {
    var lines = ["model                      scaling               resonance  max rel err (inv_freq)  max f32 ulps  attention factor    invFreq == 2pi/round(2pi/ref)"]
    for c in fixtureCases() {
      let text = try #require(readFixture("hf_configs/\(c.name).json"))
      #expect(c.reference.inv.allSatisfy { $0.isFinite && $0 > 0 } && !c.reference.inv.isEmpty, "\(c.label)")
      for resonance in [false, true] {
        let settings = try ropeConfig(fromHFConfigJSON: text, sequenceLength: c.sequenceLength, resonance: resonance)
        let table = try FrequencyTable(settings.config)
        let err = maxRelativeError(table.scaledInvFreq, c.reference.inv)
        let ulps = zip(table.scaledInvFreq, c.reference.inv).map { float32Ulps($0, $1) }.max() ?? .infinity
        #expect(err <= 4e-15, "\(c.name) \(c.label): max relative error \(err)")
        #expect(ulps < 1, "\(c.name): \(ulps) float32 ulps")
        #expect(abs(table.attentionFactor - c.reference.attention) <= 1e-12, "\(c.name): attention \(table.attentionFactor)")
        var exact = 0
        if resonance {
          for (i, ref) in c.reference.inv.enumerated() {
            let period = (2 * Double.pi / ref).rounded(.toNearestOrEven)
            #expect(table.invFreq[i] == 2 * Double.pi / max(1, period), "\(c.name) pair \(i)")
            if table.invFreq[i] == 2 * Double.pi / max(1, period) { exact += 1 }
          }
        } else {
          #expect(table.invFreq == table.scaledInvFreq)
        }
        let row = c.name.padding(27) + c.label.padding(22) + (resonance ? "on" : "off").padding(11)
          + format(err).padding(24) + format(ulps).padding(14) + String(table.attentionFactor).padding(20)
          + (resonance ? "\(exact)/\(c.reference.inv.count)" : "-")
        lines.append(row)
      }
    }
    lines.append("(errors are of the scaled frequencies before Resonance rounding, vs the float64 reference;")
    lines.append(" the last column counts pairs whose Resonance frequency equals 2pi/round(2pi/reference) exactly)")
    let text = lines.joined(separator: "\n") + "\n"
    print(text)
    // The closing note's table, in the (untracked) build folder next to Package.swift.
    var dir = #filePath
    for _ in 0 ..< 3 { if let slash = dir.lastIndex(of: "/") { dir = String(dir[..<slash]) } }
    mkdir(dir + "/.build", 0o755)
    if let f = fopen(dir + "/.build/scaling-table.txt", "w") {
      fputs(text, f)
      fclose(f)
    }
  }

  @Test func resonanceWavelengthsAreIntegers() throws {
    let text = try #require(readFixture("hf_configs/llama-3.1-8b.json"))
    let table = try FrequencyTable(try ropeConfig(fromHFConfigJSON: text, sequenceLength: nil, resonance: true).config)
    for (i, f) in table.invFreq.enumerated() {
      #expect(Double(table.resonanceWavelengths[i]) == (2 * Double.pi / table.scaledInvFreq[i]).rounded())
      #expect(abs(2 * Double.pi / f - Double(table.resonanceWavelengths[i])) <= 1e-9 * Double(table.resonanceWavelengths[i]))
    }
  }

  // MARK: Simple scalings

  @Test func linearNtkDynamic() throws {
    let d = 64, base = 10000.0
    let lin = try scaledFrequencies(rotaryDim: d, base: base, scaling: .linear(factor: 4))
    #expect(maxRelativeError(lin.invFreq, refDefault(d, base).map { $0 / 4 }) <= 2e-16)
    let ntk = try scaledFrequencies(rotaryDim: d, base: base, scaling: .ntk(factor: 4))
    #expect(maxRelativeError(ntk.invFreq, refDefault(d, base * pow(4, Double(d) / Double(d - 2)))) <= 4e-15)
    // Dynamic: at or below max positions the bracket is 1 (plain RoPE); above, HF's formula.
    let atInit = try scaledFrequencies(rotaryDim: d, base: base, scaling: .dynamic(factor: 2, maxPositions: 4096, sequenceLength: 100))
    #expect(maxRelativeError(atInit.invFreq, refDefault(d, base)) <= 4e-16)
    let long = try scaledFrequencies(rotaryDim: d, base: base, scaling: .dynamic(factor: 2, maxPositions: 4096, sequenceLength: 16384))
    let b2 = base * pow(2.0 * 16384 / 4096 - 1, Double(d) / Double(d - 2))
    #expect(maxRelativeError(long.invFreq, refDefault(d, b2)) <= 4e-15)
    #expect(long.attentionFactor == 1)
  }

  @Test func dimensionTwo() throws {
    for s in [RopeScaling.ntk(factor: 2), .dynamic(factor: 2, maxPositions: 10, sequenceLength: 20)] {
      #expect(throws: RopeError.self) { try scaledFrequencies(rotaryDim: 2, base: 10000, scaling: s) }
      do { _ = try scaledFrequencies(rotaryDim: 2, base: 10000, scaling: s) } catch { #expect(error.kind == .invalidDimension) }
    }
    // YaRN with d = 2 and a huge original length: low == high == 1 (clamped to d - 1), ramp + 0.001.
    let p = YarnParameters(factor: 8, originalMaxPositions: 4_000_000)
    let y = try scaledFrequencies(rotaryDim: 2, base: 10000, scaling: .yarn(p))
    let r = refYarn(d: 2, base: 10000, factor: 8, original: 4_000_000)
    #expect(r.low == 1 && r.high == 1)
    #expect(y.correctionRange?.low == 1 && y.correctionRange?.high == 1)
    #expect(y.invFreq == r.inv)
    #expect(y.invFreq == [1])  // pair 0 is below low: pure extrapolation
  }

  // MARK: YaRN edges

  @Test func yarnLowEqualsHigh() throws {
    // With beta_fast > beta_slow, floor(corr(fast)) < ceil(corr(slow)) unless the clamp to d - 1
    // bites: d = 8, base 1e4, L = 6e9 gives corr(32) = 7.47 (floor 7) and corr(1) = 8.98 (ceil 9,
    // clamped to 7), so low == high == 7 and the ramp uses high + 0.001.
    let p = YarnParameters(factor: 16, originalMaxPositions: 6_000_000_000)
    let y = try scaledFrequencies(rotaryDim: 8, base: 10000, scaling: .yarn(p))
    let r = refYarn(d: 8, base: 10000, factor: 16, original: 6e9)
    #expect(r.low == 7 && r.high == 7)
    #expect(y.invFreq == r.inv)
    #expect(abs(y.attentionFactor - (0.1 * log(16.0) + 1)) <= 1e-15)
  }

  @Test func yarnTruncateOff() throws {
    let p = YarnParameters(factor: 32, originalMaxPositions: 4096, truncate: false)
    let y = try scaledFrequencies(rotaryDim: 64, base: 150000, scaling: .yarn(p))
    let r = refYarn(d: 64, base: 150000, factor: 32, original: 4096, truncate: false)
    #expect(y.correctionRange?.low == r.low && y.correctionRange?.high == r.high)
    #expect(r.low != r.low.rounded() && r.high != r.high.rounded())
    #expect(maxRelativeError(y.invFreq, r.inv) <= 4e-16)
  }

  @Test func yarnFactorAtMostOne() throws {
    for f in [1.0, 0.5] {
      let y = try scaledFrequencies(rotaryDim: 64, base: 10000, scaling: .yarn(YarnParameters(factor: f, originalMaxPositions: 4096)))
      #expect(y.attentionFactor == 1)
      let r = refYarn(d: 64, base: 10000, factor: f, original: 4096)
      #expect(maxRelativeError(y.invFreq, r.inv) <= 4e-16)
      if f == 1 { #expect(maxRelativeError(y.invFreq, refDefault(64, 10000)) <= 4e-16) }
    }
    let lin = try scaledFrequencies(rotaryDim: 8, base: 10000, scaling: .linear(factor: 0.5))
    #expect(lin.invFreq[0] == 2)
  }

  @Test func yarnMscaleVariants() throws {
    // mscale == 0 counts as absent (transformers' `if mscale and mscale_all_dim`).
    let zero = try scaledFrequencies(rotaryDim: 64, base: 10000, scaling: .yarn(YarnParameters(
      factor: 40, originalMaxPositions: 4096, mscale: 0, mscaleAllDim: 1)))
    #expect(abs(zero.attentionFactor - refMscale(40)) <= 1e-15)
    let ds2 = try scaledFrequencies(rotaryDim: 64, base: 10000, scaling: .yarn(YarnParameters(
      factor: 40, originalMaxPositions: 4096, mscale: 0.707, mscaleAllDim: 1)))
    #expect(abs(ds2.attentionFactor - refMscale(40, 0.707) / refMscale(40, 1)) <= 1e-15)
  }

  // MARK: llama3 band edges

  /// A low/high frequency factor x with original / x == 2 pi exactly, so pair 0 (theta = 1,
  /// wavelength 2 pi) sits exactly on a band edge.
  func edgeFactor(original: Double) -> Double? {
    var x = original / (2 * Double.pi)
    for _ in 0 ..< 64 {
      let w = original / x
      if w == 2 * Double.pi { return x }
      x = w < 2 * Double.pi ? x.nextDown : x.nextUp
    }
    return nil
  }

  @Test func llama3PairOnLowFrequencyEdge() throws {
    let original = 8192.0
    let low = try #require(edgeFactor(original: original))
    let high = low * 4
    #expect(2 * Double.pi / refDefault(8, 10000)[0] == original / low)  // exactly on the edge
    let p = Llama3Parameters(factor: 8, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: 8192)
    let got = try scaledFrequencies(rotaryDim: 8, base: 10000, scaling: .llama3(p)).invFreq
    let ref = refLlama3(d: 8, base: 10000, factor: 8, low: low, high: high, original: original)
    #expect(got == ref)
    // On the edge (not strictly above it) transformers smooths: s = (L / lambda - low) / (high - low).
    let s = (original / (2 * Double.pi) - low) / (high - low)
    #expect(got[0] == (1 - s) * 1 / 8 + s * 1)
  }

  @Test func llama3PairOnHighFrequencyEdge() throws {
    let original = 8192.0
    let high = try #require(edgeFactor(original: original))
    let low = high / 4
    let p = Llama3Parameters(factor: 8, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: 8192)
    let got = try scaledFrequencies(rotaryDim: 8, base: 10000, scaling: .llama3(p)).invFreq
    let ref = refLlama3(d: 8, base: 10000, factor: 8, low: low, high: high, original: original)
    #expect(got == ref)
    let s = (original / (2 * Double.pi) - low) / (high - low)
    #expect(got[0] == (1 - s) * 1 / 8 + s * 1)  // not strictly below: smoothed, s ~ 1
  }

  @Test func llama3ThreeBands() throws {
    let p = Llama3Parameters(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
    let got = try scaledFrequencies(rotaryDim: 128, base: 500000, scaling: .llama3(p)).invFreq
    let theta = refDefault(128, 500000)
    var bands = (low: 0, mid: 0, high: 0)
    for (g, t) in zip(got, theta) {
      if g == t { bands.high += 1 } else if abs(g - t / 8) <= 1e-18 * t { bands.low += 1 } else { bands.mid += 1 }
    }
    #expect(bands.high > 0 && bands.mid > 0 && bands.low > 0)
  }

  // MARK: LongRoPE

  @Test func longRopeSelectionAndFactor() throws {
    let short = [Double](repeating: 1, count: 4), long = [Double](repeating: 2, count: 4)
    func run(_ n: Int64?, factor: Double? = nil) throws(RopeError) -> ScaledFrequencies {
      try scaledFrequencies(rotaryDim: 8, base: 10000, scaling: .longrope(LongRopeParameters(
        shortFactor: short, longFactor: long, factor: factor, originalMaxPositions: 4096, maxPositions: 131072, sequenceLength: n)))
    }
    #expect(try run(nil).invFreq[0] == 1)
    #expect(try run(4096).invFreq[0] == 1)
    #expect(try run(4097).invFreq[0] == 0.5)
    #expect(abs(try run(nil).attentionFactor - (1 + log(32.0) / log(4096.0)).squareRoot()) <= 1e-15)
    #expect(try run(nil, factor: 1).attentionFactor == 1)
    #expect(try run(nil, factor: 0.5).attentionFactor == 1)
  }

  // MARK: Validation: errors, never traps

  @Test func invalidParametersThrow() {
    let bad: [(RopeScaling, RopeErrorKind)] = [
      (.linear(factor: 0), .invalidValue), (.linear(factor: .nan), .invalidValue), (.ntk(factor: -1), .invalidValue),
      (.ntk(factor: .infinity), .invalidValue),
      (.dynamic(factor: 2, maxPositions: 0, sequenceLength: 1), .invalidValue),
      (.dynamic(factor: 2, maxPositions: 10, sequenceLength: -1), .invalidValue),
      (.dynamic(factor: 1e300, maxPositions: 1, sequenceLength: 1 << 40), .invalidValue),  // base' overflows
      (.yarn(YarnParameters(factor: 4, originalMaxPositions: 0)), .invalidValue),
      (.yarn(YarnParameters(factor: 4, originalMaxPositions: 4096, betaFast: 1, betaSlow: 32)), .invalidValue),
      (.yarn(YarnParameters(factor: 4, originalMaxPositions: 4096, betaFast: .nan)), .invalidValue),
      (.yarn(YarnParameters(factor: 4, originalMaxPositions: 4096, mscale: 1, mscaleAllDim: -100)), .invalidValue),
      (.yarn(YarnParameters(factor: -4, originalMaxPositions: 4096)), .invalidValue),
      (.llama3(Llama3Parameters(factor: 8, lowFreqFactor: 4, highFreqFactor: 4, originalMaxPositions: 8192)), .invalidValue),
      (.llama3(Llama3Parameters(factor: 8, lowFreqFactor: 0, highFreqFactor: 4, originalMaxPositions: 8192)), .invalidValue),
      (.llama3(Llama3Parameters(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: -1)), .invalidValue),
      (.longrope(LongRopeParameters(shortFactor: [1, 1, 1], longFactor: [1, 1, 1, 1], factor: nil,
                                    originalMaxPositions: 4096, maxPositions: 8192, sequenceLength: nil)), .invalidDimension),
      (.longrope(LongRopeParameters(shortFactor: [1, 1, 1, 0], longFactor: [1, 1, 1, 1], factor: nil,
                                    originalMaxPositions: 4096, maxPositions: 8192, sequenceLength: nil)), .invalidValue),
      (.longrope(LongRopeParameters(shortFactor: [1, 1, 1, 1], longFactor: [1, 1, 1, 1], factor: nil,
                                    originalMaxPositions: 1, maxPositions: 8192, sequenceLength: nil)), .invalidValue),
      (.frequencyFactors([1, 2]), .invalidDimension),
    ]
    for (s, kind) in bad {
      do {
        _ = try scaledFrequencies(rotaryDim: 8, base: 10000, scaling: s)
        Issue.record("\(s) did not throw")
      } catch {
        #expect(error.kind == kind, "\(s): \(error)")
      }
    }
    // The largest sequence length is finite for factor 2: no error, no trap.
    let huge = try? scaledFrequencies(rotaryDim: 8, base: 10000, scaling: .dynamic(factor: 2, maxPositions: 1, sequenceLength: .max))
    #expect(huge?.invFreq.allSatisfy { $0.isFinite && $0 > 0 } == true)
    for d in [0, -2, 3, RopeConfig.maxDim + 2] {
      #expect(throws: RopeError.self) { try scaledFrequencies(rotaryDim: d, base: 10000, scaling: .none) }
    }
    for b in [1.0, 0.5, .nan, .infinity, -3] {
      #expect(throws: RopeError.self) { try scaledFrequencies(rotaryDim: 8, base: b, scaling: .none) }
    }
  }
}

func format(_ x: Double) -> String {
  if x == 0 { return "0" }
  let e = Int(floor(log10(x)))
  let m = x / pow(10, Double(e))
  let mm = (m * 100).rounded() / 100
  return "\(mm)e\(e)"
}

extension String {
  func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
