// Helpers shared by the test suites.
import Glibc
import Testing
@testable import ResonanceRopeCore

/// Expects `body` to throw a RopeError of `kind` whose message mentions `mentions`.
func expectThrows(_ kind: RopeErrorKind, _ mentions: String, _ body: () throws(RopeError) -> Void,
                  sourceLocation: SourceLocation = #_sourceLocation) {
  do {
    try body()
    Issue.record("expected \(kind) error mentioning '\(mentions)'", sourceLocation: sourceLocation)
  } catch {
    #expect(error.kind == kind, sourceLocation: sourceLocation)
    #expect(error.message.contains(mentions), "\(error.message)", sourceLocation: sourceLocation)
  }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator, so every random test repeats.
/// Each test prints its seed; set RR_TEST_SEED to rerun one with another seed.
struct SeededRNG: RandomNumberGenerator {
  private var state: UInt64
  let seed: UInt64

  init(_ defaultSeed: UInt64, _ test: String = #function) {
    var s = defaultSeed
    if let env = getenv("RR_TEST_SEED"), let v = UInt64(String(cString: env)) { s = v }
    seed = s
    state = s
    print("\(test): seed \(s) (RR_TEST_SEED=\(s) repeats it)")
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
