// Status codes, their texts and the thread-local last-error message.
import CResonanceRope
import ResonanceRopeCore

/// Result of every fallible rr_ function. Values are fixed and never renumbered; a retired
/// value stays reserved. On any status other than RR_STATUS_OK the function has written
/// nothing to its outputs, and rr_last_error_message() names the argument at fault.
@c(rr_status) public enum Status: Int32, Sendable {
  /// Success.
  case ok = 0
  /// A required pointer argument (or a pointer field of a struct) is NULL.
  case nullPointer = 1
  /// A struct's struct_size is not a size this library knows, or a reserved field is not 0.
  case structSize = 2
  /// rotary_dim or head_dim is zero, odd, too large, rotary_dim > head_dim, or an array
  /// has the wrong number of elements.
  case invalidDimension = 3
  /// A real parameter is NaN, infinite or out of its domain (base <= 1, factor <= 0, ...).
  case invalidValue = 4
  /// A count is negative, or a size, product of sizes or position range overflows int64.
  case overflow = 5
  /// A stride is negative or makes rows of one buffer overlap.
  case invalidStride = 6
  /// An output's bytes overlap another output or an input (q and k, positions inside q, a
  /// cos/sin table over its positions, ...). q/k views into one fused qkv row that share no
  /// element are accepted.
  case overlap = 7
  /// An output capacity is smaller than the result.
  case bufferTooSmall = 8
  /// An enumeration value or flag bit is not one this library defines.
  case unknownEnum = 9
  /// A data pointer is not aligned to its element type.
  case misaligned = 10
  /// A configuration text could not be parsed.
  case parseError = 11
  /// A setting is well formed but not supported.
  case unsupported = 12
  /// Memory could not be allocated.
  case outOfMemory = 13
  /// A token range lies outside [0, n_tokens], or an argument is otherwise inconsistent.
  case invalidArgument = 14
}

extension Status {
  init(_ kind: RopeErrorKind) {
    switch kind {
    case .invalidDimension: self = .invalidDimension
    case .invalidValue: self = .invalidValue
    case .overflow: self = .overflow
    case .invalidStride: self = .invalidStride
    case .overlap: self = .overlap
    case .bufferTooSmall: self = .bufferTooSmall
    case .unsupported: self = .unsupported
    case .parse: self = .parseError
    case .unknownEnum: self = .unknownEnum
    case .outOfMemory: self = .outOfMemory
    case .misaligned: self = .misaligned
    }
  }

  var text: StaticString {
    switch self {
    case .ok: "success"
    case .nullPointer: "a required pointer is NULL"
    case .structSize: "unknown struct_size, or a reserved field is not zero"
    case .invalidDimension: "invalid dimension (zero, odd, too large, or rotary_dim > head_dim)"
    case .invalidValue: "a parameter is NaN, infinite or out of its domain"
    case .overflow: "a count is negative or a size overflows int64"
    case .invalidStride: "a stride is negative or makes rows overlap"
    case .overlap: "an output overlaps another argument"
    case .bufferTooSmall: "an output buffer is too small"
    case .unknownEnum: "unknown enumeration value or flag bit"
    case .misaligned: "a data pointer is misaligned for its element type"
    case .parseError: "the configuration text could not be parsed"
    case .unsupported: "the setting is not supported"
    case .outOfMemory: "out of memory"
    case .invalidArgument: "an argument is out of range or inconsistent"
    }
  }
}

/// A C string pointer to static, NUL-terminated text in the library image.
@inline(__always) func cString(_ s: StaticString) -> UnsafePointer<CChar> {
  UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Static text describing `status`; unknown values give "unknown status".
/// Never NULL; the text must not be freed. Thread-safe. Added in 0.1.0.
@c(rr_status_string) public func rrStatusString(_ status: Int32) -> UnsafePointer<CChar> {
  guard let s = Status(rawValue: status) else { return cString("unknown status") }
  return cString(s.text)
}

/// The message of the last failing rr_ call on the calling thread, naming the function and
/// the argument at fault (for example "rr_rope_create: rotary_dim = 7: must be even ...").
/// Empty when no call has failed on this thread. Never NULL; the text belongs to the library
/// and stays valid until the next failing call on the same thread. Added in 0.1.0.
@c(rr_last_error_message) public func rrLastErrorMessage() -> UnsafePointer<CChar> {
  rrc_last_error()
}

/// Records `message` as this thread's last error and returns `status`.
func fail(_ status: Status, _ function: StaticString, _ message: String) -> Status {
  var text = "\(function): \(message)"
  text.withUTF8 { b in
    b.withMemoryRebound(to: CChar.self) { rrc_set_last_error($0.baseAddress, $0.count) }
  }
  return status
}

/// Runs a validated body, mapping a thrown `RopeError` to its status and message.
@inline(__always)
func guarded(_ function: StaticString, _ body: () throws(CallError) -> Void) -> Status {
  do {
    try body()
    return .ok
  } catch {
    return fail(error.status, function, error.message)
  }
}

/// An error raised inside the C layer: a status and a message.
struct CallError: Error {
  var status: Status
  var message: String
  init(_ status: Status, _ message: String) {
    self.status = status
    self.message = message
  }
  init(_ e: RopeError) {
    self.status = Status(e.kind)
    self.message = e.message
  }
}

/// Runs a core call, converting its error.
@inline(__always)
func core<T>(_ body: () throws(RopeError) -> T) throws(CallError) -> T {
  do { return try body() } catch { throw CallError(error) }
}

/// The core's alignment rule (`checkAligned`, BufferGeometry.swift) for C arguments:
/// RR_STATUS_MISALIGNED unless `p` is a multiple of `alignment`.
@inline(__always)
func requireAligned(_ p: UnsafeRawPointer, to alignment: Int, _ name: String) throws(CallError) {
  try core { () throws(RopeError) in try checkAligned(p, to: alignment, name) }
}

/// `requireAligned(_:to:_:)` for a typed pointer: aligned for `T`.
@inline(__always)
func requireAligned<T>(_ p: UnsafePointer<T>, _ name: String) throws(CallError) {
  try requireAligned(UnsafeRawPointer(p), to: MemoryLayout<T>.alignment, name)
}

/// Whether every byte of `value` is 0 (reserved fields).
func isZero<T>(_ value: T) -> Bool {
  withUnsafeBytes(of: value) { $0.allSatisfy { $0 == 0 } }
}

/// The one struct-header check: `size` (the caller's struct_size) must be `expected`, and every
/// reserved field (`reservedZero`, from isZero) must be 0. Output structs pass no reserved fields.
func requireStructHeader(_ name: String, size: UInt32, expected: UInt32, reservedZero: Bool = true,
                         hint: String = "") throws(CallError) {
  guard size == expected else {
    throw CallError(.structSize, "\(name)->struct_size = \(size): expected \(expected)\(hint)")
  }
  guard reservedZero else { throw CallError(.structSize, "\(name)->reserved fields must be 0") }
}

/// One argument's bytes, for the overlap check: [start, start + count) of the caller's memory.
struct ByteRange {
  var name: String
  var start: UInt
  var count: UInt

  /// `count` bytes from `p` (nothing for NULL or count <= 0). Counts are validated products.
  init(_ name: String, _ p: UnsafeRawPointer?, bytes: Int64) {
    self.name = name
    self.start = p.map { UInt(bitPattern: $0) } ?? 0
    self.count = p == nil || bytes <= 0 ? 0 : UInt(bytes)
  }

  /// `count` elements of `T` from `p`.
  init<T>(_ name: String, _ p: UnsafePointer<T>?, count: Int64) {
    let (b, o) = count.multipliedReportingOverflow(by: Int64(MemoryLayout<T>.stride))
    self.init(name, p.map(UnsafeRawPointer.init), bytes: o ? Int64.max : b)
  }

  init<T>(_ name: String, _ p: UnsafeMutablePointer<T>?, count: Int64) {
    self.init(name, p.map { UnsafePointer($0) }, count: count)
  }

  func intersects(_ o: ByteRange) -> Bool {
    // Both extents are validated byte counts of caller buffers, which cannot wrap the address space.
    count > 0 && o.count > 0 && start < o.start &+ o.count && o.start < start &+ count
  }
}

/// The one overlap check: RR_STATUS_OVERLAP when the bytes an output is written to intersect
/// another output or any input (reads of an input would see the output being written).
/// Inputs may overlap each other. Called after every other check, on validated extents.
func requireDisjoint(outputs: [ByteRange], inputs: [ByteRange] = []) throws(CallError) {
  for (i, a) in outputs.enumerated() {
    for b in outputs[(i + 1)...] + inputs where a.intersects(b) {
      throw CallError(.overlap, "\(a.name) (\(a.count) bytes) overlaps \(b.name) (\(b.count) bytes)")
    }
  }
}

/// Unwraps a pointer argument or fails with RR_STATUS_NULL_POINTER naming it.
@inline(__always)
func required<P>(_ p: P?, _ name: String) throws(CallError) -> P {
  guard let p else { throw CallError(.nullPointer, "\(name) is NULL") }
  return p
}
