// swift-tools-version:6.1
import PackageDescription

/// `NODAL_ENGINE_ONLY=1`: the package without the run service, its server, its client and the
/// PostgreSQL store, so without Hummingbird, AsyncHTTPClient, postgres-nio and BoringSSL.
/// scripts/test-sanitize builds it this way: what a sanitizer checks is the engine and the C ABI,
/// and the server's packages would double the sanitized build. The `nodal` command then has no
/// `serve`, `submit` or `runs get|watch|cancel|resume`, and refuses `--store postgres://...`.
let engineOnly = Context.environment["NODAL_ENGINE_ONLY"] == "1"
/// The targets and packages that exist only in the full package.
/// NodalPostgres goes too: postgres-nio brings swift-nio-ssl (BoringSSL) and swift-crypto, which
/// the engine build means to leave out.
let serviceTargets: Set<String> = [
    "NodalService", "NodalServer", "NodalClient", "NodalPostgres", "NodalServiceTests", "NodalServerTests", "NodalClientTests",
    "HashBench", "hash-bench",
]
let servicePackages: Set<String> = [
    "hummingbird", "swift-service-lifecycle", "async-http-client", "swift-nio", "swift-nio-extras", "swift-http-types", "postgres-nio", "swift-nio-ssl",
    "swift-crypto",
]
/// The CLI's files and tests that use them.
let serviceCommandFiles = [
    "ServeCommand.swift", "SubmitCommand.swift", "RemoteRunsCommands.swift", "RemoteOptions.swift", "WorkerCommand.swift", "WorkersCommand.swift",
]
let serviceCLITestFiles = [
    "HostileServeProcessTests.swift", "RemoteCLITests.swift", "ServeCLITests.swift", "ServeEndToEndTests.swift", "WorkerCLITests.swift",
]

let package = Package(
    name: "nodal",
    products: [
        .library(name: "Nodal", targets: ["Nodal"]),
        // The engine alone (flows, scheduling, plugins, the in-memory store): no NIO, no SQLite.
        .library(name: "NodalCore", targets: ["NodalCore"]),
        .library(name: "NodalJSON", targets: ["NodalJSON"]),
        .library(name: "NodalFFI", targets: ["NodalFFI"]),
        // The Swift plugin SDK: nodes as Swift types or closures, no pointers (README: Writing plugins).
        .library(name: "NodalPluginKit", targets: ["NodalPluginKit"]),
        // The run service without HTTP (runs, items, events, recovery), the HTTP server on it, and a
        // client that needs neither the engine nor the server (README: The run service).
        .library(name: "NodalService", targets: ["NodalService"]),
        .library(name: "NodalServer", targets: ["NodalServer"]),
        .library(name: "NodalClient", targets: ["NodalClient"]),
        // The shared store for several processes or machines: PostgreSQL (README: PostgreSQL store).
        .library(name: "NodalPostgres", targets: ["NodalPostgres"]),
        .executable(name: "nodal", targets: ["nodal"]),
        // The plugin host alone (what `nodal plugin-host` runs), for apps that embed the engine.
        .executable(name: "nodal-plugin-host", targets: ["NodalPluginHostTool"]),
        // Plugins that ship with Nodal. Each is a shared library the engine loads at run time;
        // nothing links them. Each can also be built on its own (see its folder).
        .library(name: "nodal_std", type: .dynamic, targets: ["NodalStdPlugin"]),
        .library(name: "nodal_stats", type: .dynamic, targets: ["NodalStatsPlugin"]),
        .library(name: "nodal_orchestrator", type: .dynamic, targets: ["NodalOrchestratorPlugin"]),
        // For the tests only: a NodalPluginKit plugin that drives the runs and blobs extensions.
        .library(name: "kitprobe", type: .dynamic, targets: ["KitProbePlugin"]),
        .executable(name: "nodal-bench", targets: ["NodalBench"]),
        .executable(name: "batch-bench", targets: ["BatchBench"]),
        .executable(name: "store-bench", targets: ["StoreBench"]),
        .executable(name: "ffi-bench", targets: ["FFIBench"]),
        .executable(name: "hash-bench", targets: ["HashBench"]),
        .executable(name: "nodal-fuzz", targets: ["NodalFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already there under sqlite-nio and Hummingbird; named for NIOCore's TimeAmount (the server's idle timeout).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Also already there under Hummingbird: the HTTP parts the server's malformed-request handler sees.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // For hash-bench only (postgres-nio brings it anyway): the vetted SHA-256 to measure ours against.
        .package(url: "https://github.com/apple/swift-crypto", "3.9.0"..<"5.0.0"),
        // Already there under postgres-nio and AsyncHTTPClient: the TLS settings of a PostgreSQL connection.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
    ],
    targets: [
        // The plugin ABI. The one copy of the header is include/nodal.h; this target's module map
        // points at it so Swift sees exactly what C plugin authors see.
        .target(name: "CNodal", path: "Sources/CNodal"),
        // libffi, for `/builtin/ffi` steps (README: Calling C functions).
        .systemLibrary(name: "CFFI", path: "Sources/CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        // JSON value, parser, writer and JSONPath; depends on nothing.
        .target(name: "NodalJSON"),
        // The Swift plugin SDK. Only the ABI module and JSON: a plugin built on it links neither the
        // engine nor its dependencies (it links this and NodalJSON statically).
        .target(name: "NodalPluginKit", dependencies: ["CNodal", "NodalJSON"]),
        // Flows, expressions, config, scheduling, the engine, builtins, the plugin loader, the
        // RunStore protocol and the in-memory store.
        .target(
            name: "NodalCore",
            dependencies: [
                "NodalJSON",
                "CNodal",
                // Process isolation's system calls (spawn, parent-death signal, shared memory).
                "CNodalShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // `/builtin/ffi`: C functions called through libffi, as an engine extension.
        .target(name: "NodalFFI", dependencies: ["NodalCore", "CFFI", "CNodalShims"]),
        // C helpers that need system headers (link.h) kept out of every module map.
        .target(name: "CNodalShims", path: "Sources/CNodalShims"),
        // `nodal plugin-host`: the child process that runs a plugin loaded with isolation: process.
        .target(
            name: "NodalPluginHost",
            dependencies: ["NodalCore", "NodalJSON", "CNodal", "CNodalShims", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "NodalPluginHostTool", dependencies: ["NodalPluginHost"], path: "Sources/nodal-plugin-host"),
        // The embedded default store: one SQLite file, no server.
        .target(
            name: "NodalSQLite",
            dependencies: [
                "NodalCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
        // The shared store: PostgreSQL, for several processes or machines. Not in the umbrella (an
        // app that embeds the engine does not build postgres-nio); the CLI depends on it.
        .target(
            name: "NodalPostgres",
            dependencies: [
                "NodalCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // ByteBuffer, for bytea values.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Umbrella: re-exports the targets above (Exports.swift), so `import Nodal` gives all of them.
        .target(name: "Nodal", dependencies: ["NodalJSON", "NodalCore", "NodalFFI", "NodalSQLite"]),
        // Runs as a service: flows stored as blobs, runs of many items tracked and recovered after a
        // restart, an event journal per run. Speaks JSON in Stepflow's shapes, knows nothing of HTTP.
        .target(
            name: "NodalService",
            dependencies: [
                "Nodal",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // `nodal serve`: Stepflow's REST API and the seed's JSON-RPC over Hummingbird, on NodalService.
        .target(
            name: "NodalServer",
            dependencies: [
                "NodalService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A client of the REST API. Only JSON and AsyncHTTPClient: no engine, no server.
        .target(
            name: "NodalClient",
            dependencies: [
                "NodalJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "nodal",
            dependencies: [
                "Nodal",
                "NodalPluginHost",
                "NodalService",
                "NodalServer",
                "NodalClient",
                "NodalPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // `nodal worker` runs its worker and run service in a service group.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Plugins' log lines go through the CLI's own handler (Sources/nodal/LogLines.swift).
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "NodalStdPlugin",
            path: "plugins/std",
            exclude: ["Makefile", "README.md"],
            sources: ["nodal_std.c"],
            publicHeadersPath: ".",
            // The header lives outside the target (include/nodal.h), as it does for outside authors.
            cSettings: [.unsafeFlags(["-I", Context.packageDirectory + "/include"])]
        ),
        // Runs flows from inside a step (sub-runs), through the JSON, blobs and runs extensions.
        .target(
            name: "NodalOrchestratorPlugin",
            path: "plugins/orchestrator",
            exclude: ["Makefile", "README.md"],
            sources: ["nodal_orchestrator.c"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-I", Context.packageDirectory + "/include"])]
        ),
        .target(name: "KitProbePlugin", dependencies: ["NodalPluginKit"], path: "Tests/KitProbePlugin"),
        .target(
            name: "NodalStatsPlugin",
            dependencies: ["NodalPluginKit"],
            path: "plugins/stats/Sources/NodalStatsPlugin"
        ),
        .executableTarget(
            name: "NodalBench",
            dependencies: ["Nodal"],
            path: "Benchmarks/NodalBench"
        ),
        .executableTarget(
            name: "FFIBench",
            dependencies: ["Nodal"],
            path: "Benchmarks/FFIBench"
        ),
        .executableTarget(name: "StoreBench", dependencies: ["Nodal"], path: "Benchmarks/StoreBench"),
        // Nodal's SHA-256 (content hashes) against swift-crypto's (BoringSSL underneath on Linux).
        .executableTarget(
            name: "HashBench",
            dependencies: ["NodalCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/HashBench"
        ),
        .executableTarget(
            name: "BatchBench",
            dependencies: ["Nodal"],
            path: "Benchmarks/BatchBench"
        ),
        // A mutation fuzzer over the flow loader, the JSON parser and the engine (scripts/fuzz).
        .executableTarget(name: "NodalFuzz", dependencies: ["Nodal", "NodalTestSupport"], path: "Fuzz/FlowFuzz"),
        // Helpers both test targets share: locating built products, running processes, building C plugins.
        .target(name: "NodalTestSupport", dependencies: ["Nodal"], path: "Tests/NodalTestSupport"),
        .testTarget(name: "NodalTests", dependencies: ["Nodal", "NodalCore", "NodalJSON", "NodalFFI", "NodalSQLite", "NodalPostgres", "NodalTestSupport", "NodalPluginKit", "CNodal"]),
        .testTarget(name: "NodalFFITests", dependencies: ["Nodal", "NodalCore", "NodalJSON", "NodalFFI", "NodalTestSupport"]),
        .testTarget(name: "NodalCLITests", dependencies: ["Nodal", "NodalCore", "NodalJSON", "NodalFFI", "NodalSQLite", "NodalTestSupport", "NodalClient"]),
        .testTarget(name: "NodalServiceTests", dependencies: ["NodalService", "Nodal", "NodalPostgres", "NodalTestSupport"]),
        .testTarget(
            name: "NodalServerTests",
            dependencies: [
                "NodalServer", "NodalService", "Nodal", "NodalTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "NodalClientTests",
            dependencies: [
                "NodalClient", "NodalServer", "NodalService", "Nodal", "NodalTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The copied JSON Schema Test Suite files are read from disk by path, not bundled.
        .testTarget(name: "NodalJSONTests", dependencies: ["NodalJSON"], exclude: ["JSONSchemaTestSuite"]),
    ]
)

if engineOnly {
    package.products.removeAll { serviceTargets.contains($0.name) }
    package.targets.removeAll { serviceTargets.contains($0.name) }
    package.dependencies.removeAll { dependency in
        guard case .sourceControl(_, let location, _) = dependency.kind else { return false }
        return servicePackages.contains { location.hasSuffix("/" + $0) }
    }
    for target in package.targets {
        target.dependencies.removeAll { dependency in
            switch dependency {
            case .targetItem(let name, _), .byNameItem(let name, _): serviceTargets.contains(name)
            case .productItem(_, let package?, _, _): servicePackages.contains(package)
            default: false
            }
        }
    }
    let cli = package.targets.first { $0.name == "nodal" }!
    cli.exclude += serviceCommandFiles
    cli.swiftSettings = (cli.swiftSettings ?? []) + [.define("NODAL_ENGINE_ONLY")]
    package.targets.first { $0.name == "NodalCLITests" }!.exclude += serviceCLITestFiles
}

// Upcoming features for every Swift target, applied in one place (as swift-log does).
for target in package.targets where target.type != .system && !["CNodal", "CNodalShims", "NodalStdPlugin", "NodalOrchestratorPlugin"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
