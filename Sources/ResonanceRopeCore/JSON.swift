// A small strict RFC 8259 JSON reader for model configuration files (no Foundation).
//
// Strict: no comments, no trailing commas, no NaN/Infinity, no leading zeros or '+', no control
// characters in strings, no lone surrogates, no invalid UTF-8 (`utf8SequenceLength`, the rule the
// GGUF text reader shares), no duplicate keys (compared by Unicode scalars, not by Swift's
// canonical equivalence: see `ScalarKey`), one value per text. Numbers keep their source text so
// integers above 2^53 stay exact. Nesting is limited to `JSONValue.maxDepth` (the reader recurses
// once per level) and input to `JSONValue.maxBytes`; every failure is a
// `RopeError(.parse, "... at byte N")` with N the 0-based byte offset, never a trap.
//
// One pass over the bytes checks the whole text but builds only where a configuration reader
// looks: the top-level object and the objects directly inside it (HFConfig's fields and its
// rope_scaling / rope_parameters dicts), member by member. Every array, and every object nested
// deeper, is checked in that pass and kept as its source text (`JSONText`, a slice sharing the
// input's buffer), read again when asked for: a `JSONArray` yields its elements one at a time,
// without an array of them, and an unread `JSONObject` builds one level when accessed. The
// numbers and strings of unread text are checked but not converted: no strtod, no String. So the
// tree of any text is the input's bytes plus a few values per member of the two built levels.
// Measured through rr_rope_create_from_hf_config (SwiftPM build, CPU user time): a 63 MiB config
// with one array of 14.2 M numbers took 1.92 s and 676 MB peak RSS before (one 32-byte JSONValue
// and one strtod per number), 0.44 s and 135 MB now (the caller's buffer and the ABI's copy of it
// are 126 MB of that); 60 MB of objects nested 64 deep: 2.61 s and 705 MB before, 0.50 s and 129 MB.

/// An array or object that passed the parser's checks, kept as its source text: from its '[' or
/// '{' to its closing bracket, a slice sharing the parsed input's buffer, and its nesting depth
/// (the top-level value's is 1).
struct JSONText: Sendable {
  let bytes: ArraySlice<UInt8>
  let depth: Int

  /// Runs `body` on a parser at byte `at` of this text. The same bytes passed the same checks at
  /// the same depth when they were parsed, so `body` meets no error; nil would be returned if it
  /// did (unreachable).
  fileprivate func read<R>(at: Int, _ body: (inout JSONParser) throws(RopeError) -> R) -> R? {
    bytes.withUnsafeBufferPointer { b in
      var parser = JSONParser(bytes: b, owner: bytes)
      parser.at = at
      return try? body(&parser)
    }
  }
}

/// An array's elements in source order, read from the parsed text one at a time (or given as a
/// Swift array literal). Nested arrays and objects come unread.
package struct JSONArray: Sendable, Equatable, Sequence, ExpressibleByArrayLiteral {
  fileprivate enum Storage: Sendable {
    case items([JSONValue])
    case text(JSONText)
  }
  fileprivate let storage: Storage

  package init(_ items: [JSONValue]) { storage = .items(items) }
  package init(arrayLiteral items: JSONValue...) { storage = .items(items) }
  fileprivate init(text: JSONText) { storage = .text(text) }

  package struct Iterator: IteratorProtocol {
    fileprivate enum State {
      case items(IndexingIterator<[JSONValue]>)
      /// The next element starts at byte `at` of the text (whitespace may come first).
      case text(JSONText, at: Int)
      case done
    }
    fileprivate var state: State

    package mutating func next() -> JSONValue? {
      switch state {
      case .items(var items):
        let v = items.next()
        state = .items(items)
        return v
      case .text(let text, let at):
        let step = text.read(at: at) { (p) throws(RopeError) in (try p.element(depth: text.depth, build: true), p.at) }
        guard let ((value, more), end) = step else { state = .done; return nil }
        state = more ? .text(text, at: end) : .done
        return value
      case .done:
        return nil
      }
    }
  }

  package func makeIterator() -> Iterator {
    switch storage {
    case .items(let items):
      return Iterator(state: .items(items.makeIterator()))
    case .text(let text):
      guard let first = text.read(at: 0, { (p) throws(RopeError) in p.openArray() ? p.at : nil }) ?? nil else {
        return Iterator(state: .done)
      }
      return Iterator(state: .text(text, at: first))
    }
  }

  /// Equal elements in the same order (read side by side: neither array is built).
  package static func == (a: JSONArray, b: JSONArray) -> Bool {
    if case .text(let x) = a.storage, case .text(let y) = b.storage, x.bytes.elementsEqual(y.bytes) { return true }
    return a.elementsEqual(b)
  }

  /// Values held built: an unread array is one (a test hook, see `JSONValue.builtValueCount`).
  var builtValueCount: Int {
    switch storage {
    case .items(let items): 1 + items.reduce(0) { $0 + $1.builtValueCount }
    case .text: 1
    }
  }
}

/// An object's members in source order. Keys are unique (duplicates are a parse error).
package struct JSONObject: Sendable, Equatable {
  fileprivate enum Storage: Sendable {
    case members(keys: [String], values: [JSONValue])
    case text(JSONText)
  }
  fileprivate let storage: Storage

  package init() { storage = .members(keys: [], values: []) }
  fileprivate init(keys: [String], values: [JSONValue]) { storage = .members(keys: keys, values: values) }
  fileprivate init(text: JSONText) { storage = .text(text) }

  /// The keys and values, built one level deep when the object is unread (nested arrays and
  /// objects unread).
  private var built: (keys: [String], values: [JSONValue]) {
    switch storage {
    case .members(let keys, let values):
      return (keys, values)
    case .text(let text):
      return text.read(at: 0) { (p) throws(RopeError) in try p.walkObject(depth: text.depth, build: true) } ?? ([], [])
    }
  }

  package var keys: [String] { built.keys }
  package var values: [JSONValue] { built.values }
  package var count: Int { keys.count }

  /// The member named exactly `key` (same Unicode scalars), or nil (linear search:
  /// configuration objects are small).
  package subscript(key: String) -> JSONValue? {
    let (keys, values) = built
    guard let i = keys.firstIndex(where: { $0.hasSameScalars(as: key) }) else { return nil }
    return values[i]
  }

  package var members: Zip2Sequence<[String], [JSONValue]> {
    let (keys, values) = built
    return zip(keys, values)
  }

  /// The same keys (Swift's String ==) with equal values, in the same order.
  package static func == (a: JSONObject, b: JSONObject) -> Bool {
    if case .text(let x) = a.storage, case .text(let y) = b.storage, x.bytes.elementsEqual(y.bytes) { return true }
    let (x, y) = (a.built, b.built)
    return x.keys == y.keys && x.values == y.values
  }

  /// Values held built: an unread object is one (a test hook, see `JSONValue.builtValueCount`).
  var builtValueCount: Int {
    switch storage {
    case .members(_, let values): 1 + values.reduce(0) { $0 + $1.builtValueCount }
    case .text: 1
    }
  }
}

package enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The nearest double and the number exactly as written.
  case number(Double, raw: String)
  case string(String)
  case array(JSONArray)
  case object(JSONObject)

  /// Deepest nesting of arrays and objects accepted.
  package static let maxDepth = 64
  /// Largest text accepted, in bytes (64 MiB; published config.json files are a few KiB).
  package static let maxBytes = 1 << 26

  /// Parses one JSON text.
  package static func parse(_ text: String) throws(RopeError) -> JSONValue {
    try parse(utf8: Array(text.utf8))
  }

  /// Parses one JSON text given as bytes, which must be UTF-8 (checked). The unread arrays and
  /// objects of the result share the array's buffer.
  package static func parse(utf8 bytes: [UInt8]) throws(RopeError) -> JSONValue {
    guard bytes.count <= maxBytes else {
      throw RopeError(.parse, "JSON text of \(bytes.count) bytes is larger than \(maxBytes) at byte 0")
    }
    let owner = bytes[...]
    return try owner.withUnsafeBufferPointer { (b) throws(RopeError) in
      var parser = JSONParser(bytes: b, owner: owner)
      parser.skipWhitespace()
      let value = try parser.parseValue(depth: 0, build: true)
      parser.skipWhitespace()
      guard parser.at == b.count else {
        throw RopeError(.parse, "unexpected text after the JSON value at byte \(parser.at)")
      }
      return value
    }
  }

  /// Parses one JSON text from the caller's bytes (read only during the call: the result keeps a
  /// copy of them).
  package static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(RopeError) -> JSONValue {
    guard bytes.count <= maxBytes else {
      throw RopeError(.parse, "JSON text of \(bytes.count) bytes is larger than \(maxBytes) at byte 0")
    }
    return try parse(utf8: Array(bytes))
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

  /// Values this tree holds built, an unread array or object counting one (a test hook: what a
  /// parse costs beyond the input's bytes is proportional to it).
  var builtValueCount: Int {
    switch self {
    case .array(let a): a.builtValueCount
    case .object(let o): o.builtValueCount
    default: 1
    }
  }
}

fileprivate struct JSONParser {
  let bytes: UnsafeBufferPointer<UInt8>
  /// The same bytes as an array slice, which unread arrays and objects keep a part of.
  let owner: ArraySlice<UInt8>
  var at = 0
  /// The keys of the objects being walked, innermost last: the duplicate check of a small object
  /// without a hash set of its own.
  var keyStack: [String] = []

  /// Objects at this depth or shallower are built member by member (see the file comment).
  static let builtObjectDepth = 2
  /// An object's first keys are checked for duplicates by a linear search, later ones by a set.
  static let linearKeyCount = 16

  init(bytes: UnsafeBufferPointer<UInt8>, owner: ArraySlice<UInt8>) {
    self.bytes = bytes
    self.owner = owner
  }

  func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

  func fail(_ what: String, _ offset: Int? = nil) -> RopeError {
    RopeError(.parse, "\(what) at byte \(offset ?? at)")
  }

  /// The text from byte `start` to here, for an unread container at `depth`.
  func text(from start: Int, depth: Int) -> JSONText {
    JSONText(bytes: owner[owner.startIndex + start ..< owner.startIndex + at], depth: depth)
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

  /// The value at `at`: built when `build` (arrays, and objects deeper than `builtObjectDepth`,
  /// unread), else only checked (.null is returned).
  mutating func parseValue(depth: Int, build: Bool) throws(RopeError) -> JSONValue {
    guard let c = peek() else { throw fail("unexpected end of input, expected a value") }
    switch c {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1, build: build)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1, build: build)
    case UInt8(ascii: "\""):
      let s = try parseString(build: build)
      return build ? .string(s) : .null
    case UInt8(ascii: "t"): return try expect("true", .bool(true))
    case UInt8(ascii: "f"): return try expect("false", .bool(false))
    case UInt8(ascii: "n"): return try expect("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return try parseNumber(build: build)
    default: throw fail("unexpected character '\(printable(c))', expected a value")
    }
  }

  mutating func parseObject(depth: Int, build: Bool) throws(RopeError) -> JSONValue {
    guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
    let start = at
    let members = depth <= Self.builtObjectDepth
    let (keys, values) = try walkObject(depth: depth, build: build && members)
    guard build else { return .null }
    return .object(members ? JSONObject(keys: keys, values: values) : JSONObject(text: text(from: start, depth: depth)))
  }

  /// Steps over the object at `at` (its '{'), checking all of it. With `build`, returns its keys
  /// and its values built, else empty arrays.
  mutating func walkObject(depth: Int, build: Bool) throws(RopeError) -> (keys: [String], values: [JSONValue]) {
    at += 1  // '{'
    var keys: [String] = [], values: [JSONValue] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "}") {
      at += 1
      return (keys, values)
    }
    let base = keyStack.count
    defer { keyStack.removeLast(keyStack.count - base) }
    var seen = Set<ScalarKey>()
    while true {
      skipWhitespace()
      let keyStart = at
      guard peek() == UInt8(ascii: "\"") else { throw fail(peek() == nil ? "unexpected end of input, expected a key" : "expected a string key") }
      let key = try parseString(build: true)
      if keyStack.count - base < Self.linearKeyCount {
        guard !keyStack[base...].contains(where: { $0.hasSameScalars(as: key) }) else { throw fail("duplicate key \"\(key)\"", keyStart) }
        keyStack.append(key)
      } else {
        if seen.isEmpty { seen = Set(keyStack[base...].map { ScalarKey($0) }) }
        guard seen.insert(ScalarKey(key)).inserted else { throw fail("duplicate key \"\(key)\"", keyStart) }
      }
      skipWhitespace()
      guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
      at += 1
      skipWhitespace()
      let value = try parseValue(depth: depth, build: build)
      if build {
        keys.append(key)
        values.append(value)
      }
      skipWhitespace()
      switch peek() {
      case UInt8(ascii: ","): at += 1
      case UInt8(ascii: "}"): at += 1; return (keys, values)
      case nil: throw fail("unexpected end of input in an object")
      default: throw fail("expected ',' or '}' in an object")
      }
    }
  }

  /// An array is always checked whole and, with `build`, kept unread.
  mutating func parseArray(depth: Int, build: Bool) throws(RopeError) -> JSONValue {
    guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
    let start = at
    if openArray() {
      while try element(depth: depth, build: false).more {}
    }
    return build ? .array(JSONArray(text: text(from: start, depth: depth))) : .null
  }

  /// Steps past the '[' at `at`: true when an element follows, false (the ']' consumed too) when
  /// the array is empty.
  mutating func openArray() -> Bool {
    at += 1  // '['
    skipWhitespace()
    guard peek() == UInt8(ascii: "]") else { return true }
    at += 1
    return false
  }

  /// The array element at `at` (built with `build`) and the ',' or ']' after it: `more` is
  /// false after the ']'.
  mutating func element(depth: Int, build: Bool) throws(RopeError) -> (value: JSONValue, more: Bool) {
    skipWhitespace()
    let value = try parseValue(depth: depth, build: build)
    skipWhitespace()
    switch peek() {
    case UInt8(ascii: ","): at += 1; return (value, true)
    case UInt8(ascii: "]"): at += 1; return (value, false)
    case nil: throw fail("unexpected end of input in an array")
    default: throw fail("expected ',' or ']' in an array")
    }
  }

  /// The number of digits stepped over.
  mutating func digits() -> Int {
    let start = at
    while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { at += 1 }
    return at - start
  }

  /// number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
  mutating func parseNumber(build: Bool) throws(RopeError) -> JSONValue {
    let start = at
    if peek() == UInt8(ascii: "-") { at += 1 }
    var integerDigits = 1
    if peek() == UInt8(ascii: "0") {
      at += 1
      if let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { throw fail("leading zero in a number", start) }
    } else {
      integerDigits = digits()
      guard integerDigits > 0 else { throw fail("expected a digit in a number") }
    }
    if peek() == UInt8(ascii: ".") {
      at += 1
      guard digits() > 0 else { throw fail("expected a digit after '.' in a number") }
    }
    var exponent = 0
    if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
      at += 1
      let negative = peek() == UInt8(ascii: "-")
      if negative || peek() == UInt8(ascii: "+") { at += 1 }
      let digitsStart = at
      // Saturated at 2^20 (any exponent above 308 + maxBytes decides the same): no overflow.
      while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
        exponent = min(exponent * 10 + Int(c - UInt8(ascii: "0")), 1 << 20)
        at += 1
      }
      guard at > digitsStart else { throw fail("expected a digit in a number's exponent") }
      if negative { exponent = -exponent }
    }
    // An unread number is only checked to be finite: |value| < 10^(integerDigits + exponent),
    // and 10^308 < Double.greatestFiniteMagnitude (1.797e308), so a bound up to 308 needs no
    // conversion. Others (and every number read) are converted as the check.
    if !build, integerDigits + exponent <= 308 { return .null }
    // The grammar above admits only ASCII, so this decoding is exact.
    let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[start ..< at]), as: UTF8.self)
    guard let value = Double(raw), value.isFinite else {
      throw fail("number \(raw) is out of the double range", start)
    }
    return build ? .number(value, raw: raw) : .null
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

  /// A string literal, decoded when `build` (else checked only, "" returned). Bytes up to the
  /// first escape are decoded in place; after an escape the rest is collected in `out`.
  /// Non-ASCII bytes are checked as UTF-8 as they are passed.
  mutating func parseString(build: Bool) throws(RopeError) -> String {
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
        guard build else { return "" }
        // Valid UTF-8 (checked below), so decoding replaces nothing.
        guard escaped else { return String(decoding: UnsafeBufferPointer(rebasing: bytes[bodyStart ..< at - 1]), as: UTF8.self) }
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        if !escaped, build { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[bodyStart ..< at])) }
        escaped = true
        let escapeStart = at
        at += 1
        guard let e = peek() else { throw fail("unexpected end of input in an escape") }
        at += 1
        let decoded: UInt8
        switch e {
        case UInt8(ascii: "\""): decoded = 0x22
        case UInt8(ascii: "\\"): decoded = 0x5C
        case UInt8(ascii: "/"): decoded = 0x2F
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
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
          if build { out.append(contentsOf: String(Character(u)).utf8) }
          continue
        default:
          throw fail("invalid escape '\\\(printable(e))'", escapeStart)
        }
        if build { out.append(decoded) }
      case 0x00 ..< 0x20:
        throw fail("control character 0x\(String(c, radix: 16)) in a string")
      case 0x80 ... 0xFF:
        guard let n = utf8SequenceLength(bytes, at) else { throw fail("invalid UTF-8") }
        if escaped, build { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[at ..< at + n])) }
        at += n
      default:
        if escaped, build { out.append(c) }
        at += 1
      }
    }
  }
}

private func printable(_ c: UInt8) -> String {
  c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "0x" + String(c, radix: 16)
}
