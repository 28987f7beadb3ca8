// `resonance-rope freqs`: frequencies, wavelengths and pair counts.
import ArgumentParser
import ResonanceRopeCore

struct Freqs: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the inverse frequencies and wavelengths of a RoPE configuration.")

  @OptionGroup var rope: RopeOptions
  @Flag(help: "Round wavelengths to integers (Resonance RoPE).") var resonance = false
  @Option(parsing: .unconditional, help: "Training length L: also count pre-critical (lambda < L) and periodic (lambda~ <= L) pairs.")
  var trainLength: Int64?
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    let t = try rope.table(resonance: resonance)
    if let L = trainLength, L <= 0 { throw ValidationError("--train-length must be > 0") }
    if json {
      print(Self.json(t, trainLength: trainLength))
    } else {
      print(Self.text(t, trainLength: trainLength))
    }
  }

  static func json(_ t: FrequencyTable, trainLength: Int64?) -> String {
    var o = JSONObject()
    o.set("rotary_dim", t.config.rotaryDim)
    o.set("head_dim", t.config.headDim)
    o.set("base", t.config.base)
    o.set("resonance", t.config.resonance)
    o.set("pair_layout", t.config.layout == .neox ? "neox" : "gptj")
    o.set("layout", t.config.layout == .neox ? "neox" : "gptj")   // the pair layout's old key, kept for readers of 0.1
    o.set("scaling", t.config.scaling.name)
    o.set("inv_freq", t.invFreq)
    o.set("wavelengths", t.wavelengths)
    if t.config.resonance { o.set("resonance_wavelengths", t.resonanceWavelengths) } else { o.setNull("resonance_wavelengths") }
    o.set("attention_factor", t.attentionFactor)
    if let c = t.correctionRange { o.set("correction_range", [c.low, c.high]) } else { o.setNull("correction_range") }
    if let L = trainLength {
      o.set("train_length", L)
      o.set("pre_critical_pairs", t.preCriticalPairs(trainLength: L))
      o.set("periodic_pairs", t.periodicPairs(trainLength: L))
    }
    return o.text
  }

  static func text(_ t: FrequencyTable, trainLength: Int64?) -> String {
    var lines = ["rotary_dim \(t.config.rotaryDim), base \(t.config.base), scaling \(t.config.scaling.name), resonance \(t.config.resonance ? "on" : "off"), attention factor \(t.attentionFactor)"]
    if let L = trainLength {
      lines.append("train length \(L): \(t.preCriticalPairs(trainLength: L)) pre-critical pairs, \(t.periodicPairs(trainLength: L)) exactly periodic pairs")
    }
    lines.append(pad("pair", 5) + pad("inv_freq", 26) + pad("wavelength", 26) + "rounded")
    for i in 0 ..< t.pairCount {
      lines.append(pad(String(i), 5) + pad(t.invFreq[i].description, 26) + pad(t.wavelengths[i].description, 26) + String(t.resonanceWavelengths[i]))
    }
    return lines.joined(separator: "\n")
  }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
