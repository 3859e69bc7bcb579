// swift-tools-version:6.1
// Builds the stats plugin on its own, without the rest of Nodal:
//   swift build            -> .build/debug/libstats.so
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
        // Not `nodal_stats`: the root package is part of this package graph and has a product of
        // that name (built from the same sources); two products of one name would both be linked
        // to one file.
        .library(name: "stats", type: .dynamic, targets: ["StatsPlugin"]),
    ],
    dependencies: [
        .package(path: nodal),
    ],
    targets: [
        // Named apart from the root package's NodalStatsPlugin (the same sources): target names are
        // unique across a package graph, and the root package is part of this one.
        .target(
            name: "StatsPlugin",
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
