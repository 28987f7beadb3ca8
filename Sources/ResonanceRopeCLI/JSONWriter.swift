// A minimal JSON writer (no Foundation): numbers print with Swift's shortest round-trip form.

struct JSONObject {
  private var fields: [String] = []

  static func quote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          let h = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }

  /// Shortest representation that parses back to the same double; non-finite values are null.
  static func number(_ x: Double) -> String { x.isFinite ? x.description : "null" }

  mutating func raw(_ key: String, _ json: String) { fields.append("\(Self.quote(key)): \(json)") }
  mutating func set(_ key: String, _ v: Int) { raw(key, String(v)) }
  mutating func set(_ key: String, _ v: Int64) { raw(key, String(v)) }
  mutating func set(_ key: String, _ v: Double) { raw(key, Self.number(v)) }
  mutating func set(_ key: String, _ v: Bool) { raw(key, v ? "true" : "false") }
  mutating func set(_ key: String, _ v: String) { raw(key, Self.quote(v)) }
  mutating func set(_ key: String, _ v: [Double]) { raw(key, "[" + v.map(Self.number).joined(separator: ", ") + "]") }
  mutating func set(_ key: String, _ v: [Int64]) { raw(key, "[" + v.map { String($0) }.joined(separator: ", ") + "]") }
  mutating func setNull(_ key: String) { raw(key, "null") }

  var text: String { "{" + fields.joined(separator: ", ") + "}" }
}
