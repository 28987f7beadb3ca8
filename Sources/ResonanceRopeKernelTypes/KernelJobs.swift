// Plain data handed from ResonanceRopeCore to the kernels. The kernel sources are compiled twice
// (ResonanceRopeKernels for baseline x86-64, ResonanceRopeKernelsAVX2 for x86-64-v3), and both
// copies read these types, so they live in this module, which has no hot code.

/// One strided [tokens, heads, headDim] buffer, already validated (see `HeadGeometry.span`).
/// Strides are in elements of the buffer's format.
package struct HeadBuffer {
  package var base: UnsafeMutableRawPointer
  package var heads: Int
  package var tokenStride: Int
  package var headStride: Int

  package init(base: UnsafeMutableRawPointer, heads: Int, tokenStride: Int, headStride: Int) {
    self.base = base
    self.heads = heads
    self.tokenStride = tokenStride
    self.headStride = headStride
  }
}

/// The fast-angle data of one frequency table (owned by `FastAngles` in the core, immutable
/// after creation; see FastAngles.swift for what each array holds).
package struct AngleData {
  package var pairCount: Int
  /// Pairs [0, tablePairs) come from the periodic table when no magnitude factor applies.
  package var tablePairs: Int
  /// Pairs rounded up to whole blocks of 8, plus one block (arrays have this length).
  package var paddedPairs: Int
  // Periodic pairs: period P, periodicBlock mod P, then as doubles: P, 2^21 mod P, 2^42 mod P,
  // 1 / P, and the entry offset of the pair (also as an Int).
  package var period: UnsafeMutablePointer<Int32>
  package var blockStep: UnsafeMutablePointer<Int32>
  package var periodD: UnsafeMutablePointer<Double>
  package var r1: UnsafeMutablePointer<Double>
  package var r2: UnsafeMutablePointer<Double>
  package var invPeriod: UnsafeMutablePointer<Double>
  package var offset: UnsafeMutablePointer<Int>
  package var offsetD: UnsafeMutablePointer<Double>
  /// (cos, sin) of every residue of every periodic pair, then residues 0 ..< periodicBlock - 1
  /// again.
  package var entries: UnsafeMutablePointer<SIMD2<Float>>
  /// Polynomial pairs: the split reduced turns A_j, B_j, L_j for j = 0, 1, 2 (nine arrays).
  package var sigma: UnsafeMutablePointer<Double>
  /// cos and sin of j theta_i for j in 0 ..< anchorSpan (anchorSpan arrays of paddedPairs each):
  /// the step from a row's anchor position to the row.
  package var stepCos: UnsafeMutablePointer<Double>
  package var stepSin: UnsafeMutablePointer<Double>
  /// This table's name in the threads' anchor caches (rr_new_cache_key: unique in the process).
  package var cacheKey: UInt64
  /// Table pairs [0, gatheredPairs) (whole blocks of 8) of a position in no order are loaded where
  /// the later ones are computed (the x86-64-v3 and v4 copies, `_angleRow`): the leading blocks
  /// whose entries sum to at most `gatheredTableEntries`.
  package var gatheredPairs: Int

  package init(cacheKey: UInt64, pairCount: Int, tablePairs: Int, paddedPairs: Int, period: UnsafeMutablePointer<Int32>,
               blockStep: UnsafeMutablePointer<Int32>, periodD: UnsafeMutablePointer<Double>,
               r1: UnsafeMutablePointer<Double>, r2: UnsafeMutablePointer<Double>,
               invPeriod: UnsafeMutablePointer<Double>, offset: UnsafeMutablePointer<Int>,
               offsetD: UnsafeMutablePointer<Double>, entries: UnsafeMutablePointer<SIMD2<Float>>,
               sigma: UnsafeMutablePointer<Double>, stepCos: UnsafeMutablePointer<Double>,
               stepSin: UnsafeMutablePointer<Double>) {
    self.pairCount = pairCount; self.tablePairs = tablePairs; self.paddedPairs = paddedPairs
    self.period = period; self.blockStep = blockStep; self.periodD = periodD; self.r1 = r1; self.r2 = r2
    self.invPeriod = invPeriod; self.offset = offset; self.offsetD = offsetD; self.entries = entries
    self.sigma = sigma; self.stepCos = stepCos; self.stepSin = stepSin; self.cacheKey = cacheKey
    var g = 0, total = 0  // table periods <= 2^16, the loop stops past 4096 entries
    while g < tablePairs {
      for i in g ..< min(g &+ 8, tablePairs) { total &+= Int(period[i]) }
      if total > gatheredTableEntries { break }
      g &+= 8
    }
    self.gatheredPairs = g
  }
}

/// Entries (8 bytes each) of the leading table blocks whose values a position in no order loads
/// where the later blocks compute theirs (`AngleData.gatheredPairs`): the short periods' entries are
/// few and touched by every position, so they stay in cache and a load beats the ~12 ns series
/// of a block. At d = 128, base 10000 the first four blocks (periods 6 to 545, ~3,900 entries,
/// 31 KiB). Measured on an AMD EPYC Zen 5 VM (cos/sin rows of 4096 random positions, d = 128,
/// Resonance, medians of 41 calls, both libraries in one process): every block computed
/// 175.5 ns a row, 1024 entries 149.1, 4096 114.1, 16384 (five blocks) 125.3; the x86-64-v3 copy
/// 242.9 -> 145.0 with 4096. The same bits either way.
@inlinable package var gatheredTableEntries: Int { 4096 }

/// Consecutive positions served from one periodic-table cursor base.
@inlinable package var periodicBlock: Int { 16 }

/// Positions share an anchor when they agree but for their low log2(anchorSpan) bits: the row of
/// position m is the anchor row (m with those bits cleared, by the polynomial) turned by the
/// stored step of j = m - anchor (see KernelAngles.swift).
@inlinable package var anchorSpan: Int { 16 }

/// How a rotation walks the rows of a token (KernelRotation.swift `_rotateHeads`).
package enum RowAccess: Equatable, Sendable {
  /// Rows in cache: block by block over every head, each block's cos/sin loaded once (the
  /// 8-lane kernel copies; the 16-lane one walks row by row: KernelRotation.swift).
  case cached
  /// Rows streamed from memory: row by row, each row's lines read-prefetched `ahead` bytes
  /// ahead (0: no prefetch; `rowPrefetchDistance(arm:)`).
  case streamed(ahead: Int)
  /// Streamed, with the prefetch and its distance where this process measured that they pay on
  /// this CPU: the kernel asks the learner in CKernelHints (rr_row_prefetch_choose) batch by
  /// batch; the first streamed calls time their batches without it and at two distances, then
  /// every call takes the verdict.
  case measured

  /// Whether a streamed walk prefetches.
  @inlinable package var prefetches: Bool {
    if case .streamed(let ahead) = self { return ahead > 0 }
    return false
  }

  /// The library's choice: streamed, with the prefetch as measured, when a thread's rows go past
  /// one core's L2; else cached.
  package static func library(pastL2: Bool) -> RowAccess { pastL2 ? .measured : .cached }
}

/// How far ahead (in bytes of the buffer) a rotation prefetches the rows it will rotate, at the
/// learner's near distance (`rowPrefetchDistance(arm:)`), and how far ahead the benchmark's
/// prefetched yardstick passes prefetch (at this distance and twice it). A read prefetch (prefetcht0), one per 64-byte line of each row, at
/// that distance past the row. Chosen by the two bounds, not tuned to one machine: far enough to
/// cover a DRAM latency at a core's streaming rate (about 100 ns x 40 GB/s = 4 KiB, the fastest
/// core measured here), near enough that the lines in flight stay a quarter of the smallest L1
/// data cache of current x86-64 cores (32 KiB). Measured (AMD EPYC Zen 3, 1 thread, 4096-token
/// prefill, 15 interleaved rounds, ratio to the in-place pass): 1-16 KiB ahead all helped about
/// equally; at 8 KiB f32 neox 0.83 -> 0.96, gptj 0.76 -> 0.95, random positions 0.70 -> 0.86,
/// f16 0.69 -> 0.89, bf16 0.54 -> 0.62; with the data in L2 (32 tokens) it cost 7-10 %, hence
/// the prefetch only for calls whose rows do not fit in L2 (`RowAccess.library`). On an AMD EPYC
/// Zen 4 the same prefetch made those calls slower (f32 0.63 -> 0.77 of the pass without it),
/// at any distance from 2 to 32 KiB: whether it is used is measured (`RowAccess.measured`). On an
/// AMD EPYC Zen 5 (x86-64-v4 copy, prefetch after each block's stores, 1 thread, one process):
/// 4 / 8 / 12 / 16 KiB ahead 0.79-0.82 / 0.86-0.88 / 0.83-0.87 / 0.81-0.84 of the fastest pass.
@inlinable package var rowPrefetchDistance: Int { 8192 }

/// The distances the learner chooses from (CKernelHints, `RR_ROW_PREFETCH_ARMS`): arm 0 none,
/// 1 `rowPrefetchDistance`, 2 twice that (measured on an AMD EPYC Zen 5 VM, 4096 tokens, 1 thread:
/// 16 KiB made the 16-bit rotations 12-15 % faster and f32 2-7 % slower than 8 KiB).
@inlinable package func rowPrefetchDistance(arm: Int32) -> Int {
  arm == 1 ? rowPrefetchDistance : arm == 2 ? 2 &* rowPrefetchDistance : 0
}

/// The element formats the kernels rotate.
package enum KernelFormat: Sendable {
  case float32, float16, bfloat16
}

/// The slot of the learned row prefetch (CKernelHints, RR_ROW_PREFETCH_SLOTS of them) a rotation
/// uses: its element format (the work per byte differs) and whether it runs on more than one
/// thread (the threads share the memory bandwidth).
package func rowPrefetchSlot(_ f: KernelFormat, threads: Int) -> Int32 {
  let first: Int32
  switch f {
  case .float32: first = 0
  case .float16: first = 2
  case .bfloat16: first = 4
  }
  return first + (threads > 1 ? 1 : 0)
}

/// One in-place rotation: tokens `tokens` of q (and k), token t at `positions[t]`.
package struct KernelRotation {
  package var q: HeadBuffer
  package var k: HeadBuffer?
  package var tokens: Range<Int>
  package var positions: Positions
  package var format: KernelFormat
  package var gptj: Bool
  /// Multiplies cos and sin (the attention factor, or 1).
  package var scale: Double
  /// -1 rotates by minus the angle.
  package var sinSign: Float
  package var threads: Int
  /// How the rows are walked (a choice of speed: never changes a result).
  package var rows: RowAccess

  package init(q: HeadBuffer, k: HeadBuffer?, tokens: Range<Int>, positions: Positions, format: KernelFormat,
               gptj: Bool, scale: Double, sinSign: Float, threads: Int, rows: RowAccess) {
    self.q = q; self.k = k; self.tokens = tokens; self.positions = positions; self.format = format
    self.gptj = gptj; self.scale = scale; self.sinSign = sinSign; self.threads = threads; self.rows = rows
  }
}

/// Row layouts of a cos/sin cache (d = rotary dim, h = d / 2): half c0 .. c(h-1); hf
/// c0 .. c(h-1) c0 .. c(h-1); vllm one buffer c0 .. c(h-1) s0 .. s(h-1); gptj c0 c0 c1 c1 ...
package enum KernelCacheLayout: Sendable {
  case half, hf, vllm, gptj
}

/// One cos/sin cache fill for `count` positions.
package struct KernelTableFill {
  package var layout: KernelCacheLayout
  package var positions: Positions
  package var count: Int
  package var scale: Double
  package var cos: UnsafeMutablePointer<Float>
  /// nil for the vllm layout (cos and sin share `cos`).
  package var sin: UnsafeMutablePointer<Float>?
  /// Write rows with non-temporal (streaming) stores where the kernel can (a hint: the same
  /// values; see `kernelFillTable`).
  package var stream: Bool

  package init(layout: KernelCacheLayout, positions: Positions, count: Int, scale: Double,
               cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>?, stream: Bool) {
    self.layout = layout; self.positions = positions; self.count = count; self.scale = scale
    self.cos = cos; self.sin = sin; self.stream = stream
  }
}
