// Typed access to the members of a parsed JSON object, with messages naming the field.

/// Largest integer every double below it represents exactly (2^53).
private let exactIntegerLimit: Double = 9007199254740992

extension JSONObject {
  /// A number field; nil when absent or null.
  func number(_ key: String, _ path: String) throws(RopeError) -> Double? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .number(let d, _): return d
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be a number")
    }
  }

  /// An integer field (an integer literal, or a number with an integral value below 2^53).
  func integer(_ key: String, _ path: String) throws(RopeError) -> Int64? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .number(let d, let raw):
      if let n = Int64(raw) { return n }
      guard d.rounded(.towardZero) == d, abs(d) < exactIntegerLimit else {
        throw RopeError(.invalidValue, "\(path)\(key) = \(raw): must be an integer")
      }
      return Int64(d)  // |d| < 2^53: exact and in range.
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be an integer")
    }
  }

  func string(_ key: String, _ path: String) throws(RopeError) -> String? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .string(let s): return s
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be a string")
    }
  }

  func bool(_ key: String, _ path: String) throws(RopeError) -> Bool? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .bool(let b): return b
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be true or false")
    }
  }

  func numbers(_ key: String, _ path: String) throws(RopeError) -> [Double]? {
    guard let v = self[key] else { return nil }
    switch v {
    case .null: return nil
    case .array(let items):
      // Read one element at a time from the parsed text: no array of JSONValue is built.
      var out: [Double] = []
      for (i, item) in items.enumerated() {
        guard case .number(let d, _) = item else {
          throw RopeError(.invalidValue, "\(path)\(key)[\(i)] is \(item.typeName): must be a number")
        }
        out.append(d)
      }
      return out
    default: throw RopeError(.invalidValue, "\(path)\(key) is \(v.typeName): must be an array of numbers")
    }
  }
}

