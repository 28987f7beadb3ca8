// Validation of strided head buffers: checked arithmetic only, before any hot loop runs.

/// A [tokens, heads, headDim] view with explicit strides in elements (last dimension contiguous):
/// rr_rotation's q_heads / q_token_stride / q_head_stride, and the layout argument of the public
/// rotation API (CoreAPI.swift).
public struct HeadGeometry: Sendable, Equatable {
  public var heads: Int64
  public var tokenStride: Int64
  public var headStride: Int64

  public init(heads: Int64, tokenStride: Int64, headStride: Int64) {
    self.heads = heads
    self.tokenStride = tokenStride
    self.headStride = headStride
  }

  /// Validates the view for `tokens` tokens of `headDim` elements and returns the number of
  /// elements it spans from its first element (0 when tokens == 0).
  ///
  /// Rows must not overlap: with the two (stride, count) pairs sorted by stride, each stride whose
  /// count exceeds 1 must be at least the extent of everything inside it. This accepts every
  /// layout without aliasing: token-major, head-major, padded, and q/k views into a fused qkv row.
  package func span(tokens: Int64, headDim: Int, elementSize: Int, name: String) throws(RopeError) -> Int64 {
    guard heads >= 1 else { throw RopeError(.overflow, "\(name)_heads = \(heads): must be >= 1") }
    guard tokens >= 0 else { throw RopeError(.overflow, "n_tokens = \(tokens): must be >= 0") }
    guard tokenStride >= 0, headStride >= 0 else {
      throw RopeError(.invalidStride, "\(name) strides (\(tokenStride), \(headStride)): must be >= 0")
    }
    if tokens == 0 { return 0 }
    // The two (stride, count) pairs, the smaller stride first, as values (this runs on every
    // rotation call: an array of them was a heap allocation per call).
    var extent = Int64(headDim)
    func step(_ stride: Int64, _ count: Int64, _ what: String) throws(RopeError) {
      guard count > 1 else { return }
      guard stride >= extent else {
        throw RopeError(.invalidStride, "\(name)_\(what) = \(stride) is smaller than the \(extent) elements it must step over: rows would overlap")
      }
      let (m, o1) = (count - 1).multipliedReportingOverflow(by: stride)
      let (e, o2) = m.addingReportingOverflow(extent)
      guard !o1, !o2 else { throw RopeError(.overflow, "\(name): (n - 1) * \(what) overflows int64") }
      extent = e
    }
    if headStride <= tokenStride {
      try step(headStride, heads, "head_stride")
      try step(tokenStride, tokens, "token_stride")
    } else {
      try step(tokenStride, tokens, "token_stride")
      try step(headStride, heads, "head_stride")
    }
    let (_, o) = extent.multipliedReportingOverflow(by: Int64(elementSize))
    guard !o else { throw RopeError(.overflow, "\(name): \(extent) elements overflow int64 bytes") }
    return extent
  }
}

/// Whether two validated views (q at byte address `a`, k at `b`) can touch the same element.
///
/// Disjoint byte extents never overlap. Views with the same token stride whose per-token
/// footprints are disjoint within one token stride (q and k inside one fused qkv row, as vLLM
/// lays them out) do not overlap either. Anything else is refused.
package func viewsOverlap(
  a: UInt, spanA: Int64, geometryA: HeadGeometry,
  b: UInt, spanB: Int64, geometryB: HeadGeometry,
  tokens: Int64, headDim: Int, elementSize: Int
) -> Bool {
  if spanA == 0 || spanB == 0 { return false }
  let es = UInt(elementSize)
  let endA = a &+ UInt(spanA) &* es, endB = b &+ UInt(spanB) &* es
  if endA <= b || endB <= a { return false }
  guard tokens > 1, geometryA.tokenStride == geometryB.tokenStride else { return true }
  let period = geometryA.tokenStride
  let footA = (geometryA.heads - 1) * geometryA.headStride + Int64(headDim)  // <= period: validated
  let footB = (geometryB.heads - 1) * geometryB.headStride + Int64(headDim)
  guard footA <= period, footB <= period else { return true }
  let diff = b >= a ? b - a : a - b
  guard diff % es == 0 else { return true }
  let d = Int64(diff / es) % period
  // Offset of the later view's footprint within the earlier one's period.
  let (firstFoot, secondFoot) = b >= a ? (footA, footB) : (footB, footA)
  return !(d >= firstFoot && d + secondFoot <= period)
}

/// The one alignment rule (C and Swift callers): `.misaligned` unless `p` is a multiple of
/// `alignment` (a misaligned typed access is undefined behaviour in Swift as in C).
package func checkAligned(_ p: UnsafeRawPointer, to alignment: Int, _ name: String) throws(RopeError) {
  guard UInt(bitPattern: p) % UInt(alignment) == 0 else {
    throw RopeError(.misaligned, "\(name) is not aligned to \(alignment) bytes")
  }
}

/// One q or k argument of a rotation: its first element, the bytes its caller vouches for
/// (`capacity`; nil for C callers, whose views are defined by their layout alone) and its layout.
package struct ViewArgument {
  package var base: UnsafeMutableRawPointer
  package var capacity: Int?
  package var geometry: HeadGeometry
  package var name: String

  package init(base: UnsafeMutableRawPointer, capacity: Int?, geometry: HeadGeometry, name: String) {
    (self.base, self.capacity, self.geometry, self.name) = (base, capacity, geometry, name)
  }
}

/// A rotation's views and positions, every rule checked.
package struct CheckedRotation {
  package var q: HeadBuffer
  package var k: HeadBuffer?
  package var positions: Positions
}

/// The rules of an in-place rotation of `n` tokens, for the C layer (rr_rotation) and the public
/// Swift API alike, in this order: the positions (`list` aligned and holding at least n values
/// when its capacity is known, or start + n - 1 representable); each view aligned to its
/// element, its layout valid (HeadGeometry.span) and inside its capacity; q and k sharing no
/// element (viewsOverlap); the position list outside both views.
package func checkRotation(q: ViewArgument, k: ViewArgument?, tokens n: Int64, headDim: Int, elementSize: Int,
                           positions list: UnsafePointer<Int64>?, listCapacity: Int?, start: Int64) throws(RopeError) -> CheckedRotation {
  let positions: Positions
  if let list {
    try checkAligned(list, to: MemoryLayout<Int64>.alignment, "positions")
    if let c = listCapacity, Int64(c) < n { throw RopeError(.bufferTooSmall, "positions: \(c) values for \(n) tokens") }
    positions = .list(list)
  } else {
    try Positions.checkRange(start: start, count: n)
    positions = .range(start: start)
  }
  func view(_ v: ViewArgument) throws(RopeError) -> (bytes: Int64, span: Int64) {
    try checkAligned(v.base, to: elementSize, v.name)
    let span = try v.geometry.span(tokens: n, headDim: headDim, elementSize: elementSize, name: v.name)
    let bytes = span * Int64(elementSize)  // validated by span
    if let c = v.capacity, bytes > Int64(c) {
      throw RopeError(.bufferTooSmall, "\(v.name): the view spans \(bytes) bytes, the buffer holds \(c)")
    }
    return (bytes, span)
  }
  let qs = try view(q)
  var ks: (bytes: Int64, span: Int64)? = nil
  if let k {
    let v = try view(k)
    // q and k are compared element by element (a fused qkv row interleaves them), not by extent.
    if viewsOverlap(a: UInt(bitPattern: q.base), spanA: qs.span, geometryA: q.geometry,
                    b: UInt(bitPattern: k.base), spanB: v.span, geometryB: k.geometry,
                    tokens: n, headDim: headDim, elementSize: elementSize) {
      throw RopeError(.overlap, "the q and k views share elements")
    }
    ks = v
  }
  if let list, n > 0 {
    // No array of views: this runs on every rotation call, decode included (no allocation).
    let p = UInt(bitPattern: list), pBytes = UInt(n) &* 8  // n <= the view's tokens: no overflow past the checked spans
    func outside(_ v: ViewArgument, _ bytes: Int64) throws(RopeError) {
      let a = UInt(bitPattern: v.base)
      if bytes > 0, a < p &+ pBytes, p < a &+ UInt(bytes) {
        throw RopeError(.overlap, "\(v.name) (\(bytes) bytes) overlaps positions (\(pBytes) bytes)")
      }
    }
    try outside(q, qs.bytes)
    if let k, let ks { try outside(k, ks.bytes) }
  }
  return CheckedRotation(q: HeadBuffer(base: q.base, geometry: q.geometry), k: k.map { HeadBuffer(base: $0.base, geometry: $0.geometry) },
                         positions: positions)
}

extension Positions {
  /// Checks that every position of `count` tokens is representable.
  package static func checkRange(start: Int64, count: Int64) throws(RopeError) {
    guard count >= 0 else { throw RopeError(.overflow, "count = \(count): must be >= 0") }
    if count > 0 {
      let (_, o) = start.addingReportingOverflow(count - 1)
      guard !o else {
        throw RopeError(.overflow, "positions start_position + n - 1 = \(start) + \(count - 1) overflow int64")
      }
    }
  }
}
