// GGUF metadata written as text, one `key=value` per line (the form `gguf-dump`-style tools and
// rr_rope_create_from_gguf_metadata() take). Parsed over the UTF-8 bytes in one pass (see
// UTF8Text.swift for why never over Characters): memory is the output only.

/// Parses "key=value" lines: lines end at LF, a CR before the LF is dropped (CRLF files);
/// blank lines and lines starting with '#' are skipped; spaces, tabs and CRs around key and
/// value are trimmed. Values: an integer literal -> .int, another finite number -> .float,
/// "[a, b, ...]" -> .floatArray, anything else -> .string (surrounding double quotes removed).
/// The text must be UTF-8: an invalid sequence fails with "invalid UTF-8 at byte N", the rule
/// the JSON reader applies (`utf8SequenceLength`).
package func parseGGUFMetadataText(_ text: String) throws(RopeError) -> [(key: String, value: GGUFValue)] {
  try parseGGUFMetadataText(utf8: Array(text.utf8))
}

/// The same over bytes (which must be UTF-8: checked).
package func parseGGUFMetadataText(utf8 bytes: [UInt8]) throws(RopeError) -> [(key: String, value: GGUFValue)] {
  try bytes.withUnsafeBufferPointer { (b) throws(RopeError) in try parseGGUFMetadataText(utf8: b) }
}

/// The same over the caller's bytes (read only during the call).
package func parseGGUFMetadataText(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(RopeError) -> [(key: String, value: GGUFValue)] {
  var out: [(key: String, value: GGUFValue)] = []
  var lineNumber = 0
  var lineStart = 0
  let n = bytes.count
  while lineStart < n {
    lineNumber += 1
    // One scan of the line: its end, its first '=', and the UTF-8 of every non-ASCII byte.
    var i = lineStart
    var eq: Int? = nil
    while i < n, bytes[i] != 0x0A {
      let c = bytes[i]
      if c >= 0x80 {
        guard let len = utf8SequenceLength(bytes, i) else { throw RopeError(.parse, "line \(lineNumber): invalid UTF-8 at byte \(i)") }
        i += len
        continue
      }
      if c == UInt8(ascii: "="), eq == nil { eq = i }
      i += 1
    }
    let line = trimmed(bytes, lineStart, i)
    lineStart = i + 1
    if line.isEmpty || bytes[line.lowerBound] == UInt8(ascii: "#") { continue }
    guard let eq else { throw RopeError(.parse, "line \(lineNumber): expected key=value") }
    let keyRange = trimmed(bytes, line.lowerBound, eq)
    let valueRange = trimmed(bytes, eq + 1, line.upperBound)
    guard !keyRange.isEmpty else { throw RopeError(.parse, "line \(lineNumber): empty key") }
    let key = text(bytes, keyRange)
    out.append((key, try value(bytes, valueRange, key: key, line: lineNumber)))
  }
  return out
}

/// Valid UTF-8 (checked by the caller), so decoding replaces nothing.
private func text(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
  String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self)
}

private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }

/// [start, end) without the spaces, tabs and CRs at either end.
private func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Range<Int> {
  var a = start, b = end
  while a < b, isSpace(bytes[a]) { a += 1 }
  while b > a, isSpace(bytes[b - 1]) { b -= 1 }
  return a ..< b
}

private func value(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, key: String, line: Int) throws(RopeError) -> GGUFValue {
  let s = text(bytes, r)
  if let n = Int64(s) { return .int(n) }
  if let d = Double(s), d.isFinite { return .float(d) }
  let first = r.isEmpty ? 0 : bytes[r.lowerBound], last = r.isEmpty ? 0 : bytes[r.upperBound - 1]
  if first == UInt8(ascii: "[") {
    guard r.count >= 2, last == UInt8(ascii: "]") else { throw RopeError(.parse, "line \(line): \(key): unterminated array") }
    let inner = trimmed(bytes, r.lowerBound + 1, r.upperBound - 1)
    var items: [Double] = []
    var itemStart = inner.lowerBound
    while !inner.isEmpty {
      var j = itemStart
      while j < inner.upperBound, bytes[j] != UInt8(ascii: ",") { j += 1 }
      let part = text(bytes, trimmed(bytes, itemStart, j))
      guard let d = Double(part), d.isFinite else {
        throw RopeError(.parse, "line \(line): \(key): \"\(part)\" is not a finite number")
      }
      items.append(d)
      if j == inner.upperBound { break }
      itemStart = j + 1
    }
    return .floatArray(items)
  }
  if r.count >= 2, first == UInt8(ascii: "\""), last == UInt8(ascii: "\"") {
    return .string(text(bytes, r.lowerBound + 1 ..< r.upperBound - 1))
  }
  return .string(s)
}
