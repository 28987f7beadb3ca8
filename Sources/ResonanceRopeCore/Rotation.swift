// In-place rotation of strided q/k buffers and cos/sin cache fills: the core's side (job
// descriptions, scratch, dispatch); the loops are in Sources/ResonanceRopeKernels.
import CLibc
import ResonanceRopeKernels

extension HeadBuffer {
  package init(base: UnsafeMutableRawPointer, geometry g: HeadGeometry) {
    self.init(base: base, heads: Int(g.heads), tokenStride: Int(g.tokenStride), headStride: Int(g.headStride))
  }
}

extension ElementFormat {
  var kernelFormat: KernelFormat {
    switch self {
    case .float32: .float32
    case .float16: .float16
    case .bfloat16: .bfloat16
    }
  }
}

/// A kernel call that needs scratch (`FrequencyTable.withKernelScratch`), by reference: the job
/// and the angle data stay where they are (as values, the ~260 bytes of an enum payload were
/// copied three times per call on the way through C: memcpy was 5 % of a decode call).
struct ScratchWork {
  enum Job {
    case rotate(UnsafePointer<KernelRotation>)
    case fillTable(UnsafePointer<KernelTableFill>)
  }
  var kernels: Kernels
  var angles: UnsafePointer<AngleData>
  var job: Job

  func run(scratch: UnsafeMutableRawPointer) {
    switch job {
    case .rotate(let j): kernels.rotate(angles.pointee, j.pointee, scratch: scratch)
    case .fillTable(let j): kernels.fillTable(angles.pointee, j.pointee, scratch: scratch)
    }
  }
}

extension FrequencyTable {
  /// Runs `work` with `chunks` blocks of kernel scratch for a call of `tokens` tokens, 64-byte
  /// aligned (`kernelScratchBytes(tokens:)` per block: 2.6 KiB for one token at d = 128, up to
  /// ~22 KiB from 16 tokens on): on the caller's stack when they fit in RR_STACK_SCRATCH_BYTES
  /// (a decode call allocates nothing), malloc'd otherwise. Throws `.outOfMemory` when malloc
  /// fails, before anything is written.
  func withKernelScratch(tokens: Int, chunks: Int, _ work: ScratchWork) throws(RopeError) {
    let bytes = ResonanceRopeKernels.kernelScratchBytes(fast.data, tokens: tokens)  // <= ~2 MiB at h = 32768
    let (total, o) = bytes.multipliedReportingOverflow(by: max(chunks, 1))
    if !o && total <= Int(RR_STACK_SCRATCH_BYTES) {
      // The work as a value behind a C function pointer that captures nothing (a Swift closure
      // passed through C would be escaping: a heap-allocated context, two per call measured).
      withUnsafePointer(to: work) { p in
        rr_with_stack_scratch({ p, raw in p!.assumingMemoryBound(to: ScratchWork.self).pointee.run(scratch: raw!) },
                              UnsafeMutableRawPointer(mutating: p))
      }
      return
    }
    guard !o, let raw = aligned_alloc(64, total) else {
      throw RopeError(.outOfMemory, "could not allocate \(bytes) bytes of scratch per thread for \(chunks) threads")
    }
    defer { free(raw) }
    work.run(scratch: raw)
  }

  /// Rotates tokens `tokens` of q (and k) in place: pair i of token t turns by the angle of
  /// position `positions[t]` (negated when `inverse`), scaled by the attention factor when
  /// `applyAttentionFactor`. Dimensions past the rotary dim are not touched. `threads` > 1 splits
  /// the tokens into runs of consecutive tokens on that many threads (capped at `maxThreads`); results are
  /// bit-identical for every thread count and for every copy of the kernels (`kernels`).
  /// `rows`: how the kernel walks the rows (`RowAccess`); nil, the library's choice: streamed
  /// with the prefetch as measured (`RowAccess.measured`) when the rows one thread rotates do not
  /// fit in this CPU's L2 cache, else
  /// cached.
  package func rotate(format: ElementFormat, q: HeadBuffer, k: HeadBuffer?, tokens: Range<Int>,
                      positions: Positions, inverse: Bool, applyAttentionFactor: Bool, threads: Int = 1,
                      kernels: Kernels = .best, rows access: RowAccess? = nil) throws(RopeError) {
    // Rows per thread (each rotaryDim elements): heads and tokens are validated spans, so only
    // an absurd product overflows, and then it is past L2 anyway.
    let heads = q.heads.addingReportingOverflow(k?.heads ?? 0), tokensPerThread = tokens.count / max(1, min(threads, tokens.count))
    let rows = tokensPerThread.multipliedReportingOverflow(by: heads.partialValue)
    let elements = rows.partialValue.multipliedReportingOverflow(by: Int(config.rotaryDim))
    let past = heads.overflow || rows.overflow || elements.overflow || Kernels.pastL2(elements: elements.partialValue, size: format.size)
    let job = KernelRotation(q: q, k: k, tokens: tokens, positions: positions, format: format.kernelFormat,
                             gptj: config.layout == .gptj, scale: applyAttentionFactor ? attentionFactor : 1,
                             sinSign: inverse ? -1 : 1, threads: threads,
                             rows: access ?? .library(pastL2: past))
    try withUnsafePointer(to: fast.data) { (a) throws(RopeError) in
      try withUnsafePointer(to: job) { (j) throws(RopeError) in
        try withKernelScratch(tokens: tokens.count, chunks: chunkCount(count: tokens.count, threads: threads),
                              ScratchWork(kernels: kernels, angles: a, job: .rotate(j)))
      }
    }
  }

  /// Fills a cos/sin cache for `count` positions. `sin` must be non-nil unless layout == .vllm.
  /// `scale` multiplies every value once (the attention factor, or 1). Rows come from the fast
  /// generator (KernelAngles.swift). `stream`: whether rows may be written with streaming stores;
  /// nil (the library's choice) when the output does not fit in this CPU's L2 cache.
  package func fillTable(layout: TableLayout, positions: Positions, count: Int, scale: Double,
                         cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>?,
                         kernels: Kernels = .best, stream: Bool? = nil) throws(RopeError) {
    let floats = count.multipliedReportingOverflow(by: Int(config.rotaryDim))  // both buffers: 2 * (d / 2), or more
    let large = floats.overflow || Kernels.pastL2(elements: floats.partialValue, size: 4)
    let job = KernelTableFill(layout: layout.kernelLayout, positions: positions, count: count, scale: scale, cos: cos, sin: sin,
                              stream: stream ?? large)
    try withUnsafePointer(to: fast.data) { (a) throws(RopeError) in
      try withUnsafePointer(to: job) { (j) throws(RopeError) in
        try withKernelScratch(tokens: count, chunks: 1, ScratchWork(kernels: kernels, angles: a, job: .fillTable(j)))
      }
    }
  }

  /// Rotates one token's heads with rows from `preparedRows` (the benchmark's rotation-only case).
  package func rotateToken(format: ElementFormat, q: HeadBuffer, k: HeadBuffer?, token t: Int,
                           cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, kernels: Kernels = .best) {
    kernels.rotateToken(fast.data, format: format.kernelFormat, gptj: config.layout == .gptj, q: q, k: k, token: t, cos: cos, sin: sin)
  }

  /// Bytes of scratch `preparedRows` needs.
  package var kernelScratchBytes: Int { ResonanceRopeKernels.kernelScratchBytes(fast.data, tokens: 1) }

  /// The rows `rotateToken` takes for one position and format, written into `scratch`
  /// (`kernelScratchBytes` bytes, 64-byte aligned).
  package func preparedRows(format: ElementFormat, position m: Int64, scratch: UnsafeMutableRawPointer,
                            kernels: Kernels = .best) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    kernels.preparedRows(fast.data, format: format.kernelFormat, gptj: config.layout == .gptj, position: m, scratch: scratch)
  }
}
