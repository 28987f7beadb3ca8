// Internal parallelism: a range split into grains that POSIX threads created for the call take
// one at a time from a shared counter.
//
// Threads are created and joined inside the call (no pool, nothing outlives it): about 20-50 us
// per thread, so this pays off for prefill-sized calls; engines with their own pools should use
// token_begin / token_end instead. Grains rather than one fixed chunk per thread, because a
// thread can start late: measured on the 2-vCPU development VM, a 2-thread f32 prefill called
// right after 2 ms of idling took 3.5-3.7 ms against 3.75-3.95 ms on 1 thread (2.7-2.9 ms when
// called back to back): the new thread's CPU took ~1.8 ms to wake, and its fixed half waited for
// it. Workers are created off the caller's CPU (`rr_thread_create`: after 20 ms of idling a new
// thread often started 1-5 ms late on the caller's own busy CPU, and the 2-thread prefill took
// 7.2 ms, 1-thread time; placed off it, 4.9 ms). If pthread_create fails, the caller's thread
// takes every grain: the call still completes, and results never depend on which thread ran a
// grain.
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

/// Runs `body(range, worker)` over [0, count) in grains of consecutive elements (about 8 per
/// worker), on `chunkCount(count:threads:)` workers: worker 0 is the calling thread, the others
/// are threads created here; each takes the next grain from a shared counter until none is
/// left, so `body` may run several times per worker (never concurrently for one worker index).
/// Returns after every grain has finished.
public func parallelChunks(count: Int, threads: Int, _ body: (Range<Int>, Int) -> Void) {
  let n = chunkCount(count: count, threads: threads)
  if n <= 1 {
    if count > 0 { body(0 ..< count, 0) }
    return
  }
  let grain = max(1, count / (8 * n))  // n <= count, so count / (8n) + start stays far from overflow
  var next: Int64 = 0
  withUnsafeMutablePointer(to: &next) { counter in
    withoutActuallyEscaping(body) { escapable in
      // The grains of one worker: the counter only grows, so each grain goes to exactly one.
      let work: (Int) -> Void = { worker in
        while true {
          let start = Int(rr_fetch_add(counter, Int64(grain)))
          if start >= count { return }
          escapable(start ..< min(start &+ grain, count), worker)
        }
      }
      withUnsafeTemporaryAllocation(of: pthread_t.self, capacity: n) { tids in
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: n) { started in
          for c in 1 ..< n {
            let job = Unmanaged.passRetained(ChunkJob(work, c)).toOpaque()
            let rc = rr_thread_create(&tids[c], { raw in
              let job = Unmanaged<ChunkJob>.fromOpaque(raw!).takeRetainedValue()
              job.body(job.index)
              return nil
            }, job)
            started[c] = rc == 0
            if rc != 0 { Unmanaged<ChunkJob>.fromOpaque(job).release() }
          }
          work(0)
          for c in 1 ..< n where started[c] { pthread_join(tids[c], nil) }
        }
      }
    }
  }
}
