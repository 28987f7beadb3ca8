// The description of one rotary embedding: dimensions, base, pair layout, scaling, Resonance.

// The C ABI's rr_layout: tools/gen_header.py writes these values and doc comments into the header.
/// Where the two members of rotary pair i sit in a head of rotary_dim d (h = d / 2):
///
///     neox  pair i = (x[i], x[i + h])    GPT-NeoX, Llama, Hugging Face rotate_half
///           [x0 x1 .. x(h-1) | y0 y1 .. y(h-1) | pass-through]
///     gptj  pair i = (x[2i], x[2i + 1])  GPT-J, ggml NORMAL mode, "rotate every two"
///           [x0 y0 x1 y1 .. x(h-1) y(h-1) | pass-through]
///
/// Each pair (x, y) becomes (x cos a - y sin a, y cos a + x sin a). Added in 0.1.0.
public enum PairLayout: Int32, Sendable, CaseIterable {
  /// Half-split pairs (i, i + d/2).
  case neox = 0
  /// Interleaved pairs (2i, 2i + 1).
  case gptj = 1
}

/// A rotary embedding configuration. Values are validated by `FrequencyTable.init`.
public struct RopeConfig: Sendable, Equatable {
  /// Number of rotated dimensions d (even, > 0); pair count is d / 2.
  public var rotaryDim: Int
  /// Elements per head (>= rotaryDim); dimensions past `rotaryDim` pass through untouched.
  public var headDim: Int
  /// RoPE base ("rope_theta"), > 1 and finite.
  public var base: Double
  /// Round every wavelength to the nearest integer (Resonance RoPE, arXiv 2403.00071).
  public var resonance: Bool
  public var layout: PairLayout
  public var scaling: RopeScaling
  /// Magnitude factor for cos and sin; `nil` means the one the scaling derives (1 for none).
  public var attentionFactor: Double?

  /// Largest rotary or head dimension accepted: far above any published model (576 is the
  /// largest head we know of), small enough that per-token scratch stays on the stack.
  public static let maxDim = 1 << 16

  public init(
    rotaryDim: Int, headDim: Int? = nil, base: Double = 10000, resonance: Bool = false,
    layout: PairLayout = .neox, scaling: RopeScaling = .none, attentionFactor: Double? = nil
  ) {
    self.rotaryDim = rotaryDim
    self.headDim = headDim ?? rotaryDim
    self.base = base
    self.resonance = resonance
    self.layout = layout
    self.scaling = scaling
    self.attentionFactor = attentionFactor
  }

  public var pairCount: Int { rotaryDim / 2 }

  /// Checks everything that does not depend on the scaling's own parameters.
  public func validate() throws(RopeError) {
    guard rotaryDim > 0, rotaryDim % 2 == 0, rotaryDim <= Self.maxDim else {
      throw RopeError(.invalidDimension, "rotary_dim = \(rotaryDim): must be even, > 0 and <= \(Self.maxDim)")
    }
    guard headDim >= rotaryDim, headDim <= Self.maxDim else {
      throw RopeError(.invalidDimension, "head_dim = \(headDim): must be >= rotary_dim (\(rotaryDim)) and <= \(Self.maxDim)")
    }
    guard base.isFinite, base > 1 else {
      throw RopeError(.invalidValue, "base = \(base): must be finite and > 1")
    }
    // The attention factor is checked once, final (given or derived), by FrequencyTable.init.
  }
}
