// The JSON reader's one pass: everything checked, only the two top object levels built; arrays
// and deeper objects kept unread and read on demand with the values they hold.
import Testing
@testable import ResonanceRopeCore

@Suite struct JSONUnreadTests {
  func parseError(_ text: String) -> RopeError? {
    do { _ = try JSONValue.parse(text); return nil } catch { return error }
  }

  /// A big array costs one value, not one per element, and still reads back exactly.
  @Test func bigArrayIsNotBuilt() throws {
    let n = 100_000
    let padding = (0 ..< n).map { String($0) }.joined(separator: ",")
    let v = try JSONValue.parse(#"{"rope_theta": 5e5, "padding": ["# + padding + #"], "deep": {"x": {"y": [{"z": 1}]}}}"#)
    // Built: the root, rope_theta, the unread padding array, "deep" and its unread "x".
    #expect(v.builtValueCount == 5)
    guard case .object(let o) = v, case .array(let items)? = o["padding"] else { Issue.record("no padding array"); return }
    var count = 0, sum = 0.0
    for case .number(let d, _) in items {
      count += 1
      sum += d
    }
    #expect(count == n && sum == Double(n * (n - 1) / 2))
    #expect(try o.numbers("padding", "") == (0 ..< n).map { Double($0) })
    guard case .object(let x)? = o["deep"]?.objectValue?["x"], case .array(let y)? = x["y"] else { Issue.record("no deep.x.y"); return }
    let z = try #require(try JSONValue.parse(#"{"z": 1}"#).objectValue)
    #expect(Array(y) == [.object(z)])
  }

  /// 1000 blocks nested 62 deep under "blocks" (depth 64 in all): one value per block, and the
  /// innermost value is reached through the unread objects and arrays.
  @Test func deepObjectsAreNotBuilt() throws {
    var block = "7"
    for level in 0 ..< 62 { block = level % 3 == 2 ? "[null, \(block)]" : #"{"k": "v", "n\#(level)": \#(block)}"# }
    let blocks = (0 ..< 1000).map { #""b\#($0)": \#(block)"# }.joined(separator: ", ")
    let v = try JSONValue.parse(#"{"head_dim": 64, "blocks": {"# + blocks + "}}")
    #expect(v.builtValueCount == 1 + 1 + 1 + 1000)  // root, head_dim, blocks, each block unread
    var node = try #require(v.objectValue?["blocks"]?.objectValue?["b999"])
    for level in (0 ..< 62).reversed() {
      switch node {
      case .array(let a): node = try #require(Array(a).last)
      case .object(let o): node = try #require(o["n\(level)"])
      default: Issue.record("level \(level): \(node.typeName)"); return
      }
    }
    #expect(node == .number(7, raw: "7"))
  }

  /// Numbers that are not read are still refused outside the double range (found without a
  /// conversion up to 10^308, converted beyond), at the same offset.
  @Test func unreadNumbersAreChecked() throws {
    #expect(parseError(#"{"a":[[1e400]]}"#)?.message == "number 1e400 is out of the double range at byte 7")
    #expect(parseError(#"{"a":{"b":{"c":1.8e308}}}"#)?.message == "number 1.8e308 is out of the double range at byte 15")
    #expect(parseError(#"[-1e309]"#)?.message == "number -1e309 is out of the double range at byte 1")
    let v = try JSONValue.parse(#"{"a":{"b":{"c":[1.7976931348623157e308, 17976931348623158e292, 0.0000001e309, 123e-99999999999, 12345678901234567890123]}}}"#)
    guard case .array(let c)? = v.objectValue?["a"]?.objectValue?["b"]?.objectValue?["c"] else { Issue.record("no a.b.c"); return }
    let read = c.compactMap { if case .number(let d, _) = $0 { d } else { nil } }
    #expect(read == [Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude, 1e302, 0, 1.2345678901234568e22])
  }

  /// Errors inside unread parts keep their messages and offsets (counted here by hand).
  @Test func unreadPartsAreChecked() {
    #expect(parseError(#"{"a":[{"b":1,"b":2}]}"#)?.message == "duplicate key \"b\" at byte 13")
    #expect(parseError(#"{"a":{"b":{"c":"\ud800"}}}"#)?.message == "high surrogate without a low surrogate at byte 16")
    #expect(parseError(#"{"a":[1,]}"#)?.message == "unexpected character ']', expected a value at byte 8")
    #expect(parseError(#"{"a":{"b":{"c":01}}}"#)?.message == "leading zero in a number at byte 15")
    #expect(parseError("{\"a\":[\"\u{1}\"]}")?.message == "control character 0x1 in a string at byte 7")
    // Past 16 keys, duplicates are found by a hash set: the duplicate of k2 after k0 ... k19.
    let members = (0 ..< 20).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
    let head = #"{"a":{"b":{"# + members + ","
    #expect(parseError(head + #""k2":2}}}"#)?.message == "duplicate key \"k2\" at byte \(head.utf8.count)")
    #expect(parseError(head + #""k20":2}}}"#) == nil)
  }

  /// Unread parts compare by value, as built ones do: spacing and escapes do not matter, numbers
  /// compare by value and source text, members in source order.
  @Test func unreadPartsCompareByValue() throws {
    let a = try JSONValue.parse(#"{"r": {"x": [1, {"y": "\u0041", "z": [true, null]}], "o": {"p": {"q": 2.50}}}}"#)
    #expect(a == (try JSONValue.parse(#"{ "r" : { "x" : [ 1 , { "y" : "A" , "z" : [ true , null ] } ] , "o" : { "p" : { "q" : 2.50 } } } }"#)))
    #expect(a != (try JSONValue.parse(#"{"r": {"x": [1, {"y": "A", "z": [true, null]}], "o": {"p": {"q": 2.5}}}}"#)))
    #expect(a != (try JSONValue.parse(#"{"r": {"x": [1, {"y": "A", "z": [true]}], "o": {"p": {"q": 2.50}}}}"#)))
    #expect(a != (try JSONValue.parse(#"{"r": {"x": [1, {"z": [true, null], "y": "A"}], "o": {"p": {"q": 2.50}}}}"#)))
    // rope_parameters must equal rope_scaling, deep parts included.
    func config(_ b: Int) -> String {
      #"{"head_dim": 8, "rope_scaling": {"type": "linear", "factor": 2, "x": {"a": [1, {"b": 2}]}}, "rope_parameters": {"type":"linear","factor":2,"x":{"a":[1,{"b":\#(b)}]}}}"#
    }
    _ = try ropeConfig(fromHFConfigJSON: config(2), sequenceLength: nil, resonance: false)
    expectThrows(.invalidValue, "rope_parameters differs from rope_scaling") { () throws(RopeError) in
      _ = try ropeConfig(fromHFConfigJSON: config(3), sequenceLength: nil, resonance: false)
    }
  }
}
