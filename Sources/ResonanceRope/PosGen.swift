// PosGen, the paper's synthetic benchmark: generation and scoring.
import CResonanceRope
import ResonanceRopeCore

// The enumerations rr_posgen_task, rr_posgen_arith, rr_posgen_split and rr_posgen_split_mode
// are the core's PosGenTask, PosGenArithmetic, PosGenSplit and PosGenSplitMode (one copy of each
// value): tools/gen_header.py writes them into the header.

let posgenParamsSize = UInt32(MemoryLayout<rr_posgen_params>.size)
let posgenResultSize = UInt32(MemoryLayout<rr_posgen_result>.size)

/// Fills `params` with the paper's setting: recurrent task, modular addition, m = 17, near 3,
/// far 1, length 64, 10000 / 1000 / 1000 sequences, paper split mode. NULL does nothing.
/// Added in 0.1.0.
@c(rr_posgen_params_init) public func rrPosgenParamsInit(_ params: UnsafeMutablePointer<rr_posgen_params>?) {
  guard let params else { return }
  var p = rr_posgen_params()
  p.struct_size = posgenParamsSize
  p.modulus = 17
  p.near = 3
  p.far = 1
  p.length = 64
  p.train_size = 10000
  p.validation_size = 1000
  p.test_size = 1000
  params.pointee = p
}

/// Validated PosGen parameters.
func posgenArguments(_ params: UnsafePointer<rr_posgen_params>?) throws(CallError)
  -> (spec: PosGenSpec, mode: PosGenSplitMode, sizes: PosGenSplitSizes) {
  let p = try required(params, "params").pointee
  try requireStructHeader("params", size: p.struct_size, expected: posgenParamsSize, reservedZero: isZero(p.reserved),
                          hint: " (call rr_posgen_params_init)")
  guard let task = PosGenTask(rawValue: p.task) else { throw CallError(.unknownEnum, "params->task = \(p.task) is not an rr_posgen_task") }
  guard let arith = PosGenArithmetic(rawValue: p.arith) else { throw CallError(.unknownEnum, "params->arith = \(p.arith) is not an rr_posgen_arith") }
  guard let mode = PosGenSplitMode(rawValue: p.split_mode) else {
    throw CallError(.unknownEnum, "params->split_mode = \(p.split_mode) is not an rr_posgen_split_mode")
  }
  let spec = PosGenSpec(task: task, arith: arith, modulus: Int(p.modulus), near: Int(p.near), far: Int(p.far), length: Int(p.length))
  try core { () throws(RopeError) in try spec.validate() }
  let sizes = PosGenSplitSizes(train: Int(p.train_size), validation: Int(p.validation_size), test: Int(p.test_size))
  return (spec, mode, sizes)
}

/// Checks an int32 token buffer of `capacity` elements against `needed`.
func tokenBuffer(_ p: UnsafeMutablePointer<Int32>?, _ capacity: Int64, needed: Int64, _ name: String) throws(CallError) -> UnsafeMutablePointer<Int32> {
  let p = try required(p, name)
  try requireAligned(UnsafePointer(p), name)
  guard capacity >= needed else { throw CallError(.bufferTooSmall, "capacity = \(capacity): \(name) needs \(needed) tokens") }
  return p
}

/// Writes sequences first .. first + count - 1 of `split` (an rr_posgen_split) as int32 tokens,
/// row-major [count, params->length], into `tokens`, which holds `capacity` elements
/// (>= count * length). Sequence i of a split always has the same seeds and tokens, so a large
/// split can be generated in pieces. Speed: over 10^8 tokens/s for modular addition on one core.
/// Thread-safe.
///
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER (params, tokens), RR_STATUS_STRUCT_SIZE
/// (struct_size, reserved), RR_STATUS_UNKNOWN_ENUM (task, arith, split_mode, split),
/// RR_STATUS_INVALID_VALUE (modulus < 2 or > 2^31, near < 1, far < 0, length < far + near,
/// far + near > modulus, too few combinations for a disjoint split), RR_STATUS_OVERFLOW (negative
/// first/count/sizes, first + count beyond the split, near + far, (near + far) * (modulus - 1),
/// validation_size + test_size or count * length overflowing), RR_STATUS_BUFFER_TOO_SMALL
/// (capacity < count * length), RR_STATUS_MISALIGNED (tokens), RR_STATUS_OVERLAP (the
/// count * length tokens overlap *params). On error nothing is written.
/// Added in 0.1.0.
@c(rr_posgen_generate) public func rrPosgenGenerate(
  _ params: UnsafePointer<rr_posgen_params>?, _ split: Int32, _ first: Int64, _ count: Int64,
  _ tokens: UnsafeMutablePointer<Int32>?, _ capacity: Int64
) -> Status {
  guarded("rr_posgen_generate") { () throws(CallError) in
    let (spec, mode, sizes) = try posgenArguments(params)
    guard let s = PosGenSplit(rawValue: split) else { throw CallError(.unknownEnum, "split = \(split) is not an rr_posgen_split") }
    guard first >= 0, count >= 0 else { throw CallError(.overflow, "first = \(first), count = \(count): must be >= 0") }
    let (needed, o) = count.multipliedReportingOverflow(by: Int64(spec.length))
    guard !o else { throw CallError(.overflow, "count * length overflows int64") }
    let out = try tokenBuffer(tokens, capacity, needed: needed, "tokens")
    try core { () throws(RopeError) in
      try posgenValidateGenerate(spec: spec, split: s, mode: mode, sizes: sizes, first: Int(first), count: Int(count))
    }
    try requireDisjoint(outputs: [ByteRange("tokens", out, count: needed)], inputs: [ByteRange("params", params, count: 1)])
    try core { () throws(RopeError) in
      try posgenGenerate(spec: spec, split: s, mode: mode, sizes: sizes, first: Int(first), count: Int(count), into: out)
    }
  }
}

/// Writes one sequence of params->length tokens grown from explicit `seeds` (far + near values,
/// each in [0, modulus)), e.g. the paper's worked example (m = 7, seeds 2 0 3 1). Split fields
/// are ignored. Returns the statuses of rr_posgen_generate(), plus RR_STATUS_INVALID_VALUE for
/// a seed outside [0, modulus), RR_STATUS_MISALIGNED for seeds not aligned to 4 bytes and
/// RR_STATUS_OVERLAP when the params->length tokens overlap the seeds or *params.
/// Added in 0.1.0.
@c(rr_posgen_sequence) public func rrPosgenSequence(
  _ params: UnsafePointer<rr_posgen_params>?, _ seeds: UnsafePointer<Int32>?,
  _ tokens: UnsafeMutablePointer<Int32>?, _ capacity: Int64
) -> Status {
  guarded("rr_posgen_sequence") { () throws(CallError) in
    let (spec, _, _) = try posgenArguments(params)
    let seeds = try required(seeds, "seeds")
    try requireAligned(seeds, "seeds")
    let out = try tokenBuffer(tokens, capacity, needed: Int64(spec.length), "tokens")
    try requireDisjoint(outputs: [ByteRange("tokens", out, count: Int64(spec.length))],
                        inputs: [ByteRange("seeds", seeds, count: Int64(spec.seedCount)), ByteRange("params", params, count: 1)])
    // Seeds are checked before the first token is written (nothing written on error).
    try core { () throws(RopeError) in try posgenSequence(spec: spec, seeds: seeds, into: out) }
  }
}

/// Teacher-forced token accuracy as the paper measures it: `predicted` and `reference` hold
/// `count` sequences of params->length int32 tokens (row-major). The far + near seed positions
/// are never scored; positions < train_length are in-distribution, the rest out-of-distribution.
/// `per_position` (may be NULL) receives params->length doubles: the accuracy at each position
/// over the sequences, NaN at seed positions. `result->struct_size` must be
/// sizeof(rr_posgen_result). Thread-safe.
///
/// Returns RR_STATUS_OK, RR_STATUS_NULL_POINTER, RR_STATUS_STRUCT_SIZE,
/// RR_STATUS_UNKNOWN_ENUM, RR_STATUS_INVALID_VALUE (train_length < 0, parameters),
/// RR_STATUS_OVERFLOW (count < 0, count * length overflowing), RR_STATUS_MISALIGNED,
/// RR_STATUS_OVERLAP (per_position or *result overlaps each other, predicted, reference or
/// *params). Added in 0.1.0.
@c(rr_posgen_score) public func rrPosgenScore(
  _ params: UnsafePointer<rr_posgen_params>?, _ predicted: UnsafePointer<Int32>?, _ reference: UnsafePointer<Int32>?,
  _ count: Int64, _ train_length: Int64, _ per_position: UnsafeMutablePointer<Double>?,
  _ result: UnsafeMutablePointer<rr_posgen_result>?
) -> Status {
  guarded("rr_posgen_score") { () throws(CallError) in
    let (spec, _, _) = try posgenArguments(params)
    let pred = try required(predicted, "predicted"), ref = try required(reference, "reference")
    let res = try required(result, "result")
    try requireAligned(UnsafePointer(res), "result")
    try requireStructHeader("result", size: res.pointee.struct_size, expected: posgenResultSize)
    try requireAligned(pred, "predicted")
    try requireAligned(ref, "reference")
    if let pp = per_position { try requireAligned(UnsafePointer(pp), "per_position") }
    guard count >= 0 else { throw CallError(.overflow, "count = \(count): must be >= 0") }
    guard train_length >= 0 else { throw CallError(.invalidValue, "train_length = \(train_length): must be >= 0") }
    let (tokens, o) = count.multipliedReportingOverflow(by: Int64(spec.length))
    guard !o else { throw CallError(.overflow, "count * length = \(count) * \(spec.length) overflows int64") }
    try requireDisjoint(outputs: [ByteRange("per_position", per_position, count: Int64(spec.length)), ByteRange("result", res, count: 1)],
                        inputs: [ByteRange("predicted", pred, count: tokens), ByteRange("reference", ref, count: tokens),
                                 ByteRange("params", params, count: 1)])
    let s = try core { () throws(RopeError) in
      try posgenScore(predicted: pred, reference: ref, count: Int(count), length: spec.length, seedCount: spec.seedCount,
                      trainLength: Int(min(train_length, Int64(Int32.max))), perPosition: per_position)
    }
    var r = rr_posgen_result()
    r.struct_size = posgenResultSize
    r.id_correct = Int64(s.inDistributionCorrect)
    r.id_total = Int64(s.inDistributionTotal)
    r.ood_correct = Int64(s.outOfDistributionCorrect)
    r.ood_total = Int64(s.outOfDistributionTotal)
    r.id_accuracy = s.inDistributionAccuracy
    r.ood_accuracy = s.outOfDistributionAccuracy
    res.pointee = r
  }
}
