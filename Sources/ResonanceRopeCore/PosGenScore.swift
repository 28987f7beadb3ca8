// PosGen scoring: teacher-forced token accuracy as the public code measures it
// (github.com/sheryc/resonance_rope, src/models/decoder_module.py).
//
// The public evaluation feeds the whole reference sequence (teacher forcing: `input_ids` is the
// seeds concatenated with the labels), takes the argmax at every position, and scores only the
// tokens after the j + k seeds (`mask_initial_tokens`, `initial_token_count`). With sequence
// positions counted from 0 at the first seed (the prepended [EOS] is not counted):
//     in-distribution (acc_id)       positions j + k <= p < L      (L = training length)
//     out-of-distribution (acc_ood)  positions L <= p < L'         (L' = evaluation length)
// Both are micro averages over all scored tokens of all sequences (torchmetrics
// `Accuracy(task='multiclass')`, average='micro'). The public per-position metric
// `acc_digit{i}` (i = 20, 40, ..., 256) is position p = i - 1 here.

/// Scores of one batch. Accuracies are NaN when their position range is empty.
public struct PosGenScore: Sendable, Equatable {
  public var inDistributionCorrect: Int
  public var inDistributionTotal: Int
  public var outOfDistributionCorrect: Int
  public var outOfDistributionTotal: Int

  public var inDistributionAccuracy: Double {
    inDistributionTotal == 0 ? .nan : Double(inDistributionCorrect) / Double(inDistributionTotal)
  }
  public var outOfDistributionAccuracy: Double {
    outOfDistributionTotal == 0 ? .nan : Double(outOfDistributionCorrect) / Double(outOfDistributionTotal)
  }

  // NaN != NaN, so compare the counts, not the derived accuracies.
  public static func == (a: PosGenScore, b: PosGenScore) -> Bool {
    a.inDistributionCorrect == b.inDistributionCorrect && a.inDistributionTotal == b.inDistributionTotal
      && a.outOfDistributionCorrect == b.outOfDistributionCorrect && a.outOfDistributionTotal == b.outOfDistributionTotal
  }
}

/// Validates the shape arguments of a scoring call and returns count * length.
func _posgenScoreShape(count: Int, length: Int, seedCount: Int, trainLength: Int) throws(RopeError) -> Int {
  guard count >= 0 else { throw RopeError(.overflow, "count = \(count): must be >= 0") }
  guard length >= 0 else { throw RopeError(.overflow, "length = \(length): must be >= 0") }
  guard seedCount >= 0, seedCount <= length else {
    throw RopeError(.invalidValue, "seed_count = \(seedCount): must be in [0, length = \(length)]")
  }
  guard trainLength >= 0 else { throw RopeError(.invalidValue, "train_length = \(trainLength): must be >= 0") }
  let (total, o) = count.multipliedReportingOverflow(by: length)
  guard !o, total <= Int.max / 4 else { throw RopeError(.overflow, "count * length = \(count) * \(length) overflows") }
  return total
}

/// Scores `count` sequences of `length` tokens ([count, length] row-major Int32, elements).
///
/// - `seedCount`: j + k, the leading positions excluded from every score.
/// - `trainLength`: L; positions below it are in-distribution, the rest out-of-distribution.
/// - `perPosition`: when non-nil, receives `length` doubles: the accuracy at each position over
///   the `count` sequences, NaN at the seed positions (never scored) and everywhere when
///   count == 0. NaN (not -1) so that a plot or mean over positions cannot mistake it for a
///   score; filter with `isNaN`.
/// Nothing is written on error. Thread-safe.
package func posgenScore(predicted: UnsafePointer<Int32>, reference: UnsafePointer<Int32>,
                         count: Int, length: Int, seedCount: Int, trainLength: Int,
                         perPosition: UnsafeMutablePointer<Double>?) throws(RopeError) -> PosGenScore {
  _ = try _posgenScoreShape(count: count, length: length, seedCount: seedCount, trainLength: trainLength)
  var score = PosGenScore(inDistributionCorrect: 0, inDistributionTotal: 0,
                          outOfDistributionCorrect: 0, outOfDistributionTotal: 0)
  let split = min(max(trainLength, seedCount), length)  // first out-of-distribution position
  if let perPosition {
    for p in 0 ..< length { perPosition[p] = 0 }
  }
  for s in 0 ..< count {
    let a = predicted + s * length, b = reference + s * length
    var idCorrect = 0, oodCorrect = 0
    for p in seedCount ..< split where a[p] == b[p] {
      idCorrect += 1
      perPosition?[p] += 1
    }
    for p in split ..< length where a[p] == b[p] {
      oodCorrect += 1
      perPosition?[p] += 1
    }
    score.inDistributionCorrect += idCorrect
    score.outOfDistributionCorrect += oodCorrect
  }
  score.inDistributionTotal = count * (split - seedCount)
  score.outOfDistributionTotal = count * (length - split)
  if let perPosition {
    let c = Double(count)
    for p in 0 ..< length {
      perPosition[p] = (p < seedCount || count == 0) ? .nan : perPosition[p] / c
    }
  }
  return score
}

/// Array wrapper: `predicted` and `reference` must each hold count * length tokens.
/// Returns the summary and the per-position accuracies (`length` values, NaN at seed positions).
public func posgenScore(predicted: [Int32], reference: [Int32], count: Int, length: Int,
                         seedCount: Int, trainLength: Int) throws(RopeError) -> (score: PosGenScore, perPosition: [Double]) {
  let total = try _posgenScoreShape(count: count, length: length, seedCount: seedCount, trainLength: trainLength)
  guard predicted.count == total else {
    throw RopeError(.bufferTooSmall, "predicted has \(predicted.count) tokens: must have count * length = \(total)")
  }
  guard reference.count == total else {
    throw RopeError(.bufferTooSmall, "reference has \(reference.count) tokens: must have count * length = \(total)")
  }
  var per = [Double](repeating: .nan, count: length)
  var failure: RopeError? = nil
  var score = PosGenScore(inDistributionCorrect: 0, inDistributionTotal: 0, outOfDistributionCorrect: 0, outOfDistributionTotal: 0)
  predicted.withUnsafeBufferPointer { a in
    reference.withUnsafeBufferPointer { b in
      per.withUnsafeMutableBufferPointer { pp in
        // Empty arrays may have a nil base address; any valid pointer works when nothing is read.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1) { dummy in
          let pa = a.baseAddress ?? UnsafePointer(dummy.baseAddress!)
          let pb = b.baseAddress ?? UnsafePointer(dummy.baseAddress!)
          do throws(RopeError) {
            score = try posgenScore(predicted: pa, reference: pb, count: count, length: length,
                                    seedCount: seedCount, trainLength: trainLength, perPosition: pp.baseAddress)
          } catch {
            failure = error
          }
        }
      }
    }
  }
  if let failure { throw failure }
  return (score, per)
}
