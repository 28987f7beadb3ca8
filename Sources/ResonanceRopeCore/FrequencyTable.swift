// The immutable frequency table behind every handle: frequencies in double, Resonance rounding,
// and exact per-pair angle generation.
import CLibc

/// How one pair's angle is generated, in turns (1 turn = 2*pi radians).

struct PairAngle: Sendable {
  /// Integer period (the Resonance wavelength); 0 when the pair is not periodic.
  var period: Int64
  /// theta / (2*pi) as a double-double: turns per position (used when period == 0).
  var turnsHi: Double
  var turnsLo: Double

  @inline(__always)
  func turns(position m: Int64) -> DoubleDouble {
    let a = self
    if a.period > 0 {
      var r = m % a.period
      if r < 0 { r += a.period }
      let p = Double(a.period), rd = Double(r)
      let t = rd / p
      // Residual r - t*p is exact (fma), so t + residual/p carries the quotient to ~2^-106.
      return DoubleDouble(t, rd.addingProduct(-t, p) / p)
    }
    // m = hi + lo, hi a multiple of 4096 (at most 51 significant bits), lo in [0, 4096).
    let hi = Double(m & ~0xFFF), lo = Double(m & 0xFFF)
    let p1 = DoubleDouble.twoProduct(hi, a.turnsHi)
    let p2 = DoubleDouble.twoProduct(lo, a.turnsHi)
    let c = hi * a.turnsLo + lo * a.turnsLo
    // Integer parts drop out exactly: x - floor(x) is exact for any double x.
    var s = DoubleDouble.twoSum(p1.hi - p1.hi.rounded(.down), p2.hi - p2.hi.rounded(.down))
    s = s.adding(p1.lo - p1.lo.rounded(.down))
    s = s.adding(p2.lo)
    s = s.adding(c - c.rounded(.down))
    let f = s.hi.rounded(.down)
    return DoubleDouble.twoSum(s.hi - f, s.lo)
  }
}

/// Frequencies of one RoPE configuration. Immutable after creation, so safe to share across threads.
public final class FrequencyTable: Sendable {
  public let config: RopeConfig
  /// Scaled frequencies before Resonance rounding (radians per position).
  public let scaledInvFreq: [Double]
  /// Wavelengths 2*pi / theta_i of the scaled frequencies, before rounding (positions).
  public let wavelengths: [Double]
  /// round(wavelength), never below 1: the integer periods Resonance uses (computed either way).
  public let resonanceWavelengths: [Int64]
  /// The frequencies in use: 2*pi / lambda~_i with Resonance, `scaledInvFreq` without.
  public let invFreq: [Double]
  /// The magnitude factor for cos/sin: the configured one, else the scaling's.
  public let attentionFactor: Double
  public let correctionRange: (low: Double, high: Double)?
  let angles: [PairAngle]
  /// The fast generators' data (periodic table, polynomial constants): FastAngles.swift.
  let fast: FastAngles

  /// Wavelengths at or above 2^53 are already integers in double and far beyond any context;
  /// Resonance refuses them rather than converting to Int64 inexactly.
  public static let maxResonanceWavelength: Double = 9007199254740992  // 2^53

  /// Validates `config` and builds its frequencies and fast-angle data (a periodic table of at
  /// most `FastAngles.defaultBudgetEntries` entries). Throws for an invalid configuration, and
  /// `.outOfMemory` when an allocation fails.
  public convenience init(_ config: RopeConfig) throws(RopeError) {
    try self.init(config, periodicBudget: FastAngles.defaultBudgetEntries)
  }

  /// `periodicBudget`: most entries (8 bytes each) of the periodic cos/sin table of Resonance
  /// pairs; 0 computes every pair by the polynomial (the C layer's fuzz build, tests).
  /// A convenience init: everything that can throw runs before the object exists (a designated
  /// init that throws releases its object through swift_deallocPartialClassInstance, which in
  /// Embedded Swift 6.3.1 does not free it: 216 bytes leaked per failed rr_rope_create).
  package convenience init(_ config: RopeConfig, periodicBudget: Int) throws(RopeError) {
    try config.validate()
    let half = config.pairCount
    // Allocation: the per-pair Swift arrays below and in the scaling (about 10 of 8 to 24 bytes
    // per pair) must not trap, so their bound is proven available first (Memory.swift); the
    // periodic table is malloc'd and checked by FastAngles itself.
    try requireMemory(bytes: half * Self.bytesPerPairBound, "the per-pair arrays of \(half) pairs")
    let scaled = try scaledFrequencies(rotaryDim: config.rotaryDim, base: config.base, scaling: config.scaling)
    guard scaled.invFreq.count == half else {
      throw RopeError(.invalidDimension, "scaling produced \(scaled.invFreq.count) frequencies, expected \(half)")
    }
    var lambdas = [Double](repeating: 0, count: half)
    var rounded = [Int64](repeating: 0, count: half)
    var inUse = [Double](repeating: 0, count: half)
    var angles = [PairAngle](repeating: PairAngle(period: 0, turnsHi: 0, turnsLo: 0), count: half)
    for i in 0 ..< half {
      let theta = scaled.invFreq[i]
      guard theta.isFinite, theta > 0 else {
        throw RopeError(.invalidValue, "inverse frequency of pair \(i) = \(theta): must be finite and > 0")
      }
      let lambda = twoPiHi / theta
      guard lambda.isFinite else {
        throw RopeError(.invalidValue, "wavelength of pair \(i) overflows (theta = \(theta))")
      }
      // Every output must be finite and nonzero in its own type: float32 inv_freq (and the
      // angles' scale) for theta, so theta is refused outside [2^-149, FLT_MAX].
      try Self.requireFloat32(theta, "inverse frequency of pair \(i)")
      lambdas[i] = lambda
      // Rounded for reporting even when Resonance is off; saturate instead of trapping.
      let r = lambda.rounded(.toNearestOrEven)
      rounded[i] = r < Self.maxResonanceWavelength ? max(1, Int64(r)) : Int64(Self.maxResonanceWavelength)
      if config.resonance {
        guard lambda < Self.maxResonanceWavelength else {
          throw RopeError(.invalidValue, "wavelength of pair \(i) = \(lambda) >= 2^53: too long to round for Resonance")
        }
        inUse[i] = twoPiHi / Double(rounded[i])
        angles[i] = PairAngle(period: rounded[i], turnsHi: 0, turnsLo: 0)
        // The llama.cpp divisor theta / theta~ (rr_rope_resonance_freq_factors) is written as
        // float: it is lambda~ / lambda in (2/3, 4/3] for lambda >= 1 and theta / (2 pi) below,
        // so theta <= FLT_MAX (checked above) keeps it finite and > 0.
      } else {
        inUse[i] = theta
        let t = turnsPerPosition(theta)
        // Positions are integers, so only tau mod 1 matters: m * tau and m * (tau - k) differ by
        // the integer m * k. Dropping whole turns (exactly: x - floor(x) and x - trunc(x) are exact
        // in double) keeps every product in `turns` below 2^63 in magnitude. Without it a finite
        // but huge theta (a linear factor of 1e-300 gives theta = 1e300) made m * tau overflow to
        // inf and the angle NaN, and Int(NaN) trapped (found by Tests/fuzz). tau < 1, i.e. every
        // theta < 2*pi, is left exactly as it was.
        let hi = t.hi >= 1 ? t.hi - t.hi.rounded(.down) : t.hi
        let lo = abs(t.lo) >= 1 ? t.lo - t.lo.rounded(.towardZero) : t.lo
        angles[i] = PairAngle(period: 0, turnsHi: hi, turnsLo: lo)
      }
    }
    // One rule for the final factor, given or derived by the scaling (YaRN's mscale ratio,
    // LongRoPE's sqrt): cos/sin are float32, so it must be finite, > 0 and <= FLT_MAX.
    let attention = config.attentionFactor ?? scaled.attentionFactor
    guard attention.isFinite, attention > 0, attention <= Double(Float.greatestFiniteMagnitude) else {
      let source = config.attentionFactor == nil ? "the scaling's attention factor" : "attention_factor"
      throw RopeError(.invalidValue, "\(source) = \(attention): must be finite, > 0 and <= FLT_MAX")
    }
    guard let f = FastAngles(resonance: config.resonance, angles: angles, budgetEntries: max(0, periodicBudget)) else {
      throw RopeError(.outOfMemory, "could not allocate the cos/sin tables (\(half) pairs)")
    }
    self.init(config: config, scaled: scaled, wavelengths: lambdas, resonanceWavelengths: rounded, invFreq: inUse,
              attentionFactor: attention, angles: angles, fast: f)
  }

  private init(config: RopeConfig, scaled: ScaledFrequencies, wavelengths: [Double], resonanceWavelengths: [Int64],
               invFreq: [Double], attentionFactor: Double, angles: [PairAngle], fast: FastAngles) {
    self.config = config
    self.scaledInvFreq = scaled.invFreq
    self.wavelengths = wavelengths
    self.resonanceWavelengths = resonanceWavelengths
    self.invFreq = invFreq
    self.attentionFactor = attentionFactor
    self.correctionRange = scaled.correctionRange
    self.angles = angles
    self.fast = fast
  }

  public var pairCount: Int { config.pairCount }

  /// Bytes per pair that creating a table allocates in Swift arrays, with room to spare (the
  /// actual figure is below 200): the bound `requireMemory` proves before creation.
  static let bytesPerPairBound = 512

  /// Refuses `x` whose float32 rounding is infinite or 0 (x is finite and > 0 here).
  static func requireFloat32(_ x: Double, _ what: @autoclosure () -> String) throws(RopeError) {
    let f = Float(x)
    guard f.isFinite, f > 0 else {
      throw RopeError(.invalidValue, "\(what()) = \(x): its float32 value would be \(f); must be in [2^-149, FLT_MAX]")
    }
  }

  /// The divisor that turns frequency `reference` into pair i's frequency in use:
  /// reference / theta~_i (the llama.cpp `rope_freqs` convention). Finite and > 0 in float32 for
  /// reference = the scaled theta_i (checked at creation).
  package func frequencyFactor(pair i: Int, relativeTo reference: Double) -> Double {
    reference / invFreq[i]
  }

  /// scaled theta_i / theta~_i = lambda~_i / lambda_i under Resonance (1 without): the
  /// `rope_freqs` divisors of rr_rope_resonance_freq_factors and `resonance-rope freq-factors`.
  package func resonanceFreqFactor(pair i: Int) -> Double {
    frequencyFactor(pair: i, relativeTo: scaledInvFreq[i])
  }

  /// Pairs whose wavelength (before rounding) is shorter than the training length: the paper's
  /// "pre-critical" dimensions, which see whole periods during training.
  public func preCriticalPairs(trainLength: Int64) -> Int {
    wavelengths.reduce(0) { $0 + ($1 < Double(trainLength) ? 1 : 0) }
  }

  /// Pairs that repeat exactly within the training length (lambda~_i <= L); 0 without Resonance.
  /// Their out-of-distribution feature gap is exactly zero.
  public func periodicPairs(trainLength: Int64) -> Int {
    guard config.resonance else { return 0 }
    return resonanceWavelengths.reduce(0) { $0 + ($1 <= trainLength ? 1 : 0) }
  }

  /// The angle of pair `i` at `position`, in turns, reduced to [0, 1) as a double-double.
  ///
  /// Periodic pairs: (m mod P) / P with an integer floor-mod, exact for every Int64 m.
  /// Other pairs: frac(m * tau) with tau = theta / (2*pi) in double-double; m is split into two
  /// exactly representable parts so every product is exact. The error is below 2^-104 * |m| * tau
  /// turns from the rounding of tau and of the small correction products: about 1e-17 turns
  /// for |m| < 2^53 and 2e-14 turns at |m| = 2^63 (float32 output needs 2e-8).
  @inline(__always)
  func turns(pair i: Int, position m: Int64) -> DoubleDouble {
    angles[i].turns(position: m)
  }

  /// cos and sin of pair `i` at `position`, in double, within about 2e-16 of the exact values.

  package func cosSin(pair i: Int, position m: Int64) -> (cos: Double, sin: Double) {
    cosSinOfTurns(turns(pair: i, position: m))
  }
}

/// theta / (2*pi) as a double-double, to about 2^-106 relative.
func turnsPerPosition(_ theta: Double) -> DoubleDouble {
  let hi = theta / twoPiHi
  // theta - hi*2pi: the fma residual against C1 is exact (both sides agree to within a few ulps),
  // the C2 and C3 terms are far below it.
  let residual = theta.addingProduct(-hi, twoPiHi) - hi * twoPiMid - hi * twoPiLo
  return DoubleDouble(hi, residual / twoPiHi)
}

/// cos(2*pi*t) and sin(2*pi*t) for t = t.hi + t.lo with t.hi in [-1, 2] (reduced by quadrant).
///
/// The quadrant q = round(4 t) is taken out exactly (t.hi - q/4 is exact), leaving |u| <= 1/8 turn,
/// i.e. |angle| <= pi/4, where glibc's sin and cos are correctly rounded in practice (< 1 ulp).
/// The low part of u and of 2*pi enter through a first-order correction.
@inline(__always)
func cosSinOfTurns(_ t: DoubleDouble) -> (cos: Double, sin: Double) {
  let q = (t.hi * 4).rounded(.toNearestOrEven)
  let uh = t.hi - q * 0.25
  let ah = uh * twoPiHi
  let al = (-ah).addingProduct(uh, twoPiHi) + (uh * twoPiMid + t.lo * twoPiHi)
  let s0 = sin(ah), c0 = cos(ah)
  let s = s0 + c0 * al
  let c = c0 - s0 * al
  switch Int(q) & 3 {
  case 0: return (c, s)
  case 1: return (-s, c)
  case 2: return (-c, -s)
  default: return (s, -c)
  }
}
