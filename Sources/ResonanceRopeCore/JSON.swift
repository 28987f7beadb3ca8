// A small strict RFC 8259 JSON reader for model configuration files (no Foundation).
//
// Strict: no comments, no trailing commas, no NaN/Infinity, no leading zeros or '+', no control
// characters in strings, no lone surrogates, no invalid UTF-8 (`utf8SequenceLength`, the rule the
// GGUF text reader shares), no duplicate keys (compared by Unicode scalars, not by Swift's
// canonical equivalence: see `ScalarKey`), one value per text. One pass over the bytes: a
// string without escapes is decoded straight from its bytes. Numbers keep
// their source text so integers above 2^53 stay exact. Nesting is limited to `JSONValue.maxDepth`
// (the reader recurses once per level) and input to `JSONValue.maxBytes`; every failure is a
// `RopeError(.parse, "... at byte N")` with N the 0-based byte offset, never a trap.

/// An object's members in source order. Keys are unique (duplicates are a parse error).
package struct JSONObject: Sendable, Equatable {
  package var keys: [String] = []
  package var values: [JSONValue] = []

  package init() {}

  package var count: Int { keys.count }

  /// The member named exactly `key` (same Unicode scalars), or nil (linear search:
  /// configuration objects are small).
  package subscript(key: String) -> JSONValue? {
    guard let i = keys.firstIndex(where: { $0.hasSameScalars(as: key) }) else { return nil }
    return values[i]
  }

  package var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }
}

package enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The nearest double and the number exactly as written.
  case number(Double, raw: String)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)

  /// Deepest nesting of arrays and objects accepted.
  package static let maxDepth = 64
  /// Largest text accepted, in bytes (64 MiB; published config.json files are a few KiB).
  package static let maxBytes = 1 << 26

  /// Parses one JSON text.
  package static func parse(_ text: String) throws(RopeError) -> JSONValue {
    try parse(utf8: Array(text.utf8))
  }

  /// Parses one JSON text given as bytes, which must be UTF-8 (checked).
  package static func parse(utf8 bytes: [UInt8]) throws(RopeError) -> JSONValue {
    try bytes.withUnsafeBufferPointer { (b) throws(RopeError) in try parse(utf8: b) }
  }

  /// Parses one JSON text from the caller's bytes (read only during the call).
  package static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(RopeError) -> JSONValue {
    guard bytes.count <= maxBytes else {
      throw RopeError(.parse, "JSON text of \(bytes.count) bytes is larger than \(maxBytes) at byte 0")
    }
    var parser = JSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.at == bytes.count else {
      throw RopeError(.parse, "unexpected text after the JSON value at byte \(parser.at)")
    }
    return value
  }

  /// A short name of the value's type, for error messages.
  package var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  package var isNull: Bool { if case .null = self { true } else { false } }

  package var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
}

private struct JSONParser {
  let bytes: UnsafeBufferPointer<UInt8>
  var at = 0

  init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

  func fail(_ what: String, _ offset: Int? = nil) -> RopeError {
    RopeError(.parse, "\(what) at byte \(offset ?? at)")
  }

  mutating func skipWhitespace() {
    while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { at += 1 }
  }

  mutating func expect(_ literal: String, _ value: JSONValue) throws(RopeError) -> JSONValue {
    let start = at
    for b in literal.utf8 {
      guard let c = peek(), c == b else { throw fail("invalid literal (expected '\(literal)')", start) }
      at += 1
    }
    return value
  }

  mutating func parseValue(depth: Int) throws(RopeError) -> JSONValue {
    guard let c = peek() else { throw fail("unexpected end of input, expected a value") }
    switch c {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try expect("true", .bool(true))
    case UInt8(ascii: "f"): return try expect("false", .bool(false))
    case UInt8(ascii: "n"): return try expect("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return try parseNumber()
    default: throw fail("unexpected character '\(printable(c))', expected a value")
    }
  }

  mutating func parseObject(depth: Int) throws(RopeError) -> JSONValue {
    guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
    at += 1  // '{'
    var object = JSONObject()
    var seen = Set<ScalarKey>()
    skipWhitespace()
    if peek() == UInt8(ascii: "}") {
      at += 1
      return .object(object)
    }
    while true {
      skipWhitespace()
      let keyStart = at
      guard peek() == UInt8(ascii: "\"") else { throw fail(peek() == nil ? "unexpected end of input, expected a key" : "expected a string key") }
      let key = try parseString()
      guard seen.insert(ScalarKey(key)).inserted else { throw fail("duplicate key \"\(key)\"", keyStart) }
      skipWhitespace()
      guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
      at += 1
      skipWhitespace()
      let value = try parseValue(depth: depth)
      object.keys.append(key)
      object.values.append(value)
      skipWhitespace()
      switch peek() {
      case UInt8(ascii: ","): at += 1
      case UInt8(ascii: "}"): at += 1; return .object(object)
      case nil: throw fail("unexpected end of input in an object")
      default: throw fail("expected ',' or '}' in an object")
      }
    }
  }

  mutating func parseArray(depth: Int) throws(RopeError) -> JSONValue {
    guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
    at += 1  // '['
    var items: [JSONValue] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "]") {
      at += 1
      return .array(items)
    }
    while true {
      skipWhitespace()
      items.append(try parseValue(depth: depth))
      skipWhitespace()
      switch peek() {
      case UInt8(ascii: ","): at += 1
      case UInt8(ascii: "]"): at += 1; return .array(items)
      case nil: throw fail("unexpected end of input in an array")
      default: throw fail("expected ',' or ']' in an array")
      }
    }
  }

  mutating func digits() -> Int {
    let start = at
    while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { at += 1 }
    return at - start
  }

  /// number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
  mutating func parseNumber() throws(RopeError) -> JSONValue {
    let start = at
    if peek() == UInt8(ascii: "-") { at += 1 }
    if peek() == UInt8(ascii: "0") {
      at += 1
      if let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { throw fail("leading zero in a number", start) }
    } else if digits() == 0 {
      throw fail("expected a digit in a number")
    }
    if peek() == UInt8(ascii: ".") {
      at += 1
      guard digits() > 0 else { throw fail("expected a digit after '.' in a number") }
    }
    if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
      at += 1
      if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { at += 1 }
      guard digits() > 0 else { throw fail("expected a digit in a number's exponent") }
    }
    // The grammar above admits only ASCII, so this decoding is exact.
    let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[start ..< at]), as: UTF8.self)
    guard let value = Double(raw), value.isFinite else {
      throw fail("number \(raw) is out of the double range", start)
    }
    return .number(value, raw: raw)
  }

  mutating func hex4() throws(RopeError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0 ..< 4 {
      guard let c = peek() else { throw fail("unexpected end of input in a \\u escape") }
      let d: UInt32
      switch c {
      case UInt8(ascii: "0") ... UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a") ... UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a")) + 10
      case UInt8(ascii: "A") ... UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A")) + 10
      default: throw fail("invalid hex digit '\(printable(c))' in a \\u escape")
      }
      v = v << 4 | d
      at += 1
    }
    return v
  }

  /// A string literal. Bytes up to the first escape are decoded in place; after an escape the
  /// rest is collected in `out`. Non-ASCII bytes are checked as UTF-8 as they are passed.
  mutating func parseString() throws(RopeError) -> String {
    let start = at
    at += 1  // '"'
    let bodyStart = at
    var out: [UInt8] = []
    var escaped = false
    while true {
      guard let c = peek() else { throw fail("unterminated string starting", start) }
      switch c {
      case UInt8(ascii: "\""):
        at += 1
        // Valid UTF-8 (checked below), so decoding replaces nothing.
        guard escaped else { return String(decoding: UnsafeBufferPointer(rebasing: bytes[bodyStart ..< at - 1]), as: UTF8.self) }
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        if !escaped { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[bodyStart ..< at])); escaped = true }
        let escapeStart = at
        at += 1
        guard let e = peek() else { throw fail("unexpected end of input in an escape") }
        at += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if scalar >= 0xD800, scalar <= 0xDBFF {
            guard peek() == UInt8(ascii: "\\"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "u") else {
              throw fail("high surrogate without a low surrogate", escapeStart)
            }
            at += 2
            let low = try hex4()
            guard low >= 0xDC00, low <= 0xDFFF else { throw fail("high surrogate without a low surrogate", escapeStart) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else if scalar >= 0xDC00, scalar <= 0xDFFF {
            throw fail("lone low surrogate", escapeStart)
          }
          guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape", escapeStart) }
          out.append(contentsOf: String(Character(u)).utf8)
        default:
          throw fail("invalid escape '\\\(printable(e))'", escapeStart)
        }
      case 0x00 ..< 0x20:
        throw fail("control character 0x\(String(c, radix: 16)) in a string")
      case 0x80 ... 0xFF:
        guard let n = utf8SequenceLength(bytes, at) else { throw fail("invalid UTF-8") }
        if escaped { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[at ..< at + n])) }
        at += n
      default:
        if escaped { out.append(c) }
        at += 1
      }
    }
  }
}

private func printable(_ c: UInt8) -> String {
  c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "0x" + String(c, radix: 16)
}
