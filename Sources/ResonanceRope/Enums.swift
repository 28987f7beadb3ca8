// Enumerations of the C ABI. Their values are fixed; the core has its own Swift enums.
import ResonanceRopeCore

/// Where the two members of rotary pair i sit in a head of rotary_dim d (h = d / 2):
///
///     RR_LAYOUT_NEOX  pair i = (x[i], x[i + h])    GPT-NeoX, Llama, Hugging Face rotate_half
///                     [x0 x1 .. x(h-1) | y0 y1 .. y(h-1) | pass-through]
///     RR_LAYOUT_GPTJ  pair i = (x[2i], x[2i + 1])  GPT-J, ggml NORMAL mode, "rotate every two"
///                     [x0 y0 x1 y1 .. x(h-1) y(h-1) | pass-through]
///
/// Each pair (x, y) becomes (x cos a - y sin a, y cos a + x sin a). Added in 0.1.0.
@c(rr_layout) public enum Layout: Int32 {
  /// Half-split pairs (i, i + d/2).
  case neox = 0
  /// Interleaved pairs (2i, 2i + 1).
  case gptj = 1
}

/// Frequency scalings (see rr_rope_params for the fields each reads). Added in 0.1.0.
@c(rr_scaling) public enum Scaling: Int32 {
  /// theta_i = base^(-2i/d).
  case none = 0
  /// Position interpolation: theta_i / factor.
  case linear = 1
  /// NTK-aware: base' = base * factor^(d / (d - 2)).
  case ntk = 2
  /// Dynamic NTK (Hugging Face) for sequence_length and max_position.
  case dynamic = 3
  /// YaRN (arXiv 2309.00071) with beta_fast, beta_slow, truncate, mscale, mscale_all_dim.
  case yarn = 4
  /// Llama 3.1 three-band scaling with low_freq_factor, high_freq_factor.
  case llama3 = 5
  /// LongRoPE (Phi-3) with short_factor / long_factor.
  case longrope = 6
  /// Per-pair divisors freq_factors (llama.cpp's rope_freqs): theta_i / f_i.
  case freqFactors = 7
}

/// Row layouts of a cos/sin cache for n positions (d = rotary dim, h = d / 2,
/// ci = cos(angle of pair i), si = sin(angle of pair i)):
///
///     RR_TABLE_LAYOUT_HALF  cos [n, h], sin [n, h]        c0 c1 .. c(h-1)
///     RR_TABLE_LAYOUT_HF    cos [n, d], sin [n, d]        c0 .. c(h-1) c0 .. c(h-1)  (Hugging Face)
///     RR_TABLE_LAYOUT_VLLM  cache [n, d] in cos_out       c0 .. c(h-1) s0 .. s(h-1)  (vLLM)
///     RR_TABLE_LAYOUT_GPTJ  cos [n, d], sin [n, d]        c0 c0 c1 c1 .. c(h-1) c(h-1)
///
/// Added in 0.1.0.
@c(rr_table_layout) public enum TableLayoutC: Int32 {
  /// One value per pair.
  case half = 0
  /// Hugging Face: cat(freqs, freqs).
  case hf = 1
  /// vLLM cos_sin_cache: cos then sin in one row.
  case vllm = 2
  /// GPT-J: each value twice, interleaved.
  case gptj = 3
}
