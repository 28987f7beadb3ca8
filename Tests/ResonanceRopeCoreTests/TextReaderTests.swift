// The two text readers (JSON, GGUF key=value) over bytes: CRLF, combining marks, one UTF-8 rule,
// keys compared by Unicode scalars (issue 13 item 7).
import Testing
@testable import ResonanceRopeCore

@Suite struct TextReaderTests {
  func gguf(_ bytes: [UInt8]) throws(RopeError) -> [(key: String, value: GGUFValue)] { try parseGGUFMetadataText(utf8: bytes) }

  @Test func ggufCRLFLinesReadAsLF() throws {
    let lines = ["general.architecture=llama", "llama.rope.freq_base=500000", "llama.rope.dimension_count=128",
                 "rope_freqs=[1, 2.5]", "llama.name=\"x y\""]
    let crlf = try parseGGUFMetadataText(lines.joined(separator: "\r\n") + "\r\n")
    #expect(crlf.map(\.key) == ["general.architecture", "llama.rope.freq_base", "llama.rope.dimension_count", "rope_freqs", "llama.name"])
    #expect(crlf.map(\.value) == [.string("llama"), .int(500000), .int(128), .floatArray([1, 2.5]), .string("x y")])
    let s = try ropeConfig(fromGGUFMetadata: crlf, sequenceLength: nil, resonance: false)
    #expect(s.config.base == 500000 && s.config.rotaryDim == 128)
  }

  @Test func ggufCombiningMarkAfterEqualsKeepsTheLine() throws {
    // "=" followed by U+0301 is one Character in Swift; the reader splits on the byte '='.
    let p = try parseGGUFMetadataText("general.name=\u{301}llama\u{301}\nllama.rope.freq_base=\u{300}")
    #expect(p.count == 2)
    #expect(p[0].key == "general.name" && p[0].value == .string("\u{301}llama\u{301}"))
    #expect(p[1].value == .string("\u{300}"))
  }

  /// Each reader refuses exactly the byte strings Swift's own UTF-8 validator
  /// (`String(validating:as:)`, the independent reference) refuses, with the same message.
  @Test func oneUTF8RuleForBothReaders() throws {
    let named: [[UInt8]] = [
      [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],  // valid
      [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80],  // overlong
      [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates
      [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98],  // other
    ]
    var rng = SeededRNG(0x5EED_7E47)
    let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
                                0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
    var samples = named
    for _ in 0 ..< 4000 {
      samples.append((0 ..< Int.random(in: 1 ... 5, using: &rng)).map { _ in interesting.randomElement(using: &rng)! })
    }
    var refused = 0
    for body in samples {
      let valid = String(validating: body, as: UTF8.self) != nil
      let json = [0x22] + body + [0x22]  // "body": bytes >= 0x41 hold no quote, backslash or control
      let text = Array("k=".utf8) + body
      var jsonError: RopeError? = nil, ggufError: RopeError? = nil
      do { _ = try JSONValue.parse(utf8: json) } catch { jsonError = error }
      do { _ = try gguf(text) } catch { ggufError = error }
      #expect((jsonError == nil) == valid, "JSON \(body) (seed \(rng.seed))")
      #expect((ggufError == nil) == valid, "GGUF \(body) (seed \(rng.seed))")
      if !valid {
        refused += 1
        #expect(jsonError?.message.contains("invalid UTF-8 at byte") == true, "\(String(describing: jsonError))")
        #expect(ggufError?.message.contains("invalid UTF-8 at byte") == true, "\(String(describing: ggufError))")
      }
    }
    #expect(refused > 100 && refused < samples.count - 100, "the samples must hold both kinds")
  }

  @Test func invalidUTF8OffsetIsTheBadByte() {
    expectThrows(.parse, "line 2: invalid UTF-8 at byte 6") { () throws(RopeError) in _ = try gguf(Array("a=1\nb=".utf8) + [0xFF]) }
    expectThrows(.parse, "invalid UTF-8 at byte 2") { () throws(RopeError) in _ = try JSONValue.parse(utf8: [0x22, 0x41, 0xC0, 0x80, 0x22]) }
  }

  /// RFC 8259 compares member names by code units: canonically equivalent keys are distinct.
  @Test func jsonKeysComparedByScalars() throws {
    for (a, b) in [("\u{E9}", "e\u{301}"), ("\u{212A}", "K"), ("\u{C5}", "\u{212B}")] {
      #expect(a == b, "Swift's String == is canonical equivalence (the premise of this test)")
      let text = "{\"\(a)\": 1, \"\(b)\": 2}"
      guard case .object(let o) = try JSONValue.parse(text) else { Issue.record("not an object"); continue }
      #expect(o.count == 2)
      #expect(o[a] == .number(1, raw: "1") && o[b] == .number(2, raw: "2"), "lookup by scalars: \(text)")
    }
    expectThrows(.parse, "duplicate key") { () throws(RopeError) in _ = try JSONValue.parse("{\"e\u{301}\": 1, \"e\u{301}\": 2}") }
    // Escaped and literal spellings of one scalar are one key.
    expectThrows(.parse, "duplicate key") { () throws(RopeError) in _ = try JSONValue.parse("{\"\\u00e9\": 1, \"\u{E9}\": 2}") }
  }

  @Test func ggufKeysComparedByScalars() throws {
    let p = try parseGGUFMetadataText("general.architecture=llama\nllama.rope.dimension_count=8\nx\u{E9}=1\nxe\u{301}=2")
    _ = try ropeConfig(fromGGUFMetadata: p, sequenceLength: nil, resonance: false)  // distinct: no "given twice"
    expectThrows(.invalidValue, "given twice") { () throws(RopeError) in
      _ = try ropeConfig(fromGGUFMetadata: try parseGGUFMetadataText("general.architecture=llama\nllama.rope.dimension_count=8\nx\u{E9}=1\nx\u{E9}=2"),
                         sequenceLength: nil, resonance: false)
    }
  }
}
