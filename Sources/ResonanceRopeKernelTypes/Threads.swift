// Internal parallelism: contiguous chunks of a range on POSIX threads created for the call.
//
// Threads are created and joined inside the call (no pool, nothing outlives it): about 20-50 us
// per thread, so this pays off for prefill-sized calls; engines with their own pools should use
// token_begin / token_end instead. If pthread_create fails, that chunk runs on the caller's
// thread: the call still completes, and results never depend on how chunks are run.
import CLibc

/// Largest number of threads one call uses.
public let maxThreads = 256

private final class ChunkJob: @unchecked Sendable {  // handed to exactly one thread, joined before return
  let body: (Int) -> Void
  let index: Int
  init(_ body: @escaping (Int) -> Void, _ index: Int) {
    self.body = body
    self.index = index
  }
}

/// How many chunks `parallelChunks` makes: min(threads, count, maxThreads), at least 1.
public func chunkCount(count: Int, threads: Int) -> Int { max(1, min(max(threads, 1), count, maxThreads)) }

/// Splits [0, count) into `chunkCount(count:threads:)` contiguous chunks (the first ones one
/// element longer when it does not divide) and runs `body(chunk range, chunk index)` for each,
/// chunk 0 on the calling thread. Returns after every chunk has finished.
public func parallelChunks(count: Int, threads: Int, _ body: (Range<Int>, Int) -> Void) {
  let n = chunkCount(count: count, threads: threads)
  if n <= 1 {
    if count > 0 { body(0 ..< count, 0) }
    return
  }
  let base = count / n, extra = count % n
  func chunk(_ c: Int) -> Range<Int> {
    let start = c * base + min(c, extra)  // <= count
    return start ..< start + base + (c < extra ? 1 : 0)
  }
  withoutActuallyEscaping(body) { escapable in
    withUnsafeTemporaryAllocation(of: pthread_t.self, capacity: n) { tids in
      withUnsafeTemporaryAllocation(of: Bool.self, capacity: n) { started in
        for c in 1 ..< n {
          let job = Unmanaged.passRetained(ChunkJob({ escapable(chunk($0), $0) }, c)).toOpaque()
          let rc = pthread_create(&tids[c], nil, { raw in
            let job = Unmanaged<ChunkJob>.fromOpaque(raw!).takeRetainedValue()
            job.body(job.index)
            return nil
          }, job)
          started[c] = rc == 0
          if rc != 0 { Unmanaged<ChunkJob>.fromOpaque(job).release() }
        }
        escapable(chunk(0), 0)
        for c in 1 ..< n {
          if started[c] { pthread_join(tids[c], nil) } else { escapable(chunk(c), c) }
        }
      }
    }
  }
}
