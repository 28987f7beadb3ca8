// swift-tools-version: 6.1
// resonance-rope: an exact, fast Resonance RoPE library with a plain C ABI.
//
// Targets (see STYLE.md in the shared folder):
//   ResonanceRopeCore  pure Swift numerics: no C types, no `rr_` names, no Foundation.
//   CLibc              the C library headers the core uses (libm, malloc, pthreads), instead of
//                      Glibc, which Embedded Swift lacks (the Makefile's Embedded build).
//   CKernelHints       static inline hints the kernels need and Swift cannot spell (prefetch).
//   CHalfConversion    half <-> float32 rows with F16C, used when the CPU has it (runtime check).
//   CResonanceRope     the public C structs and macros (the only hand-written C declarations).
//   ResonanceRope      the thin C ABI (`@c(rr_...)`), built as libresonance_rope.so.
//   ResonanceRopeBench the kernel benchmark (`resonance-rope bench`).
//   ResonanceRopeCLI   the `resonance-rope` command-line tool.
import PackageDescription

let root = Context.packageDirectory

let package = Package(
  name: "resonance-rope",
  products: [
    .library(name: "resonance_rope", type: .dynamic, targets: ["ResonanceRope"]),
    .executable(name: "resonance-rope", targets: ["ResonanceRopeCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    .target(name: "ResonanceRopeCore", dependencies: ["CLibc", "CKernelHints", "CHalfConversion"]),
    .target(name: "CLibc", linkerSettings: [.linkedLibrary("m")]),
    .target(name: "CKernelHints"),
    .target(name: "CHalfConversion"),
    .target(name: "CResonanceRope"),
    .target(
      name: "ResonanceRope",
      dependencies: ["ResonanceRopeCore", "CResonanceRope"],
      exclude: ["exports.map"],
      swiftSettings: [
        // The compiler writes the C declarations of every @c function here on each build;
        // tools/gen_header.py turns them into Include/resonance_rope.h.
        .unsafeFlags(["-emit-clang-header-path", "\(root)/.build/resonance_rope-emitted.h"]),
      ],
      linkerSettings: [
        // Export exactly the rr_* symbols, give the .so a SONAME, refuse undefined symbols.
        .unsafeFlags([
          "-Xlinker", "--version-script=\(root)/Sources/ResonanceRope/exports.map",
          "-Xlinker", "-soname=libresonance_rope.so.0",
          "-Xlinker", "-z", "-Xlinker", "defs",
          "-use-ld=lld",
        ]),
      ]
    ),
    // The kernel benchmark, apart from the core; run by `resonance-rope bench`.
    .target(name: "ResonanceRopeBench", dependencies: ["ResonanceRopeCore", "CKernelHints"]),
    .executableTarget(
      name: "ResonanceRopeCLI",
      dependencies: [
        "ResonanceRopeCore",
        "ResonanceRopeBench",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "ResonanceRopeCoreTests", dependencies: ["ResonanceRopeCore"]),
  ]
)
