// swift-tools-version: 6.3
// resonance-rope: an exact, fast Resonance RoPE library with a plain C ABI.
// Tools version 6.3: the `@c` attribute of the C ABI needs a Swift 6.3 compiler (README).
//
// Targets (see STYLE.md in the shared folder):
//   ResonanceRopeCore  pure Swift numerics: no C types, no `rr_` names, no Foundation.
//   CLibc              the C library headers the core uses (libm, malloc, pthreads), instead of
//                      Glibc, which Embedded Swift lacks (the Makefile's Embedded build).
//   ResonanceRopeKernelTypes  plain data the core hands to the kernels (no hot code).
//   ResonanceRopeKernels      the hot loops (rotation, angle rows, table fills), baseline x86-64.
//   ResonanceRopeKernelsAVX2  the SAME source files (symlinks), compiled for x86-64-v3; the core
//                      picks it at run time when the CPU has every x86-64-v3 feature.
//   ResonanceRopeKernelsAVX512  the same files again for x86-64-v4 (AVX-512, 16-lane halves),
//                      picked when the CPU has every x86-64-v4 feature.
//   CLibc              the C library headers the Swift code uses (libm, malloc, pthreads),
//                      instead of Glibc, which Embedded Swift lacks (the Makefile's Embedded build).
//   CKernelHints       static inline hints the kernels need and Swift cannot spell (prefetch, F16C).
//   CCPUFeatures       CPU feature checks (CPUID, XGETBV) for the kernel dispatch.
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
    .target(name: "ResonanceRopeCore",
            dependencies: ["CLibc", "ResonanceRopeKernelTypes", "ResonanceRopeKernels", "ResonanceRopeKernelsAVX2",
                           "ResonanceRopeKernelsAVX512", "CCPUFeatures"]),
    .target(name: "CLibc", linkerSettings: [.linkedLibrary("m")]),
    .target(name: "ResonanceRopeKernelTypes", dependencies: ["CLibc"]),
    .target(name: "ResonanceRopeKernels", dependencies: ["ResonanceRopeKernelTypes", "CKernelHints"]),
    // -Xcc -march=x86-64-v3 steers Swift's code generation too (ymm, AVX2, F16C); RR_KERNEL_AVX2
    // selects the F16C element. Never called unless the CPU has x86-64-v3 (see Dispatch.swift).
    .target(name: "ResonanceRopeKernelsAVX2", dependencies: ["ResonanceRopeKernelTypes", "CKernelHints"],
            swiftSettings: [.define("RR_KERNEL_AVX2"), .unsafeFlags(["-Xcc", "-march=x86-64-v3"])]),
    // x86-64-v4: RR_KERNEL_AVX2 (F16C, AVX2 elements) and RR_KERNEL_AVX512 (16-lane halves).
    .target(name: "ResonanceRopeKernelsAVX512", dependencies: ["ResonanceRopeKernelTypes", "CKernelHints"],
            swiftSettings: [.define("RR_KERNEL_AVX2"), .define("RR_KERNEL_AVX512"), .unsafeFlags(["-Xcc", "-march=x86-64-v4"])]),
    .target(name: "CKernelHints"),
    .target(name: "CCPUFeatures"),
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
    // The kernel benchmark, apart from the core; run by `resonance-rope bench`. It and the CLI
    // see only the core's `public` API (packageAccess: false): no raw-pointer kernel, no
    // unvalidated call (Sources/ResonanceRopeCore/CoreAPI.swift).
    .target(name: "ResonanceRopeBench", dependencies: ["ResonanceRopeCore"], packageAccess: false),
    .executableTarget(
      name: "ResonanceRopeCLI",
      dependencies: [
        "ResonanceRopeCore",
        "ResonanceRopeBench",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      packageAccess: false
    ),
    .testTarget(name: "ResonanceRopeCoreTests", dependencies: ["ResonanceRopeCore"]),
  ]
)
