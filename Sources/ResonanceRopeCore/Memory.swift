// Fallible memory: the one mechanism by which code reachable from the C ABI gets memory whose
// size depends on its input. A Swift Array (or UnsafeMutablePointer.allocate) that cannot get
// memory prints "Fatal error: failed to allocate" and aborts the caller's process; malloc
// returns NULL, which becomes RopeError(.outOfMemory) -> RR_STATUS_OUT_OF_MEMORY.
//
// Two uses of checked allocation:
//   - CheckedBuffer: scratch and copies the code fills itself (gap scratch, text copies).
//   - requireMemory: code that builds a few small Swift arrays whose total size is bounded by the
//     input (a handle's per-pair arrays: at most 32768 pairs) first proves the bound is available
//     by mapping it once (the whole bound, released at once). The arrays that follow
//     then need less address space than was just free; only another thread taking that space
//     between the two could still make them fail (stated in the header).
import CLibc

/// `count` elements of a trivial type in one malloc'd block, freed when the value goes away.
package struct CheckedBuffer<Element: BitwiseCopyable>: ~Copyable {
  package let base: UnsafeMutablePointer<Element>
  package let count: Int

  /// Throws `.outOfMemory` (naming `what`) when count * stride overflows or malloc fails.
  package init(count: Int, _ what: @autoclosure () -> String) throws(RopeError) {
    let (bytes, o) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
    guard count >= 0, !o, let raw = malloc(bytes) else {
      throw RopeError(.outOfMemory, "could not allocate \(what()) (\(count) x \(MemoryLayout<Element>.stride) bytes)")
    }
    base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
    self.count = count
  }

  package subscript(i: Int) -> Element {
    @inline(__always) get { base[i] }
    @inline(__always) nonmutating set { base[i] = newValue }
  }

  deinit { free(base) }
}

/// Throws `.outOfMemory` unless `bytes` can be allocated now (see the file comment).
///
/// The proof is a private anonymous read-write mapping of that size, unmapped at once: it is
/// refused exactly where malloc's own mapping would be (RLIMIT_AS, the overcommit policy), and,
/// unlike a malloc/free pair with nothing in between, the compiler cannot remove it (LLVM
/// deletes such pairs, which made a first version of this check a no-op).
///
/// Bounds below 64 KiB are not probed: malloc serves them from memory it already holds, like
/// the fixed-size allocations (the handle object, an error message) no check can cover, and two
/// system calls per small handle would cost more than creating it.
package func requireMemory(bytes: Int, _ what: @autoclosure () -> String) throws(RopeError) {
  if bytes >= 0 && bytes < 1 << 16 { return }
  let n = max(bytes, 1)
  // MAP_FAILED is (void *)-1, a macro Swift does not import.
  guard bytes >= 0, let p = mmap(nil, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        Int(bitPattern: p) != -1 else {
    throw RopeError(.outOfMemory, "could not allocate \(what()) (\(bytes) bytes)")
  }
  munmap(p, n)
}

/// Bytes that parsing a configuration text (JSON or GGUF key=value) may allocate per input byte,
/// with the copy of the text: proven available (`requireMemory`) before a text is copied, since
/// the parsers build Swift strings, arrays and dictionaries. Measured before the one-pass byte
/// parsers: up to 38 bytes per byte (a 60 MB GGUF text took 2.3 GB). Lower it with the parsers.
package let textParseBytesPerInputByte = 64
