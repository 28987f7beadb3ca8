// Writing float32 arrays as NumPy .npy (format version 1.0) without Foundation.
import Glibc

enum NpyError: Error, CustomStringConvertible {
  case io(String)
  var description: String {
    switch self { case .io(let m): m }
  }
}

/// Element types the .npy writer and reader handle.
protocol NpyElement { static var descr: String { get } }
extension Float: NpyElement { static var descr: String { "<f4" } }
extension Int32: NpyElement { static var descr: String { "<i4" } }
extension Int64: NpyElement { static var descr: String { "<i8" } }

/// Writes `values` (row-major, little-endian) with the given shape.
func writeNpy<T: NpyElement>(path: String, shape: [Int], values: [T]) throws {
  let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
  var header = "{'descr': '\(T.descr)', 'fortran_order': False, 'shape': (\(dims)), }"
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64,
  // ending in a newline (NEP 1).
  let unpadded = 10 + header.utf8.count + 1
  header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
  var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
  let n = header.utf8.count
  bytes += [UInt8(n & 0xFF), UInt8(n >> 8)]
  bytes += Array(header.utf8)
  guard let f = fopen(path, "wb") else { throw NpyError.io("cannot open \(path) for writing") }
  defer { fclose(f) }
  let ok1 = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
  let ok2 = values.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
  guard ok1, ok2 else { throw NpyError.io("short write to \(path)") }
}

/// Reads a C-ordered int32 or int64 .npy file as Int32 values with its shape.
func readNpyInt32(_ path: String) throws -> (shape: [Int], values: [Int32]) {
  let b = try readFile(path)
  guard b.count >= 10, b[0] == 0x93, Array(b[1 ..< 6]) == Array("NUMPY".utf8) else { throw NpyError.io("\(path): not a .npy file") }
  let major = b[6]
  let hlen = major == 1 ? Int(b[8]) | Int(b[9]) << 8 : (b.count >= 12 ? Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24 : -1)
  let start = major == 1 ? 10 : 12
  guard hlen >= 0, start + hlen <= b.count else { throw NpyError.io("\(path): truncated header") }
  let header = String(decoding: b[start ..< start + hlen], as: UTF8.self)
  guard !header.contains("'fortran_order': True") else { throw NpyError.io("\(path): Fortran order not supported") }
  let width: Int
  if header.contains("'<i4'") { width = 4 } else if header.contains("'<i8'") { width = 8 } else {
    throw NpyError.io("\(path): dtype must be int32 or int64 (<i4 or <i8)")
  }
  guard let open = header.firstIndex(of: "("), let close = header[open...].firstIndex(of: ")") else { throw NpyError.io("\(path): no shape") }
  let shape = header[header.index(after: open) ..< close].split(separator: ",").compactMap { Int($0.filter { $0 != " " }) }
  let n = shape.reduce(1, *)
  let data = start + hlen
  guard data + n * width == b.count else { throw NpyError.io("\(path): data size does not match shape \(shape)") }
  var values = [Int32](repeating: 0, count: n)
  for i in 0 ..< n {
    var v: Int64 = 0
    for k in 0 ..< width { v |= Int64(b[data + i * width + k]) << (8 * k) }
    if width == 4 { v = Int64(Int32(truncatingIfNeeded: v)) }
    guard let x = Int32(exactly: v) else { throw NpyError.io("\(path): value \(v) does not fit int32") }
    values[i] = x
  }
  return (shape, values)
}
