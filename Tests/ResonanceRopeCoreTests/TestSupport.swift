// Helpers shared by the test suites.
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
