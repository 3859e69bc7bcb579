// The C description of a plugin (include/nodal.h: nodal_plugin, nodal_node), laid out once in
// memory that is never freed, and the one invoke function every node shares.

internal import CNodal

/// A plugin's descriptors. Written once in `init` and never changed or freed afterwards, so
/// sharing the pointers between threads is safe: that is what makes the conformance true.
struct Descriptors: @unchecked Sendable {
    let plugin: UnsafePointer<nodal_plugin>

    init(
        id: String, name: String, version: String, vendor: String?, description: String?,
        license: String?, homepage: String?, nodes: [any PluginNode]
    ) {
        let table = UnsafeMutablePointer<UnsafePointer<nodal_node>?>.allocate(capacity: max(nodes.count, 1))
        // Field by field from zeroed structs (not the memberwise initializer), so that fields a
        // newer nodal.h adds start zeroed (absent) and this source still compiles against it.
        for (index, node) in nodes.enumerated() {
            let nodeID = node.id ?? "\(id).\(node.name)"
            let descriptor = UnsafeMutablePointer<nodal_node>.allocate(capacity: 1)
            descriptor.initialize(to: nodal_node())
            descriptor.pointee.struct_size = UInt32(MemoryLayout<nodal_node>.size)
            descriptor.pointee.id = nodeID.permanentCString
            descriptor.pointee.name = node.name.permanentCString
            descriptor.pointee.version = (node.version ?? version).permanentCString
            descriptor.pointee.description = node.description?.permanentCString
            descriptor.pointee.flags = node.flags.rawValue
            descriptor.pointee.input_schema = node.inputSchema?.serialized().permanentCString
            descriptor.pointee.output_schema = node.outputSchema?.serialized().permanentCString
            descriptor.pointee.config_schema = node.configSchema?.serialized().permanentCString
            // Retained for ever: the host may call the node for the life of the process.
            descriptor.pointee.node_data = Unmanaged.passRetained(NodeBox(node, id: nodeID)).toOpaque()
            descriptor.pointee.invoke = { node, host, call, input, length in
                Invocation.invoke(node, host, call, input, length)
            }
            (table + index).initialize(to: UnsafePointer(descriptor))
        }
        let plugin = UnsafeMutablePointer<nodal_plugin>.allocate(capacity: 1)
        plugin.initialize(to: nodal_plugin())
        plugin.pointee.struct_size = UInt32(MemoryLayout<nodal_plugin>.size)
        plugin.pointee.abi_major = UInt32(NODAL_ABI_MAJOR)
        plugin.pointee.abi_minor = UInt32(NODAL_ABI_MINOR)
        plugin.pointee.node_count = UInt32(nodes.count)
        plugin.pointee.id = id.permanentCString
        plugin.pointee.name = name.permanentCString
        plugin.pointee.version = version.permanentCString
        plugin.pointee.vendor = vendor?.permanentCString
        plugin.pointee.description = description?.permanentCString
        plugin.pointee.license = license?.permanentCString
        plugin.pointee.homepage = homepage?.permanentCString
        // Evaluated by the clang inside the compiler that built this module, which is the one
        // that built the plugin: the host refuses a plugin of another Swift toolchain.
        plugin.pointee.swift_toolchain = nodal_swift_toolchain()
        plugin.pointee.nodes = UnsafePointer(table)
        self.plugin = UnsafePointer(plugin)
    }
}

/// A node and its id, kept alive by its descriptor's `node_data`.
final class NodeBox: Sendable {
    let node: any PluginNode
    let id: String

    init(_ node: any PluginNode, id: String) {
        self.node = node
        self.id = id
    }
}
