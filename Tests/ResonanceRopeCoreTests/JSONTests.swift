// The strict JSON reader: values, escapes, refusals, and no trap on any prefix or byte flip.
import Glibc
import Testing
@testable import ResonanceRopeCore

@Suite struct JSONTests {
  func parseError(_ text: String) -> RopeError? {
    do { _ = try JSONValue.parse(text); return nil } catch { return error }
  }

  @Test func values() throws {
    let v = try JSONValue.parse(#" {"a": [1, -0.5e2, true, false, null, "x"], "b": {}, "c": [], "d": 12345678901234567890} "#)
    guard case .object(let o) = v else { Issue.record("not an object"); return }
    #expect(o.keys == ["a", "b", "c", "d"])
    #expect(o["a"] == .array([.number(1, raw: "1"), .number(-50, raw: "-0.5e2"), .bool(true), .bool(false), .null, .string("x")]))
    #expect(o["b"] == .object(JSONObject()) && o["c"] == .array([]))
    #expect(o["d"] == .number(12345678901234567890, raw: "12345678901234567890"))
    #expect(try JSONValue.parse("0") == .number(0, raw: "0"))
    #expect(try JSONValue.parse("-0") == .number(-0.0, raw: "-0"))
  }

  @Test func escapes() throws {
    #expect(try JSONValue.parse(#""a\"\\\/\b\f\n\r\t""#) == .string("a\"\\/\u{8}\u{c}\n\r\t"))
    #expect(try JSONValue.parse(#""\u00e9\u4E2D""#) == .string("é中"))
    #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    #expect(try JSONValue.parse("\"é😀\"") == .string("é😀"))
  }

  @Test func refusals() {
    let bad = [
      "", " ", "{", "[", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "+1", "1e", "1e+", "-", "--1",
      "NaN", "Infinity", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud83d\"", "\"\\ude00\"",
      "\"\\ud83d\\u0041\"", "\"a\u{1}b\"", "1 2", "{\"a\":1,\"a\":2}", "// c\n1", "[1] x", "1e400", "'a'",
    ]
    for text in bad {
      let e = parseError(text)
      #expect(e?.kind == .parse, "\(text.debugDescription): \(String(describing: e))")
      #expect(e?.message.contains("at byte") == true, "\(text.debugDescription)")
    }
    #expect(parseError("{\"a\":1,\"a\":2}")?.message.contains("duplicate key \"a\" at byte 7") == true)
  }

  @Test func invalidUTF8() {
    #expect(throws: RopeError.self) { try JSONValue.parse(utf8: [0x22, 0xFF, 0x22]) }
    #expect(throws: RopeError.self) { try JSONValue.parse(utf8: [0x22, 0xC3, 0x22]) }
  }

  @Test func depthLimit() throws {
    let ok = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
    _ = try JSONValue.parse(ok)
    let deep = String(repeating: "[", count: JSONValue.maxDepth + 1) + String(repeating: "]", count: JSONValue.maxDepth + 1)
    #expect(parseError(deep)?.message.contains("nesting") == true)
    let veryDeep = String(repeating: "{\"a\":", count: 100_000)
    #expect(parseError(veryDeep)?.kind == .parse)
  }

  /// Every proper prefix of every fixture is refused with .parse (an object is only complete at
  /// its closing brace), and flipping any byte of one fixture never traps.
  @Test func prefixesAndMutationsNeverTrap() throws {
    for name in fixtureNames {
      let text = try #require(readFixture("hf_configs/\(name).json"))
      let bytes = Array(text.utf8)
      _ = try JSONValue.parse(utf8: bytes)
      var end = bytes.count
      while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x20 { end -= 1 }
      for n in 0 ..< end {
        do {
          _ = try JSONValue.parse(utf8: Array(bytes[0 ..< n]))
          Issue.record("\(name): prefix of \(n) bytes accepted")
        } catch {
          #expect(error.kind == .parse)
        }
      }
    }
    let bytes = Array((readFixture("hf_configs/deepseek-v3.json") ?? "").utf8)
    let replacements: [UInt8] = [0x00, 0x22, 0x2C, 0x5C, 0x7B, 0x5D, 0x30, 0xFF]
    for i in 0 ..< bytes.count {
      for r in replacements {
        var m = bytes
        m[i] = r
        if let v = try? JSONValue.parse(utf8: m), case .object(let o) = v {
          _ = try? ropeConfig(fromHFConfig: o, sequenceLength: nil, resonance: true)
        }
      }
    }
  }
}
