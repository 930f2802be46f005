// swift-tools-version:6.1
// Specula: a CPU LLM inference service with Simply-Scalable Speculative Decoding.
// The module graph is one-way: C libraries → Kernels / ModelFormat / Tokenization → Transformer →
// (Speculation → Engine → WorkerCore); the engine side never imports networking (checked by tests and CI).
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]
// Kernels are the hot path: compile them for the host's vector units and without overflow checks.
let kernelSettings: [SwiftSetting] = strict + [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let nioTLS = Target.Dependency.product(name: "NIOTLS", package: "swift-nio")

let package = Package(
    name: "Specula",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "specula", targets: ["specula"]),
        // libFuzzer target for the wire decoder: see Protocols/wire.md, "Fuzzing".
        .executable(name: "WireFuzz", targets: ["WireFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libnghttp2-dev, libopenblas-dev, libzstd-dev).
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Engine side: no networking below this line.
        .target(name: "ModelFormat", swiftSettings: strict),
        .target(name: "Tokenization", dependencies: ["ModelFormat"], swiftSettings: strict),
        // Vectorised inner loops (AVX-512 / AVX2 / scalar, picked at run time); optimised in every
        // configuration so debug-built tests stay fast.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Kernels", dependencies: ["CKernels", "COpenBLAS"], swiftSettings: kernelSettings),
        .target(name: "Transformer", dependencies: ["Kernels", "ModelFormat"], swiftSettings: kernelSettings),
        .target(name: "Engine", dependencies: ["Kernels", "Transformer", "Tokenization", "Speculation"], swiftSettings: strict),
        .target(name: "Speculation", swiftSettings: kernelSettings),

        // Networking side: the router ↔ worker protocol (Protocols/wire.md).
        .target(name: "Wire", dependencies: ["CZstd", nioCore, crypto], swiftSettings: strict),
        // The worker service: router connections (Wire over NIO) bridged to the engine thread.
        .target(name: "WorkerCore",
                dependencies: ["Engine", "Wire", "ModelFormat", "Tokenization", "Speculation", nioCore, nioPosix, logging, metrics],
                swiftSettings: strict),
        // The public face's protocols: HTTP/2 (libnghttp2), HTTP/1.1 (NIOHTTP1), TLS with ALPN (NIOSSL).
        .target(name: "HTTPFrontend", dependencies: ["CNGHTTP2", nioCore, nioPosix, nioHTTP1, nioSSL, nioTLS, logging],
                swiftSettings: strict),
        // The router: worker listener, shared queue per model, failover, the OpenAI API behind HTTPFrontend
        // (ModelFormat for its JSON value type only: the router stays model-agnostic).
        .target(name: "Router", dependencies: ["Wire", "HTTPFrontend", "ModelFormat", nioCore, nioPosix, logging, metrics, prometheus],
                swiftSettings: strict),
        // Settings from flags, SPECULA_* variables and a key = value file, checked against one schema.
        .target(name: "ServiceSettings", swiftSettings: strict),
        // `specula bench serve`: a streaming HTTP/1.1 client, SSE, vLLM's serving metrics, the SVG plot.
        .target(name: "ServeBenchmark", dependencies: [nioCore, nioPosix, nioHTTP1], swiftSettings: strict),
        // sd_notify(3) over a Unix datagram socket: readiness, stopping, status and watchdog pings.
        .target(name: "SystemdNotify", swiftSettings: strict),
        // h2load against HTTPServer and against nghttpd: see Tests/HTTPFrontendBench/main.swift.
        .executableTarget(name: "HTTPFrontendBench", dependencies: ["HTTPFrontend", nioCore, nioPosix, logging],
                          path: "Tests/HTTPFrontendBench", swiftSettings: strict),
        .executableTarget(name: "WireFuzz", dependencies: ["Wire", nioCore], path: "Tests/WireFuzz", swiftSettings: strict),

        // The executable: subcommands, configuration, bootstrapping, the bundled model and corpus.
        .executableTarget(
            name: "specula",
            dependencies: ["ModelFormat", "Tokenization", "Kernels", "Transformer", "Speculation", "Engine", "WorkerCore", "Wire", "Router", "HTTPFrontend",
                           "SystemdNotify", "ServiceSettings", "ServeBenchmark", "CZstd", "CNGHTTP2", argumentParser, logging, nioCore, nioPosix],
            exclude: [],
            resources: [.copy("Resources/models"), .copy("Resources/corpus")],
            swiftSettings: strict
        ),

        // SplitMix64 for the randomized tests of several targets.
        .target(name: "TestRandom", path: "Tests/TestRandom", swiftSettings: strict),
        .testTarget(name: "ModelFormatTests", dependencies: ["ModelFormat", "TestRandom"], swiftSettings: strict),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "ModelFormat"], swiftSettings: strict),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestRandom"], swiftSettings: strict),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "ModelFormat", "Tokenization"], swiftSettings: strict),
        .testTarget(name: "SpeculationTests", dependencies: ["Speculation", "TestRandom"], swiftSettings: strict),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Transformer", "Tokenization", "ModelFormat", "Kernels", "Speculation"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "WireFuzz", nioCore, nioEmbedded], swiftSettings: strict),
        // A router double built from the wire module, for the worker and deployment tests.
        .target(name: "ServingTestSupport", dependencies: ["Wire", nioCore, nioPosix], path: "Tests/ServingTestSupport",
                swiftSettings: strict),
        .testTarget(name: "WorkerTests",
                    dependencies: ["WorkerCore", "Wire", "Engine", "Tokenization", "SystemdNotify", "ServingTestSupport", "specula", nioCore, nioPosix],
                    swiftSettings: strict),
        .testTarget(name: "RouterTests", dependencies: ["Router", "Wire", "HTTPFrontend", "ServingTestSupport", "specula", nioCore, nioPosix, nioEmbedded],
                    exclude: ["Scripts"], swiftSettings: strict),
        .testTarget(name: "HTTPFrontendTests", dependencies: ["HTTPFrontend", "TestRandom", "CNGHTTP2", nioCore, nioEmbedded, nioPosix, nioHTTP1, logging],
                    swiftSettings: strict),
        .testTarget(name: "SystemdNotifyTests", dependencies: ["SystemdNotify"], swiftSettings: strict),
        .testTarget(name: "ServiceSettingsTests", dependencies: ["ServiceSettings"], swiftSettings: strict),
        .testTarget(name: "ServeBenchmarkTests", dependencies: ["ServeBenchmark", nioCore, nioPosix, nioHTTP1], swiftSettings: strict),
        // Deploy/: unit files (systemd-analyze verify), install.sh, units started as systemd would.
        .testTarget(name: "DeployTests", dependencies: ["SystemdNotify", "ServingTestSupport", "Wire", "specula"], swiftSettings: strict),
        .testTarget(name: "SpeculaTests", dependencies: ["specula", "Engine", "ServingTestSupport", "ServiceSettings", "CZstd", "CNGHTTP2", "COpenBLAS"], swiftSettings: strict),
    ]
)
