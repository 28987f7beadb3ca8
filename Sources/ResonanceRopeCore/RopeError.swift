// Errors raised by the core. The C ABI layer maps each kind to a fixed `rr_status` number.

/// What went wrong, in categories that the C ABI maps one-to-one onto status codes.
public enum RopeErrorKind: Sendable, Equatable {
  /// A dimension is zero, odd, too large, or larger than the head dimension.
  case invalidDimension
  /// A real-valued parameter is NaN, infinite or outside its domain (base <= 1, factor <= 0, ...).
  case invalidValue
  /// A count is negative, or a product of sizes or a position range does not fit in Int64.
  case overflow
  /// Strides are negative, or make rows of one buffer overlap.
  case invalidStride
  /// The q and k buffers overlap.
  case overlap
  /// An output buffer is smaller than the result.
  case bufferTooSmall
  /// A setting is well formed but not supported (for example an unknown scaling name in a config).
  case unsupported
  /// A configuration text could not be parsed.
  case parse
  /// An enumeration value is not one of the documented ones.
  case unknownEnum
  /// A memory allocation failed.
  case outOfMemory
  /// A buffer is not aligned for its element type.
  case misaligned
}

/// An error with a human-readable message naming the offending field or argument.
public struct RopeError: Error, Sendable, Equatable, CustomStringConvertible {
  public var kind: RopeErrorKind
  public var message: String

  public init(_ kind: RopeErrorKind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}
