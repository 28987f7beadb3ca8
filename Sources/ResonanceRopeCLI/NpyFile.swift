// Writing float32 arrays as NumPy .npy (format version 1.0) without Foundation.
import Glibc

enum NpyError: Error, CustomStringConvertible {
  case io(String)
  var description: String {
    switch self { case .io(let m): m }
  }
}

/// Writes `values` (row-major, little-endian float32) with the given shape.
func writeNpy(path: String, shape: [Int], values: [Float]) throws {
  let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
  var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
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
