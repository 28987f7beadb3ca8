// Where each token sits: a contiguous range or an explicit list of Int64 positions.

package enum Positions {
  /// Token t is at start + t. The caller has checked that start + (count - 1) fits in Int64.
  case range(start: Int64)
  /// Token t is at list[t]: any values (offsets, gaps, repeats, negative).
  case list(UnsafePointer<Int64>)

  @inlinable @inline(__always)
  package subscript(token: Int) -> Int64 {
    switch self {
    case .range(let start): return start &+ Int64(token)  // in range: checked by the caller
    case .list(let p): return p[token]
    }
  }
}
