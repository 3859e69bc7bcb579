// The stats plugin: its description and the one C symbol the host looks up.
//
// Everything that crosses the C boundary (descriptors, the invoke trampoline, errors) is
// NodalPluginKit's; this file and StatsNodes.swift are all the plugin is.

public import NodalPluginKit

let plugin = Plugin(
    id: "org.nodal.stats", name: "stats", version: "1.0.0", vendor: "Nodal",
    description: "Descriptive statistics over arrays of numbers.",
    nodes: [Mean(), Summary(), Histogram()])

/// `const nodal_plugin *nodal_plugin_entry_v1(uint32_t, uint32_t)`.
///
/// `@c` (SE-0495) is the official spelling since Swift 6.3; it is gated on 6.3.1 here, as
/// swift-testing gates its own adoption, to leave out compilers where it was still being finished.
/// Older compilers get the underscored `@_cdecl`, which exports the same C symbol; the branch a
/// compiler skips is never type-checked, so an older one never trips over `@c`.
#if compiler(>=6.3.1)
@c(nodal_plugin_entry_v1)
#else
@_cdecl("nodal_plugin_entry_v1")
#endif
public func nodalPluginEntryV1(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> PluginEntry {
    plugin.entry(hostABIMajor, hostABIMinor)
}
