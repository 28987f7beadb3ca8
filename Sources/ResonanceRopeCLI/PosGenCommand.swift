// `resonance-rope posgen generate|score`.
import ArgumentParser
import ResonanceRopeCore

struct PosGenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "posgen", abstract: "PosGen data (Wang et al. 2024) and its scoring.",
    subcommands: [Generate.self, Score.self])
}

struct PosGenTaskOptions: ParsableArguments {
  @Option(help: "recursive, cot or semi-recursive (the paper's names; recurrent and semirecurrent are accepted too).")
  var task: String = "recursive"
  @Option(parsing: .unconditional, help: "Modulus m.") var modulus: Int = 17
  @Option(parsing: .unconditional, help: "Near tokens k.") var near: Int = 3
  @Option(parsing: .unconditional, help: "Far tokens j.") var far: Int = 1
  @Option(help: "mod_addition, pow_sin or pow_sin_2pi.") var arith: String = "mod_addition"

  func spec(length: Int) throws -> PosGenSpec {
    guard let t = PosGenTask(name: task) else {
      throw ValidationError("--task must be recursive, cot or semi-recursive (or recurrent, semirecurrent), got \(task)")
    }
    guard let a = PosGenArithmetic.allCases.first(where: { $0.name == arith }) else {
      throw ValidationError("--arith must be mod_addition, pow_sin or pow_sin_2pi")
    }
    let s = PosGenSpec(task: t, arith: a, modulus: modulus, near: near, far: far, length: length)
    try s.validate()
    return s
  }
}

extension PosGenCommand {
  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Generate PosGen sequences.",
      discussion: """
        Seeds are the (far + near)-combinations of 0..m-1 in lexicographic order, cycled. \
        --split-mode paper reproduces the public code (validation/test seeds overlap training); \
        disjoint keeps them out of training. --seeds grows one sequence from explicit seeds.
        """)
    @OptionGroup var task: PosGenTaskOptions
    @Option(parsing: .unconditional, help: "Tokens per sequence.") var length: Int = 64
    @Option(parsing: .unconditional, help: "Number of sequences.") var count: Int = 1
    @Option(parsing: .unconditional, help: "First sequence index within the split.") var first: Int = 0
    @Option(help: "train, val or test.") var split: String = "train"
    @Option(help: "paper or disjoint.") var splitMode: String = "paper"
    @Option(help: "Split sizes train,val,test.") var splitSizes: String = "10000,1000,1000"
    @Option(help: "Explicit seed tokens, e.g. \"2 0 3 1\" (one sequence).") var seeds: String?
    @Option(help: "text (one sequence per line), jsonl or npy.") var format: String = "text"
    @Option(help: "Output file (default: standard output; required for npy).") var out: String?

    func run() throws {
      let spec = try task.spec(length: length)
      var tokens: [Int32]
      var n = count
      if let seeds {
        let values = seeds.split(whereSeparator: { $0 == " " || $0 == "," }).map { Int32($0) }
        guard values.allSatisfy({ $0 != nil }) else { throw ValidationError("--seeds must be integers") }
        tokens = try posgenSequence(spec: spec, seeds: values.map { $0! })
        n = 1
      } else {
        guard let s = ["train": PosGenSplit.train, "val": .validation, "validation": .validation, "test": .test][split] else {
          throw ValidationError("--split must be train, val or test")
        }
        guard let m = ["paper": PosGenSplitMode.paper, "disjoint": .disjoint][splitMode] else {
          throw ValidationError("--split-mode must be paper or disjoint")
        }
        let sz = splitSizes.split(separator: ",").map { Int($0) }
        guard sz.count == 3, sz.allSatisfy({ $0 != nil }) else { throw ValidationError("--split-sizes must be train,val,test") }
        tokens = try posgenGenerate(spec: spec, split: s, mode: m,
                                    sizes: PosGenSplitSizes(train: sz[0]!, validation: sz[1]!, test: sz[2]!),
                                    first: first, count: count)
      }
      switch format {
      case "npy":
        guard let out else { throw ValidationError("--format npy needs --out") }
        try writeNpy(path: out, shape: [n, length], values: tokens)
      case "text", "jsonl":
        var text = ""
        text.reserveCapacity(tokens.count * 3)
        for r in 0 ..< n {
          let row = tokens[r * length ..< (r + 1) * length].map { String($0) }
          text += format == "text" ? row.joined(separator: " ") + "\n" : "[" + row.joined(separator: ", ") + "]\n"
        }
        try writeOutput(out, text)
      default:
        throw ValidationError("--format must be text, jsonl or npy")
      }
    }
  }

  struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Teacher-forced token accuracy of predictions against references.",
      discussion: "Files: .npy (int32/int64, [count, length]), or text/jsonl with one sequence per line.")
    @Option(help: "Predicted tokens.") var pred: String
    @Option(help: "Reference tokens.") var ref: String
    @Option(parsing: .unconditional, help: "Training length L: positions >= L are out of distribution.") var trainLength: Int
    @Option(parsing: .unconditional, help: "Near tokens k (seed positions j + k are not scored).") var near: Int = 3
    @Option(parsing: .unconditional, help: "Far tokens j.") var far: Int = 1
    @Flag(help: "Print one JSON object (with per-position accuracy).") var json = false

    func load(_ path: String) throws -> (rows: Int, length: Int, values: [Int32]) {
      if path.hasSuffix(".npy") {
        let (shape, v) = try readNpyInt32(path)
        guard shape.count == 2 else { throw ValidationError("\(path): expected a 2-D array [count, length]") }
        return (shape[0], shape[1], v)
      }
      var rows: [[Int32]] = []
      for line in try readTextFile(path).split(separator: "\n") {
        let items = line.split(whereSeparator: { " ,[]\t\r".contains($0) }).map { Int32($0) }
        if items.isEmpty { continue }
        guard items.allSatisfy({ $0 != nil }) else { throw ValidationError("\(path): non-integer token") }
        rows.append(items.map { $0! })
      }
      guard let len = rows.first?.count, rows.allSatisfy({ $0.count == len }) else {
        throw ValidationError("\(path): sequences must all have the same length")
      }
      return (rows.count, len, rows.flatMap { $0 })
    }

    func run() throws {
      let p = try load(pred), r = try load(ref)
      guard p.rows == r.rows, p.length == r.length else {
        throw ValidationError("shapes differ: \(p.rows)x\(p.length) vs \(r.rows)x\(r.length)")
      }
      let (s, per) = try posgenScore(predicted: p.values, reference: r.values, count: p.rows, length: p.length,
                                     seedCount: near + far, trainLength: trainLength)
      if json {
        var o = JSONObject()
        o.set("sequences", p.rows)
        o.set("length", p.length)
        o.set("train_length", trainLength)
        o.set("id_accuracy", s.inDistributionAccuracy)
        o.set("ood_accuracy", s.outOfDistributionAccuracy)
        o.set("id_correct", s.inDistributionCorrect)
        o.set("id_total", s.inDistributionTotal)
        o.set("ood_correct", s.outOfDistributionCorrect)
        o.set("ood_total", s.outOfDistributionTotal)
        o.set("per_position", per)
        print(o.text)
      } else {
        print("sequences \(p.rows) x \(p.length), training length \(trainLength)")
        print("in-distribution accuracy:     \(s.inDistributionAccuracy) (\(s.inDistributionCorrect)/\(s.inDistributionTotal))")
        print("out-of-distribution accuracy: \(s.outOfDistributionAccuracy) (\(s.outOfDistributionCorrect)/\(s.outOfDistributionTotal))")
      }
    }
  }
}
