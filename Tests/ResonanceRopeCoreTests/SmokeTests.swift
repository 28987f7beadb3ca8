import Testing
@testable import ResonanceRopeCore
@Test func placeholder() throws { let t = try FrequencyTable(RopeConfig(rotaryDim: 8)); #expect(t.pairCount == 4) }
