// Reading and writing files without Foundation.
import Glibc

struct FileError: Error, CustomStringConvertible {
  var description: String
}

/// The bytes of a file.
func readFile(_ path: String) throws -> [UInt8] {
  guard let f = fopen(path, "rb") else { throw FileError(description: "cannot open \(path)") }
  defer { fclose(f) }
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
    if n == 0 { break }
    out += chunk[0 ..< n]
  }
  guard ferror(f) == 0 else { throw FileError(description: "error reading \(path)") }
  return out
}

func readTextFile(_ path: String) throws -> String { String(decoding: try readFile(path), as: UTF8.self) }

/// Writes bytes to a file, or to standard output for nil / "-".
func writeOutput(_ path: String?, _ text: String) throws {
  guard let path, path != "-" else {
    print(text, terminator: "")
    return
  }
  guard let f = fopen(path, "wb") else { throw FileError(description: "cannot open \(path) for writing") }
  defer { fclose(f) }
  var t = text
  let ok = t.withUTF8 { fwrite($0.baseAddress, 1, $0.count, f) == $0.count }
  guard ok else { throw FileError(description: "short write to \(path)") }
}
