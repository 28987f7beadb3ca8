// The one UTF-8 rule of the text readers (JSON and GGUF key=value), and keys compared by
// Unicode scalars.
//
// Both readers work on bytes, never on Swift Characters: Character iteration applies grapheme
// breaking, under which "\r\n" is one Character (so a split on "\n" misses CRLF lines) and a
// combining mark after '=' fuses with it (so the '=' is not found). Bytes below 0x80 are ASCII in
// UTF-8 and never occur inside a multi-byte sequence, so every delimiter the grammars use
// ('=', '\n', '"', ...) is found by comparing bytes.

/// The length (2, 3 or 4) of the well-formed UTF-8 sequence of a non-ASCII scalar at `i`, or nil
/// when the bytes there are not one (RFC 3629 / Unicode 15 Table 3-7: no overlong forms, no
/// surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated sequence). Call only for
/// bytes[i] >= 0x80. Both text readers refuse invalid UTF-8 through this function, with the
/// message "invalid UTF-8 at byte N".
@inline(__always)
func utf8SequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
  let b0 = bytes[i]
  let n = bytes.count
  func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { j < n && bytes[j] >= lo && bytes[j] <= hi }
  switch b0 {
  case 0xC2 ... 0xDF: return cont(i + 1) ? 2 : nil
  case 0xE0: return cont(i + 1, 0xA0) && cont(i + 2) ? 3 : nil
  case 0xE1 ... 0xEC, 0xEE ... 0xEF: return cont(i + 1) && cont(i + 2) ? 3 : nil
  case 0xED: return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : nil  // not a surrogate
  case 0xF0: return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : nil
  case 0xF1 ... 0xF3: return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : nil
  case 0xF4: return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : nil  // <= U+10FFFF
  default: return nil  // a continuation byte, C0, C1 or F5..FF
  }
}

/// A string that is equal to another only when their Unicode scalars are (the same UTF-8
/// bytes). Swift's `String ==` is canonical equivalence: "\u{E9}" == "e\u{301}" and
/// "\u{212A}" == "K" are true there, but JSON (RFC 8259 section 8.3) and GGUF compare keys by
/// code points, so duplicates and lookups use this key.
struct ScalarKey: Hashable, ExpressibleByStringLiteral {
  let string: String

  init(_ string: String) { self.string = string }
  init(stringLiteral value: String) { self.string = value }

  static func == (a: ScalarKey, b: ScalarKey) -> Bool {
    guard a.string.utf8.count == b.string.utf8.count else { return false }
    var x = a.string, y = b.string
    return x.withUTF8 { p in y.withUTF8 { q in p.elementsEqual(q) } }
  }

  func hash(into hasher: inout Hasher) {
    var s = string
    s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}

extension String {
  /// True when both strings have the same Unicode scalars (see `ScalarKey`).
  func hasSameScalars(as other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}
