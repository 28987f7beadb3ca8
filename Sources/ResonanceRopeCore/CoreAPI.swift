// The core's public Swift API: everything `public` in this module, and nothing else, is what the
// front ends outside the C layer use. The CLI and the benchmark are built with `packageAccess:
// false` (Package.swift), so the compiler holds them to it: they cannot reach a raw-pointer
// kernel, a job description or an unchecked table fill. The value model is public where it is
// declared (RopeConfig, ScalingFields, FrequencyTable's frequencies, PosGen, the feature gap);
// this file holds the entry points that touch caller memory, each validated with the rules the
// C layer applies to rr_rotation (HeadGeometry.span and viewsOverlap in BufferGeometry.swift)
// plus the one check Swift callers make possible: every view must lie inside its buffer.
import CLibc

extension HeadGeometry {
  /// Token-major rows of `heads` heads of `headDim` elements, no padding.
  public static func dense(heads: Int64, headDim: Int64) -> HeadGeometry {
    HeadGeometry(heads: heads, tokenStride: heads &* headDim, headStride: headDim)
  }
}

/// The positions of a rotation's tokens: start + t, or one int64 per token.
public enum RotationPositions {
  case start(Int64)
  case array(UnsafeBufferPointer<Int64>)
}

/// Whether byte ranges [a, a + n) and [b, b + m) intersect.
private func intersects(_ a: UInt, _ n: Int, _ b: UInt, _ m: Int) -> Bool {
  n > 0 && m > 0 && a < b &+ UInt(m) && b < a &+ UInt(n)
}

extension FrequencyTable {
  /// Checks q (and k) for `tokens` tokens and the positions with the C layer's rules
  /// (`checkRotation`), each view also inside its buffer; nil when there is nothing to rotate.
  private func checkedRotation(_ format: ElementFormat, q: UnsafeMutableRawBufferPointer, _ qLayout: HeadGeometry,
                               k: UnsafeMutableRawBufferPointer?, _ kLayout: HeadGeometry?, tokens: Int,
                               positions: RotationPositions) throws(RopeError) -> CheckedRotation? {
    guard tokens >= 0 else { throw RopeError(.overflow, "tokens = \(tokens): must be >= 0") }
    func argument(_ b: UnsafeMutableRawBufferPointer, _ l: HeadGeometry, _ name: String) throws(RopeError) -> ViewArgument? {
      guard let base = b.baseAddress else {
        // An empty buffer holds only an empty view: nothing to rotate, once the layout is valid.
        _ = try l.span(tokens: Int64(tokens), headDim: config.headDim, elementSize: format.size, name: name)
        guard tokens == 0 else { throw RopeError(.bufferTooSmall, "\(name): empty buffer") }
        return nil
      }
      return ViewArgument(base: base, capacity: b.count, geometry: l, name: name)
    }
    var kArg: ViewArgument? = nil
    if let k {
      guard let kLayout else { throw RopeError(.invalidStride, "k is given without its layout") }
      guard let a = try argument(k, kLayout, "k") else { return nil }
      kArg = a
    }
    guard let qArg = try argument(q, qLayout, "q") else { return nil }
    var list: UnsafePointer<Int64>? = nil, capacity: Int? = nil, start: Int64 = 0
    switch positions {
    case .start(let s): start = s
    case .array(let a):
      guard let base = a.baseAddress else {  // an empty array
        guard tokens == 0 else { throw RopeError(.bufferTooSmall, "positions: 0 values for \(tokens) tokens") }
        return nil
      }
      (list, capacity) = (base, a.count)
    }
    let c = try checkRotation(q: qArg, k: kArg, tokens: Int64(tokens), headDim: config.headDim, elementSize: format.size,
                              positions: list, listCapacity: capacity, start: start)
    return tokens == 0 ? nil : c
  }

  /// Rotates the first `tokens` tokens of q (and k) in place, as rr_rope_apply_f32_inplace (and
  /// its f16 / bf16 forms) does: pair i of token t turns by the angle of its position (negated
  /// when `inverse`), times the attention factor when `applyAttentionFactor`; elements past the
  /// rotary dimension are not touched; the same bits for every `threads`. Throws before writing
  /// anything for a layout that does not fit its buffer, a misaligned buffer, q and k sharing an
  /// element, positions that overflow or overlap q / k, threads < 0, or an allocation failure.
  /// `prefetchRows` (for benchmarks; never changes a result): nil, the library's choice (rows past
  /// one core's L2 row by row, with a read prefetch where the process measured that it pays on
  /// this CPU; else block by block over the heads); true /
  /// false, row by row with / without the prefetch.
  public func rotate(_ format: ElementFormat, q: UnsafeMutableRawBufferPointer, _ qLayout: HeadGeometry,
                     k: UnsafeMutableRawBufferPointer? = nil, _ kLayout: HeadGeometry? = nil, tokens: Int,
                     positions: RotationPositions = .start(0), inverse: Bool = false,
                     applyAttentionFactor: Bool = false, threads: Int = 1, prefetchRows: Bool? = nil) throws(RopeError) {
    guard threads >= 0 else { throw RopeError(.invalidValue, "threads = \(threads): must be >= 0") }
    guard let c = try checkedRotation(format, q: q, qLayout, k: k, kLayout, tokens: tokens, positions: positions) else { return }
    try rotate(format: format, q: c.q, k: c.k, tokens: 0 ..< tokens, positions: c.positions, inverse: inverse,
               applyAttentionFactor: applyAttentionFactor, threads: threads,
               rows: prefetchRows.map { RowAccess.streamed(ahead: $0 ? rowPrefetchDistance : 0) })
  }

  /// cos/sin rows of one position, prepared for one element format (the benchmark's
  /// rotation-only decode case: `rotate(_:q:_:k:_:)` with these rows skips the angle work).
  public final class PreparedRows {
    fileprivate let table: FrequencyTable
    fileprivate let format: ElementFormat
    fileprivate let raw: UnsafeMutableRawPointer
    fileprivate let cos: UnsafeMutablePointer<Float>
    fileprivate let sin: UnsafeMutablePointer<Float>

    fileprivate init(table: FrequencyTable, format: ElementFormat, position: Int64) throws(RopeError) {
      guard let raw = aligned_alloc(64, table.kernelScratchBytes) else {
        throw RopeError(.outOfMemory, "could not allocate \(table.kernelScratchBytes) bytes of rows")
      }
      let rows = table.preparedRows(format: format, position: position, scratch: raw)
      (self.table, self.format, self.raw, self.cos, self.sin) = (table, format, raw, rows.cos, rows.sin)
    }

    deinit { free(raw) }
  }

  /// The rows of `position` for `format`.
  public func preparedRows(_ format: ElementFormat, position: Int64) throws(RopeError) -> PreparedRows {
    try PreparedRows(table: self, format: format, position: position)
  }

  /// Rotates one token of q (and k) with rows prepared by this table for the same format;
  /// validated as `rotate`.
  public func rotate(q: UnsafeMutableRawBufferPointer, _ qLayout: HeadGeometry, k: UnsafeMutableRawBufferPointer? = nil,
                     _ kLayout: HeadGeometry? = nil, rows: PreparedRows) throws(RopeError) {
    guard rows.table === self else { throw RopeError(.invalidValue, "rows: prepared by another table") }
    guard let c = try checkedRotation(rows.format, q: q, qLayout, k: k, kLayout, tokens: 1, positions: .start(0)) else { return }
    rotateToken(format: rows.format, q: c.q, k: c.k, token: 0, cos: rows.cos, sin: rows.sin)
  }

  /// Largest cos/sin table `cosSinTable` returns, in float32 elements (2^28 = 1 GiB): arrays
  /// cannot be allocated fallibly, so the size is bounded before the allocation.
  public static let maxTableElements = 1 << 28

  /// Writes float32 cos and sin for positions start ..< start + count in `layout`, as
  /// rr_rope_cos_sin_f32() does: rows of the layout's width w (d / 2 for half, d otherwise),
  /// [count, w] into `cos` and [count, w] into `sin`, or for vllm the cache itself, [count, d]
  /// with cos then sin in each row, into `cos` alone (`sin` must then be nil). Values are times
  /// the attention factor when `applyAttentionFactor`. Throws before writing for count < 0, a
  /// position range past Int64 (overflow), a buffer too small (bufferTooSmall), a missing or
  /// extra sin buffer, or cos and sin overlapping.
  public func fillTable(_ layout: TableLayout, cos: UnsafeMutableBufferPointer<Float>, sin: UnsafeMutableBufferPointer<Float>?,
                        start: Int64, count: Int, applyAttentionFactor: Bool, stream: Bool? = nil) throws(RopeError) {
    try Positions.checkRange(start: start, count: Int64(count))
    let (need, o) = count.multipliedReportingOverflow(by: layout.rowWidth(pairs: pairCount))
    guard !o else { throw RopeError(.overflow, "count = \(count): the table size overflows") }
    guard (sin != nil) == layout.usesSinBuffer else {
      throw RopeError(.invalidValue, layout.usesSinBuffer ? "sin: required by layout \(layout.name)" : "sin: layout vllm writes cos alone")
    }
    for (name, b) in [("cos", cos)] + (sin.map { [("sin", $0)] } ?? []) where b.count < need {
      throw RopeError(.bufferTooSmall, "\(name): \(b.count) floats, the table needs \(need)")
    }
    guard count > 0, let c = cos.baseAddress else { return }
    if let sin, let s = sin.baseAddress, intersects(UInt(bitPattern: c), need * 4, UInt(bitPattern: s), need * 4) {
      throw RopeError(.overlap, "cos and sin overlap")
    }
    try fillTable(layout: layout, positions: .range(start: start), count: count,
                  scale: applyAttentionFactor ? attentionFactor : 1, cos: c, sin: sin?.baseAddress, stream: stream)
  }

  /// `fillTable` into a new array: [count, w] cos rows then [count, w] sin rows, or for vllm
  /// the cache itself. Throws as `fillTable`, and for a table over `maxTableElements`.
  public func cosSinTable(layout: TableLayout, start: Int64, count: Int, applyAttentionFactor: Bool) throws(RopeError) -> [Float] {
    try Positions.checkRange(start: start, count: Int64(count))
    let (perBuffer, o1) = count.multipliedReportingOverflow(by: layout.rowWidth(pairs: pairCount))
    let (total, o2) = perBuffer.multipliedReportingOverflow(by: layout.usesSinBuffer ? 2 : 1)
    guard !o1, !o2, total <= Self.maxTableElements else {
      throw RopeError(.bufferTooSmall, "count = \(count): the table would hold more than \(Self.maxTableElements) floats")
    }
    var values = [Float](repeating: 0, count: total)
    try values.withUnsafeMutableBufferPointer { (b) throws(RopeError) in
      let cos = UnsafeMutableBufferPointer(rebasing: b[0 ..< perBuffer])
      let sin = layout.usesSinBuffer ? UnsafeMutableBufferPointer(rebasing: b[perBuffer ..< total]) : nil
      try fillTable(layout, cos: cos, sin: sin, start: start, count: count, applyAttentionFactor: applyAttentionFactor)
    }
    return values
  }

  /// Per-pair divisors for llama.cpp's `rope_freqs`: f_i = r_i / theta~_i, rounded once to float
  /// (GGUF tensors are f32), with r_i the scaled frequency (`relativeToBase` false: the divisors
  /// on top of a scaling llama.cpp applies itself) or the unscaled base^(-2i/d) (true: a tensor
  /// that replaces one already carrying the scaling). Divided in double.
  public func resonanceFreqFactors(relativeToBase: Bool) -> [Float] {
    let reference = relativeToBase ? baseInverseFrequencies(rotaryDim: config.rotaryDim, base: config.base) : scaledInvFreq
    return (0 ..< pairCount).map { Float(frequencyFactor(pair: $0, relativeTo: reference[$0])) }
  }
}

// MARK: - The benchmark's yardsticks

extension Kernels {
  /// An in-place pass x *= 1 over the buffer (read and write every byte once), compiled like the
  /// kernels; `prefetchAhead` > 0 adds a read prefetch that many bytes ahead
  /// (`Kernels.yardstickPrefetchDistances`). Whole 64-byte lines only: a tail is not touched.
  public func memoryPass(_ b: UnsafeMutableRawBufferPointer, threads: Int, prefetchAhead: Int) {
    guard let p = b.baseAddress, b.count >= 64 else { return }
    memoryPass(p, bytes: b.count & ~63, threads: max(threads, 1), ahead: max(prefetchAhead, 0), one: yardstickOne)
  }

  /// A store-only pass writing 1.0 over the buffer (the table-fill yardstick); whole lines only;
  /// `stream`: with non-temporal stores (the buffer 64-byte aligned).
  public func memoryFill(_ b: UnsafeMutableRawBufferPointer, stream: Bool) {
    guard let p = b.baseAddress, b.count >= 64 else { return }
    memoryFill(p, bytes: b.count & ~63, stream: stream && UInt(bitPattern: p) % 64 == 0, one: yardstickOne)
  }
}

/// The yardsticks multiply by this instead of a literal 1, so the compiler cannot drop the work.
nonisolated(unsafe) private var yardstickOne: Float = 1
