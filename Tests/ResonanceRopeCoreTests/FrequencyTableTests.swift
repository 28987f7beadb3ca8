// A frequency table against values written out by hand (the former placeholder smoke test).
import Testing
@testable import ResonanceRopeCore

/// d = 8, base 10000: theta_i = 10000^(-2i/8) = 10^-i, wavelengths 2 pi 10^i, Resonance rounds
/// them to 6, 63, 628, 6283 (2 pi = 6.283185307...). References are decimal literals, not the
/// library's own formulas.
@Test func smallTableMatchesHandValues() throws {
  let plain = try FrequencyTable(RopeConfig(rotaryDim: 8))
  #expect(plain.pairCount == 4)
  let theta: [Double] = [1, 0.1, 0.01, 0.001]
  for i in 0 ..< 4 {
    #expect(abs(plain.invFreq[i] - theta[i]) <= 2 * theta[i].ulp, "theta_\(i) = \(plain.invFreq[i])")
    let lambda = 6.283185307179586 * [1.0, 10, 100, 1000][i]
    #expect(abs(plain.wavelengths[i] - lambda) <= 4 * lambda.ulp, "lambda_\(i) = \(plain.wavelengths[i])")
  }
  let resonance = try FrequencyTable(RopeConfig(rotaryDim: 8, resonance: true))
  #expect(resonance.resonanceWavelengths == [6, 63, 628, 6283])
  // Resonance frequencies are 2 pi / rounded wavelength.
  for (i, p) in [6.0, 63, 628, 6283].enumerated() {
    #expect(abs(resonance.invFreq[i] - 6.283185307179586 / p) <= 2 * (6.283185307179586 / p).ulp)
  }
}
