// swift-tools-version:6.1
// Builds the stats plugin on its own, without the rest of Nodal:
//   swift build            -> .build/debug/libnodal_stats.so
// The root package builds the same sources as its `nodal_stats` product.
import PackageDescription

let package = Package(
    name: "nodal-stats",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "nodal_stats", type: .dynamic, targets: ["NodalStatsPlugin"]),
    ],
    targets: [
        // The plugin ABI: a module map over the repository's include/nodal.h (the root package's
        // CNodal target is not a product, so this package carries its own, pointing at the same
        // header).
        .target(name: "CNodal", path: "Sources/CNodal"),
        .target(
            name: "NodalStatsPlugin",
            dependencies: ["CNodal"],
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
