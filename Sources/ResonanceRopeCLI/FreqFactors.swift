// `resonance-rope freq-factors`: llama.cpp `rope_freqs` divisors that turn a model into Resonance RoPE.
import ArgumentParser
import ResonanceRopeCore

struct FreqFactors: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "freq-factors",
    abstract: "Print the per-pair divisors f_i = theta_i / theta~_i for llama.cpp's rope_freqs tensor.",
    discussion: """
      llama.cpp divides pair i's frequency by rope_freqs[i], so these float32 factors make a model \
      use Resonance RoPE without changing llama.cpp (Resonance is what the factors are for: this \
      command has no Resonance flag). --relative-to scaled (default) gives scaled theta_i / theta~_i, for models whose \
      scaling llama.cpp applies from metadata (none, linear, YaRN); --relative-to base gives \
      base^(-2i/d) / theta~_i, which replaces a rope_freqs tensor that already carries the scaling \
      (Llama 3.1 GGUFs store their llama3 factors there): it equals the old factors times the \
      scaled ones.
      """)

  @OptionGroup var rope: RopeOptions
  @Option(help: "scaled (divisors on top of the model's scaling) or base (divisors of the unscaled base frequencies).")
  var relativeTo: String = "scaled"
  @Flag(help: "Print one JSON object.") var json = false
  @Option(help: "Write the factors as a float32 .npy file of shape [rotary_dim / 2].") var npy: String?

  func validate() throws {
    guard relativeTo == "scaled" || relativeTo == "base" else { throw ValidationError("--relative-to must be scaled or base") }
  }

  func run() throws {
    let config = try rope.config(resonance: true)
    let table = try FrequencyTable(config)
    let factors = table.resonanceFreqFactors(relativeToBase: relativeTo == "base")
    if let path = npy { try writeNpy(path: path, shape: [factors.count], values: factors) }
    if json {
      var o = JSONObject()
      o.set("rotary_dim", config.rotaryDim)
      o.set("base", config.base)
      o.set("scaling", config.scaling.name)
      o.set("relative_to", relativeTo)
      o.set("freq_factors", factors.map { Double($0) })
      o.set("resonance_wavelengths", table.resonanceWavelengths)
      print(o.text)
    } else if npy == nil {
      for (i, f) in factors.enumerated() { print("\(i) \(f)") }
    }
  }
}
