// The stats plugin: its entry point and its descriptors.
//
// The host finds one C symbol, `nodal_plugin_entry_v1`, and reads the structs it returns for the
// life of the process. Those structs are built once, on first use, in memory that is never freed.

import CNodal

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The node flags of nodal.h, as this plugin combines them.
enum NodeFlags {
    static let pure = UInt64(NODAL_NODE_THREAD_SAFE) | UInt64(NODAL_NODE_NON_BLOCKING) | UInt64(NODAL_NODE_DETERMINISTIC)
}

typealias InvokeFunction = @convention(c) (
    UnsafePointer<nodal_node>?, UnsafePointer<nodal_host>?, OpaquePointer?, UnsafePointer<CChar>?, Int
) -> nodal_status

/// The description of one node, before it is laid out as a C struct.
struct NodeSpec {
    let name: String
    let description: String
    let flags: UInt64
    let inputSchema: String
    let outputSchema: String
    let invoke: InvokeFunction
}

/// The plugin's descriptors. Immutable once built and never freed, so sharing the pointer between
/// threads is safe; that is what makes the unchecked conformance true.
struct Descriptors: @unchecked Sendable {
    let plugin: UnsafePointer<nodal_plugin>

    static let pluginID = "org.nodal.stats"

    static func build() -> Descriptors {
        let specs = StatsNodes.all
        let table = UnsafeMutablePointer<UnsafePointer<nodal_node>?>.allocate(capacity: specs.count)
        // Field by field from zeroed structs (not the memberwise initializer), so that fields a
        // newer nodal.h adds start zeroed (absent) and this source still compiles against it.
        for (index, spec) in specs.enumerated() {
            let node = UnsafeMutablePointer<nodal_node>.allocate(capacity: 1)
            node.initialize(to: nodal_node())
            node.pointee.struct_size = UInt32(MemoryLayout<nodal_node>.size)
            node.pointee.id = permanentCString("\(pluginID).\(spec.name)")
            node.pointee.name = permanentCString(spec.name)
            node.pointee.version = permanentCString("1.0.0")
            node.pointee.description = permanentCString(spec.description)
            node.pointee.flags = spec.flags
            node.pointee.input_schema = permanentCString(spec.inputSchema)
            node.pointee.output_schema = permanentCString(spec.outputSchema)
            node.pointee.invoke = spec.invoke
            (table + index).initialize(to: UnsafePointer(node))
        }
        let plugin = UnsafeMutablePointer<nodal_plugin>.allocate(capacity: 1)
        plugin.initialize(to: nodal_plugin())
        plugin.pointee.struct_size = UInt32(MemoryLayout<nodal_plugin>.size)
        plugin.pointee.abi_major = UInt32(NODAL_ABI_MAJOR)
        plugin.pointee.abi_minor = UInt32(NODAL_ABI_MINOR)
        plugin.pointee.node_count = UInt32(specs.count)
        plugin.pointee.id = permanentCString(pluginID)
        plugin.pointee.name = permanentCString("stats")
        plugin.pointee.version = permanentCString("1.0.0")
        plugin.pointee.vendor = permanentCString("Nodal")
        plugin.pointee.description = permanentCString("Descriptive statistics over arrays of numbers.")
        plugin.pointee.swift_toolchain = nodal_swift_toolchain()
        plugin.pointee.nodes = UnsafePointer(table)
        return Descriptors(plugin: UnsafePointer(plugin))
    }
}

/// A copy of `string` in memory that lives for the rest of the process (strdup, never freed).
private func permanentCString(_ string: String) -> UnsafePointer<CChar> {
    guard let copy = strdup(string) else {
        fatalError("nodal_stats: out of memory while building the plugin descriptors")
    }
    return UnsafePointer(copy)
}

/// Built on first use. A global `let` is initialized exactly once, lazily and thread-safely.
private let descriptors = Descriptors.build()

/// The plugin's entry point, `const nodal_plugin *nodal_plugin_entry_v1(uint32_t, uint32_t)`.
///
/// It returns an untyped pointer only so that its public signature needs no public import of
/// CNodal; the pointer is a `const nodal_plugin *`, which is what the host reads.
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
public func nodalPluginEntryV1(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    guard hostABIMajor == UInt32(NODAL_ABI_MAJOR) else {
        return nil
    }
    return UnsafeRawPointer(descriptors.plugin)
}
