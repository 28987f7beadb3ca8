// The library's version: the one place it is written.
//
// tools/gen_header.py reads `text` below and writes RR_VERSION_MAJOR/MINOR/PATCH/NUMBER/STRING
// into Include/resonance_rope.h and VERSION into python/resonance_rope/_abi.py (which
// python/pyproject.toml reads); the Makefile asks `tools/gen_header.py --version`; the C entry
// points rr_version_number() / rr_version_string() and the CLI's --version read it here.

public enum LibraryVersion {
  /// "MAJOR.MINOR.PATCH", each part a decimal number below 100.
  public static let text: StaticString = "0.1.0"

  /// MAJOR * 10000 + MINOR * 100 + PATCH, as RR_VERSION_NUMBER computes it (from `text`, with no
  /// allocation: the C entry may be called anywhere).
  public static var number: UInt32 {
    var parts: (UInt32, UInt32, UInt32) = (0, 0, 0)
    var index = 0
    text.withUTF8Buffer { bytes in
      for b in bytes {
        if b == UInt8(ascii: ".") {
          index += 1
        } else if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
          let d = UInt32(b - UInt8(ascii: "0"))
          switch index {
          case 0: parts.0 = parts.0 &* 10 &+ d
          case 1: parts.1 = parts.1 &* 10 &+ d
          default: parts.2 = parts.2 &* 10 &+ d
          }
        }
      }
    }
    return parts.0 &* 10000 &+ parts.1 &* 100 &+ parts.2
  }
}
