// Which copy of the kernels runs: the kernel sources are compiled twice (ResonanceRopeKernels
// for baseline x86-64, ResonanceRopeKernelsAVX2 for x86-64-v3: AVX2, FMA, F16C, BMI1/2, LZCNT,
// MOVBE), and the x86-64-v3 copy is used when CPUID and XGETBV report every one of those
// features (checked once per process). Both give the same bits: float32 arithmetic without FMA
// (Swift never contracts), and F16C rounds exactly as the software half conversion.
@_exported import ResonanceRopeKernelTypes
import CCPUFeatures
import ResonanceRopeKernels

/// One compiled copy of the kernels.
package enum Kernels: Sendable, CaseIterable {
  case baseline, avx2

  /// The fastest copy this CPU runs.
  package static let best: Kernels = resonance_rope_x86_64_v3_available() != 0 ? .avx2 : .baseline

  /// The copies this CPU can run (tests compare them bit for bit).
  package static var available: [Kernels] { best == .avx2 ? [.baseline, .avx2] : [.baseline] }

  package var name: String { self == .avx2 ? "x86-64-v3" : "baseline" }

  func rotate(_ a: AngleData, _ job: KernelRotation, scratch: UnsafeMutableRawPointer) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelRotate(a, job, scratch: scratch)
    case .avx2: v3Rotate(a, job, scratch)
    }
  }

  func fillTable(_ a: AngleData, _ job: KernelTableFill, scratch: UnsafeMutableRawPointer) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelFillTable(a, job, scratch: scratch)
    case .avx2: v3FillTable(a, job, scratch)
    }
  }

  func fillPeriodic(periods: UnsafePointer<Int64>, offsets: UnsafePointer<Int>, count: Int,
                    entries: UnsafeMutablePointer<SIMD2<Float>>) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelFillPeriodic(periods: periods, offsets: offsets, count: count, entries: entries)
    case .avx2: v3FillPeriodic(periods, offsets, count, entries)
    }
  }

  func preparedRows(_ a: AngleData, format: KernelFormat, gptj: Bool, position: Int64,
                    scratch: UnsafeMutableRawPointer) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelPreparedRows(a, format: format, gptj: gptj, position: position, scratch: scratch)
    case .avx2: v3PreparedRows(a, format, gptj, position, scratch)
    }
  }

  func rotateToken(_ a: AngleData, format: KernelFormat, gptj: Bool, q: HeadBuffer, k: HeadBuffer?, token: Int,
                   cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelRotateToken(a, format: format, gptj: gptj, q: q, k: k, token: token, cos: cos, sin: sin)
    case .avx2: v3RotateToken(a, format, gptj, q, k, token, cos, sin)
    }
  }

  /// The benchmark's yardsticks, compiled like the kernels.
  package func memoryPass(_ p: UnsafeMutableRawPointer, bytes: Int, threads: Int, prefetch: Bool, one: Float) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelMemoryPass(p, bytes: bytes, threads: threads, prefetch: prefetch, one: one)
    case .avx2: v3MemoryPass(p, bytes, threads, prefetch, one)
    }
  }

  package func memoryFill(_ p: UnsafeMutableRawPointer, bytes: Int, prefetch: Bool, one: Float) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelMemoryFill(p, bytes: bytes, prefetch: prefetch, one: one)
    case .avx2: v3MemoryFill(p, bytes, prefetch, one)
    }
  }

  /// This copy's 16-bit element conversions (test hook; see kernelWidenHalves).
  package func widenHalves(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int, bfloat16: Bool = false) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelWidenHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx2: v3WidenHalves(src, dst, count, bfloat16)
    }
  }

  package func narrowHalves(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int, bfloat16: Bool = false) {
    switch self {
    case .baseline: ResonanceRopeKernels.kernelNarrowHalves(src, dst, count: count, bfloat16: bfloat16)
    case .avx2: v3NarrowHalves(src, dst, count, bfloat16)
    }
  }
}

// The x86-64-v3 copy, by symbol name (Sources/ResonanceRopeKernels/KernelExports.swift says why
// the core does not import it). Same signatures as the definitions there.
@_silgen_name("resonance_rope_v3_rotate")
func v3Rotate(_ a: AngleData, _ job: KernelRotation, _ scratch: UnsafeMutableRawPointer)
@_silgen_name("resonance_rope_v3_fill_table")
func v3FillTable(_ a: AngleData, _ job: KernelTableFill, _ scratch: UnsafeMutableRawPointer)
@_silgen_name("resonance_rope_v3_fill_periodic")
func v3FillPeriodic(_ periods: UnsafePointer<Int64>, _ offsets: UnsafePointer<Int>, _ count: Int,
                    _ entries: UnsafeMutablePointer<SIMD2<Float>>)
@_silgen_name("resonance_rope_v3_prepared_rows")
func v3PreparedRows(_ a: AngleData, _ format: KernelFormat, _ gptj: Bool, _ position: Int64,
                    _ scratch: UnsafeMutableRawPointer) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>)
@_silgen_name("resonance_rope_v3_rotate_token")
func v3RotateToken(_ a: AngleData, _ format: KernelFormat, _ gptj: Bool, _ q: HeadBuffer, _ k: HeadBuffer?,
                   _ token: Int, _ cos: UnsafePointer<Float>, _ sin: UnsafePointer<Float>)
@_silgen_name("resonance_rope_v3_memory_pass")
func v3MemoryPass(_ p: UnsafeMutableRawPointer, _ bytes: Int, _ threads: Int, _ prefetch: Bool, _ one: Float)
@_silgen_name("resonance_rope_v3_memory_fill")
func v3MemoryFill(_ p: UnsafeMutableRawPointer, _ bytes: Int, _ prefetch: Bool, _ one: Float)
@_silgen_name("resonance_rope_v3_widen_halves")
func v3WidenHalves(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ count: Int, _ bfloat16: Bool)
@_silgen_name("resonance_rope_v3_narrow_halves")
func v3NarrowHalves(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ count: Int, _ bfloat16: Bool)
