// The element formats the C ABI accepts, and scalar conversions through the kernels' lane code.
import ResonanceRopeKernels

/// The element formats the C ABI accepts, for dispatch to the one generic kernel.
public enum ElementFormat: Sendable, CaseIterable {
  case float32, float16, bfloat16

  public var size: Int { self == .float32 ? 4 : 2 }
  public var name: String {
    switch self {
    case .float32: "f32"
    case .float16: "f16"
    case .bfloat16: "bf16"
    }
  }
}

/// Scalar conversions through the same lane code as the kernels (used by tests and the benchmark).
public func float16Bits(_ x: Float) -> UInt16 { ResonanceRopeKernels.kernelFloat16Bits(x) }
public func floatFromFloat16Bits(_ b: UInt16) -> Float { ResonanceRopeKernels.kernelFloatFromFloat16Bits(b) }
public func bfloat16Bits(_ x: Float) -> UInt16 { ResonanceRopeKernels.kernelBFloat16Bits(x) }
public func floatFromBFloat16Bits(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
