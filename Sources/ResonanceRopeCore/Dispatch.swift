// Which copy of the kernels runs: the kernel sources are compiled three times (ResonanceRopeKernels
// for baseline x86-64, ResonanceRopeKernelsAVX2 for x86-64-v3: AVX2, FMA, F16C, BMI1/2, LZCNT,
// MOVBE; ResonanceRopeKernelsAVX512 for x86-64-v4: AVX-512 F/BW/CD/DQ/VL besides, with 16-lane
// halves), and the widest copy whose features CPUID and XGETBV report is used (checked once
// per process). `avx512bf16` is the x86-64-v4 copy with bfloat16 stored through AVX512-BF16
// (vcvtne2ps2bf16: the same bits, see rr_bf16_store32ne), on CPUs that have it. All give the same bits: float32 arithmetic without FMA
// (Swift never contracts), and F16C rounds exactly as the software half conversion.
// The kernels' entry points called here are @export(interface) (SE-0497): Embedded Swift (the
// shipped library, `make embedded`) otherwise gives clients every function body, so the core
// would compile the x86-64-v3 copy's code again with its own baseline flags (losing x86-64-v3;
// swiftc 6.3.1 even crashes on the F16C element: "Do not know how to split the result of this
// operator!"). With it the core calls the copy's own symbols, as in the SwiftPM build.
@_exported import ResonanceRopeKernelTypes
import CCPUFeatures
import CKernelHints
import ResonanceRopeKernels
import ResonanceRopeKernelsAVX2
import ResonanceRopeKernelsAVX512

/// One compiled copy of the kernels.
public enum Kernels: Sendable, CaseIterable {
  case baseline, avx2, avx512, avx512bf16

  /// The copy this process runs: the widest one the CPU has, capped by the environment variable
  /// RESONANCE_ROPE_MAX_ISA (baseline, x86-64-v3 or x86-64-v4, which leaves out AVX512-BF16;
  /// other values are ignored), read once. Every copy gives the same bytes: the cap only changes the speed (or keeps AVX-512
  /// off a CPU where the caller does not want it).
  public static let best: Kernels = {
    let cap = resonance_rope_max_isa_from_env()
    if resonance_rope_avx512_bf16_available() != 0 && cap < 0 { return .avx512bf16 }
    if resonance_rope_x86_64_v4_available() != 0 && (cap < 0 || cap >= 2) { return .avx512 }
    if resonance_rope_x86_64_v3_available() != 0 && (cap < 0 || cap >= 1) { return .avx2 }
    return .baseline
  }()

  /// One core's L2 cache in bytes (CPUID; 1 MiB when the CPU does not say).
  public static let l2CacheBytes: Int = {
    let b = resonance_rope_l2_cache_bytes()
    return b > 0 ? Int(b) : 1 << 20
  }()

  /// The one rule of the kernels' memory hints (the rotation's row prefetch, the table fill's
  /// streaming stores): whether a thread's data, `elements` elements of `size` bytes, goes past
  /// one core's L2 (an overflowing product does).
  package static func pastL2(elements: Int, size: Int) -> Bool {
    let (bytes, o) = elements.multipliedReportingOverflow(by: size)
    return o || bytes > l2CacheBytes
  }

  /// The copies this process may run, up to `best` (tests compare them bit for bit).
  public static var available: [Kernels] {
    switch best {
    case .baseline: [.baseline]
    case .avx2: [.baseline, .avx2]
    case .avx512: [.baseline, .avx2, .avx512]
    case .avx512bf16: [.baseline, .avx2, .avx512, .avx512bf16]
    }
  }

  public var name: String {
    switch self {
    case .baseline: "baseline"
    case .avx2: "x86-64-v3"
    case .avx512: "x86-64-v4"
    case .avx512bf16: "x86-64-v4+bf16"
    }
  }

  /// What this process has learned so far about the row prefetch of streamed rotations
  /// (`RowAccess.measured`): per element format and one thread or more, the distance it
  /// prefetches ahead in bytes (0: no prefetch), or nil (not decided yet). Only the speed
  /// depends on it.
  public static func learnedRowPrefetch(_ format: ElementFormat, multiThread: Bool) -> Int? {
    let arm = rr_row_prefetch_verdict(rowPrefetchSlot(format.kernelFormat, threads: multiThread ? 2 : 1))
    return arm < 0 ? nil : rowPrefetchDistance(arm: arm)
  }

  /// The distances of the benchmark's prefetched yardstick passes: those the row prefetch
  /// chooses from (`rowPrefetchDistance(arm:)`, arms 1 and 2).
  public static var yardstickPrefetchDistances: [Int] { [rowPrefetchDistance(arm: 1), rowPrefetchDistance(arm: 2)] }

  func rotate(_ a: AngleData, _ job: KernelRotation, scratch: UnsafeMutableRawPointer) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelRotate(a, job, scratch: scratch)
    case .avx2: ResonanceRopeKernelsAVX2.kernelRotate(a, job, scratch: scratch)
    case .avx512: ResonanceRopeKernelsAVX512.kernelRotate(a, job, scratch: scratch)
    case .avx512bf16: ResonanceRopeKernelsAVX512.kernelRotateBF16(a, job, scratch: scratch)
    }
  }

  func fillTable(_ a: AngleData, _ job: KernelTableFill, scratch: UnsafeMutableRawPointer) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelFillTable(a, job, scratch: scratch)
    case .avx2: ResonanceRopeKernelsAVX2.kernelFillTable(a, job, scratch: scratch)
    case .avx512, .avx512bf16: ResonanceRopeKernelsAVX512.kernelFillTable(a, job, scratch: scratch)
    }
  }

  func fillPeriodic(periods: UnsafePointer<Int64>, offsets: UnsafePointer<Int>, count: Int,
                    entries: UnsafeMutablePointer<SIMD2<Float>>, undecided: UnsafeMutablePointer<SIMD2<Int32>>,
                    capacity: Int) -> Int {
    switch self {
    case .baseline:
      ResonanceRopeKernels.kernelFillPeriodic(periods: periods, offsets: offsets, count: count, entries: entries,
                                              undecided: undecided, capacity: capacity)
    case .avx2:
      ResonanceRopeKernelsAVX2.kernelFillPeriodic(periods: periods, offsets: offsets, count: count, entries: entries,
                                                  undecided: undecided, capacity: capacity)
    case .avx512, .avx512bf16:
      ResonanceRopeKernelsAVX512.kernelFillPeriodic(periods: periods, offsets: offsets, count: count, entries: entries,
                                                    undecided: undecided, capacity: capacity)
    }
  }

  func preparedRows(_ a: AngleData, format: KernelFormat, gptj: Bool, position: Int64,
                    scratch: UnsafeMutableRawPointer) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelPreparedRows(a, format: format, gptj: gptj, position: position, scratch: scratch)
    case .avx2: ResonanceRopeKernelsAVX2.kernelPreparedRows(a, format: format, gptj: gptj, position: position, scratch: scratch)
    case .avx512, .avx512bf16: ResonanceRopeKernelsAVX512.kernelPreparedRows(a, format: format, gptj: gptj, position: position, scratch: scratch)
    }
  }

  func rotateToken(_ a: AngleData, format: KernelFormat, gptj: Bool, q: HeadBuffer, k: HeadBuffer?, token: Int,
                   cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelRotateToken(a, format: format, gptj: gptj, q: q, k: k, token: token, cos: cos, sin: sin)
    case .avx2: ResonanceRopeKernelsAVX2.kernelRotateToken(a, format: format, gptj: gptj, q: q, k: k, token: token, cos: cos, sin: sin)
    case .avx512: ResonanceRopeKernelsAVX512.kernelRotateToken(a, format: format, gptj: gptj, q: q, k: k, token: token, cos: cos, sin: sin)
    case .avx512bf16:
      ResonanceRopeKernelsAVX512.kernelRotateTokenBF16(a, format: format, gptj: gptj, q: q, k: k, token: token, cos: cos, sin: sin)
    }
  }

  /// The benchmark's yardsticks, compiled like the kernels.
  package func memoryPass(_ p: UnsafeMutableRawPointer, bytes: Int, threads: Int, ahead: Int, one: Float) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelMemoryPass(p, bytes: bytes, threads: threads, ahead: ahead, one: one)
    case .avx2: ResonanceRopeKernelsAVX2.kernelMemoryPass(p, bytes: bytes, threads: threads, ahead: ahead, one: one)
    case .avx512, .avx512bf16: ResonanceRopeKernelsAVX512.kernelMemoryPass(p, bytes: bytes, threads: threads, ahead: ahead, one: one)
    }
  }

  package func memoryFill(_ p: UnsafeMutableRawPointer, bytes: Int, stream: Bool, one: Float) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelMemoryFill(p, bytes: bytes, stream: stream, one: one)
    case .avx2: ResonanceRopeKernelsAVX2.kernelMemoryFill(p, bytes: bytes, stream: stream, one: one)
    case .avx512, .avx512bf16: ResonanceRopeKernelsAVX512.kernelMemoryFill(p, bytes: bytes, stream: stream, one: one)
    }
  }

  /// This copy's 16-bit element conversions (test hook; see kernelWidenHalves).
  package func widenHalves(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int, bfloat16: Bool = false) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelWidenHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx2: ResonanceRopeKernelsAVX2.kernelWidenHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx512, .avx512bf16: ResonanceRopeKernelsAVX512.kernelWidenHalves(src, dst, count: count, bfloat16: bfloat16)
    }
  }

  package func narrowHalves(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int, bfloat16: Bool = false) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelNarrowHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx2: ResonanceRopeKernelsAVX2.kernelNarrowHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx512: ResonanceRopeKernelsAVX512.kernelNarrowHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx512bf16:
      if bfloat16 { ResonanceRopeKernelsAVX512.kernelNarrowHalvesBF16(src, dst, count: count) } else {
        ResonanceRopeKernelsAVX512.kernelNarrowHalves(src, dst, count: count, bfloat16: false)
      }
    }
  }
}
