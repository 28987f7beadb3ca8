// The x86-64-v3 copy's entry points under fixed symbol names. The core declares them (Dispatch.swift)
// without importing ResonanceRopeKernelsAVX2: Embedded Swift serializes every function body into
// a module's interface, so a core that imported this copy would specialize its kernels inside
// the core, compiled for baseline x86-64, where LLVM cannot lower the AVX2 and F16C operations
// ("Do not know how to split the result of this operator!"). Through these names the AVX2 code
// is only ever compiled here. The baseline copy compiles nothing from this file.
import ResonanceRopeKernelTypes

#if RR_KERNEL_AVX2
@_silgen_name("resonance_rope_v3_rotate")
package func v3Rotate(_ a: AngleData, _ job: KernelRotation, _ scratch: UnsafeMutableRawPointer) {
  kernelRotate(a, job, scratch: scratch)
}

@_silgen_name("resonance_rope_v3_fill_table")
package func v3FillTable(_ a: AngleData, _ job: KernelTableFill, _ scratch: UnsafeMutableRawPointer) {
  kernelFillTable(a, job, scratch: scratch)
}

@_silgen_name("resonance_rope_v3_fill_periodic")
package func v3FillPeriodic(_ periods: UnsafePointer<Int64>, _ offsets: UnsafePointer<Int>, _ count: Int,
                            _ entries: UnsafeMutablePointer<SIMD2<Float>>) {
  kernelFillPeriodic(periods: periods, offsets: offsets, count: count, entries: entries)
}

@_silgen_name("resonance_rope_v3_prepared_rows")
package func v3PreparedRows(_ a: AngleData, _ format: KernelFormat, _ gptj: Bool, _ position: Int64,
                            _ scratch: UnsafeMutableRawPointer) -> (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
  kernelPreparedRows(a, format: format, gptj: gptj, position: position, scratch: scratch)
}

@_silgen_name("resonance_rope_v3_rotate_token")
package func v3RotateToken(_ a: AngleData, _ format: KernelFormat, _ gptj: Bool, _ q: HeadBuffer, _ k: HeadBuffer?,
                           _ token: Int, _ cos: UnsafePointer<Float>, _ sin: UnsafePointer<Float>) {
  kernelRotateToken(a, format: format, gptj: gptj, q: q, k: k, token: token, cos: cos, sin: sin)
}

@_silgen_name("resonance_rope_v3_memory_pass")
package func v3MemoryPass(_ p: UnsafeMutableRawPointer, _ bytes: Int, _ threads: Int, _ prefetch: Bool, _ one: Float) {
  kernelMemoryPass(p, bytes: bytes, threads: threads, prefetch: prefetch, one: one)
}

@_silgen_name("resonance_rope_v3_memory_fill")
package func v3MemoryFill(_ p: UnsafeMutableRawPointer, _ bytes: Int, _ prefetch: Bool, _ one: Float) {
  kernelMemoryFill(p, bytes: bytes, prefetch: prefetch, one: one)
}

@_silgen_name("resonance_rope_v3_widen_halves")
package func v3WidenHalves(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ count: Int, _ bfloat16: Bool) {
  kernelWidenHalves(src, dst, count: count, bfloat16: bfloat16)
}

@_silgen_name("resonance_rope_v3_narrow_halves")
package func v3NarrowHalves(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ count: Int, _ bfloat16: Bool) {
  kernelNarrowHalves(src, dst, count: count, bfloat16: bfloat16)
}
#endif
