import Glibc
import Testing
@testable import ResonanceRopeCore

/// h_i straight from the definition, O(L * L') per pair, in plain double from the table's
/// inverse frequency: max over n of min over m of |(cos n theta, sin n theta) - (cos m theta, sin m theta)|.
private func bruteForceGaps(_ table: FrequencyTable, trainLength l: Int, testLength lp: Int) -> [Double] {
  (0 ..< table.pairCount).map { i in
    let theta = table.invFreq[i]
    let train = (0 ..< l).map { m in (cos(Double(m) * theta), sin(Double(m) * theta)) }
    var worst = 0.0
    for n in l ..< lp {
      let c = cos(Double(n) * theta), s = sin(Double(n) * theta)
      var best = Double.infinity
      for (cm, sm) in train { best = min(best, ((c - cm) * (c - cm) + (s - sm) * (s - sm)).squareRoot()) }
      worst = max(worst, best)
    }
    return worst
  }
}


@Suite struct FeatureGapTests {
  @Test(arguments: [10.0, 100, 500, 10000, 1e6], [false, true])
  func matchesBruteForce(base: Double, resonance: Bool) throws {
    let table = try FrequencyTable(RopeConfig(rotaryDim: 16, base: base, resonance: resonance))
    let report = try table.featureGaps(trainLength: 64, testLength: 256)
    let brute = bruteForceGaps(table, trainLength: 64, testLength: 256)
    for i in 0 ..< 8 {
      #expect(abs(report.gaps[i] - brute[i]) <= 1e-9, "pair \(i): \(report.gaps[i]) vs \(brute[i])")
    }
  }

  @Test func matchesBruteForceOnOddLengths() throws {
    // Small, odd lengths; includes wavelengths near L and pairs that never wrap.
    for (d, base, l, lp) in [(8, 10.0, 7, 50), (12, 3.0, 1, 9), (16, 10000.0, 100, 173), (32, 50.0, 33, 400)] {
      for resonance in [false, true] {
        let table = try FrequencyTable(RopeConfig(rotaryDim: d, base: base, resonance: resonance))
        let report = try table.featureGaps(trainLength: Int64(l), testLength: Int64(lp))
        let brute = bruteForceGaps(table, trainLength: l, testLength: lp)
        for i in 0 ..< d / 2 { #expect(abs(report.gaps[i] - brute[i]) <= 1e-9, "d \(d) base \(base) L \(l) pair \(i)") }
      }
    }
  }

  @Test func clusteredAnglesMatchBruteForce() throws {
    // Wavelengths within a hair of 2 and 3: the training angles pile up in 2 or 3 tight
    // clusters, so buckets hold ~L/2 entries (the large-bucket sort and binary search paths).
    let theta0 = 1.0, theta1 = pow(100.0, -0.5)  // d = 4, base 100
    let factors = [(2 + 1e-9) * theta0 / (2 * Double.pi), (3 - 1e-7) * theta1 / (2 * Double.pi)]
    let table = try FrequencyTable(RopeConfig(rotaryDim: 4, base: 100, scaling: .frequencyFactors(factors)))
    #expect(abs(table.wavelengths[0] - 2) < 1e-6 && abs(table.wavelengths[1] - 3) < 1e-6)
    let report = try table.featureGaps(trainLength: 200, testLength: 600)
    let brute = bruteForceGaps(table, trainLength: 200, testLength: 600)
    for i in 0 ..< 2 { #expect(abs(report.gaps[i] - brute[i]) <= 1e-9, "pair \(i): \(report.gaps[i]) vs \(brute[i])") }
  }

  // The paper's theorem: a Resonance pair whose integer wavelength fits in the training length
  // repeats every feature it will ever show, so its gap is 0.
  @Test(arguments: [8, 16, 64, 128], [10.0, 500, 10000, 500000])
  func resonancePeriodicPairsHaveZeroGap(d: Int, base: Double) throws {
    for l: Int64 in [16, 64, 100, 1000] {
      let table = try FrequencyTable(RopeConfig(rotaryDim: d, base: base, resonance: true))
      let report = try table.featureGaps(trainLength: l, testLength: 4 * l + 3)
      var periodic = 0
      for i in 0 ..< d / 2 where table.resonanceWavelengths[i] <= l {
        periodic += 1
        #expect(abs(report.gaps[i]) <= 1e-12, "d \(d) base \(base) L \(l) pair \(i)")
      }
      #expect(report.periodicPairs == periodic)
      // Every pre-critical pair (lambda < L) rounds to lambda~ <= L, so Resonance removes all
      // pre-critical gaps.
      #expect(report.preCriticalPairs <= report.periodicPairs)
      #expect(report.maxPreCriticalGap == 0)
    }
  }

  @Test func criticalPairMatchesTheClosedForm() throws {
    // d_extra = 2 ceil((d/2) log_base(L / 2 pi)) (Liu et al. 2023), i.e. critical pair d_extra / 2.
    for (d, base, l) in [(128, 10000.0, Int64(64)), (128, 10000.0, 4096), (64, 500.0, 256), (16, 10.0, 64), (128, 1e6, 32768)] {
      let table = try FrequencyTable(RopeConfig(rotaryDim: d, base: base))
      let report = try table.featureGaps(trainLength: l, testLength: l + 1)
      let x = Double(d / 2) * log(Double(l) / (2 * Double.pi)) / log(base)
      #expect(report.criticalPair == min(d / 2, Int(x.rounded(.up))), "d \(d) base \(base) L \(l)")
      #expect(report.criticalPair == report.preCriticalPairs)  // wavelengths increase with i
    }
    #expect(try FrequencyTable(RopeConfig(rotaryDim: 128)).featureGaps(trainLength: 64, testLength: 256).criticalPair == 17)
    // Every wavelength below L: the critical pair is pairCount.
    let short = try FrequencyTable(RopeConfig(rotaryDim: 8, base: 2)).featureGaps(trainLength: 1000, testLength: 2000)
    #expect(short.criticalPair == 4 && short.preCriticalPairs == 4)
  }

  @Test func ropeAndResonanceSideBySide() throws {
    let (rope, res) = try featureGapComparison(config: RopeConfig(rotaryDim: 64, base: 10000), trainLength: 512, testLength: 2048)
    #expect(rope.periodicPairs == 0 && res.periodicPairs > 0)
    #expect(rope.criticalPair == res.criticalPair && rope.preCriticalPairs == res.preCriticalPairs)
    #expect(rope.maxPreCriticalGap > 0)  // plain RoPE has a gap where Resonance has none
    #expect(res.maxPreCriticalGap == 0)
    for i in 0 ..< res.periodicPairs { #expect(res.gaps[i] == 0) }
    #expect(rope.gaps.allSatisfy { $0 >= 0 && $0 <= 2 } && res.gaps.allSatisfy { $0 >= 0 && $0 <= 2 })
  }

  @Test func badLengthsThrow() throws {
    let t = try FrequencyTable(RopeConfig(rotaryDim: 8))
    expectThrows(.invalidValue, "train_length") { () throws(RopeError) in _ = try t.featureGaps(trainLength: 0, testLength: 10) }
    expectThrows(.invalidValue, "train_length") { () throws(RopeError) in _ = try t.featureGaps(trainLength: -5, testLength: 10) }
    expectThrows(.invalidValue, "test_length") { () throws(RopeError) in _ = try t.featureGaps(trainLength: 10, testLength: 10) }
    expectThrows(.overflow, "train_length") { () throws(RopeError) in
      _ = try t.featureGaps(trainLength: Int64.max - 1, testLength: Int64.max)
    }
    expectThrows(.overflow, "test_length") { () throws(RopeError) in _ = try t.featureGaps(trainLength: 10, testLength: Int64.max) }
    expectThrows(.overflow, "2^24") { () throws(RopeError) in
      _ = try t.featureGaps(trainLength: FeatureGap.maxTrainLength + 1, testLength: FeatureGap.maxTrainLength + 2)
    }
    expectThrows(.invalidValue, "train_length") { () throws(RopeError) in
      _ = try featureGapComparison(config: RopeConfig(rotaryDim: 8), trainLength: 0, testLength: 4)
    }
    expectThrows(.invalidDimension, "rotary_dim") { () throws(RopeError) in
      _ = try featureGapComparison(config: RopeConfig(rotaryDim: 7), trainLength: 4, testLength: 8)
    }
  }
}
