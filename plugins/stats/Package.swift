// swift-tools-version:6.1
// Builds the stats plugin on its own, without the rest of Nodal:
//   swift build            -> .build/debug/libnodal_stats.so
// It depends on NodalPluginKit, the Swift plugin SDK of the Nodal package two folders up (the
// root package builds the same sources as its `nodal_stats` product). Only the Kit and NodalJSON
// are compiled and linked, statically, into the plugin; the engine and its dependencies are not.
import PackageDescription

// A path dependency is known by its folder's name (the clone may be called anything), so the
// name is read from the path rather than written here.
let nodal = Context.packageDirectory + "/../.."
let nodalIdentity = String(Context.packageDirectory.split(separator: "/").dropLast(2).last ?? "nodal").lowercased()

let package = Package(
    name: "nodal-stats",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "nodal_stats", type: .dynamic, targets: ["NodalStatsPlugin"]),
    ],
    dependencies: [
        .package(path: nodal),
    ],
    targets: [
        .target(
            name: "NodalStatsPlugin",
            dependencies: [.product(name: "NodalPluginKit", package: nodalIdentity)],
            path: "Sources/NodalStatsPlugin",
            // The same upcoming features the root package enables for this target.
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
