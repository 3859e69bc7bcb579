// A route looked up as a step would name it, for `nodal plugins inspect /std/upper` and
// `nodal plugins list` (which shows builtins beside plugins).

/// What a component route resolves to.
public struct ComponentDescription: Sendable {
    public enum Kind: Sendable {
        /// A node of a loaded native plugin.
        case pluginNode(plugin: PluginInfo, node: NodeInfo)
        /// A builtin (`/builtin/map`), by name.
        case builtin(String)
        /// A Swift node the embedding app registered.
        case swiftNode
        /// Something a configuration's routes lead to (a mock component, a conditional route).
        case other
    }

    /// The route as asked for.
    public var route: String
    /// The resolved node's identity: a plugin node id, `builtin/NAME`, `mock/NAME`, `swift:ROUTE`.
    public var nodeID: String
    public var kind: Kind
}

extension Engine {
    /// Resolves `route` as a step's `component` would be, without a flow. Throws what `validate`
    /// would: an unknown route's error lists the folders searched and the closest known route.
    public func describeComponent(at route: String) throws -> ComponentDescription {
        let snapshot = registrySnapshot
        let resolved = try resolve(route, in: snapshot)
        let kind: ComponentDescription.Kind
        switch resolved.executor {
        case .native(let node):
            let plugin = snapshot.plugins.first { $0.nodes.contains { $0.id == node.info.id } }
            kind = plugin.map { .pluginNode(plugin: $0, node: node.info) } ?? .other
        case .async where resolved.nodeID.hasPrefix("swift:"):
            kind = .swiftNode
        default:
            kind = resolved.nodeID.hasPrefix("builtin/") ? .builtin(String(resolved.nodeID.dropFirst(8))) : .other
        }
        return ComponentDescription(route: route, nodeID: resolved.nodeID, kind: kind)
    }

    /// Every builtin this engine runs, as routes (`/builtin/map`), sorted.
    public var builtinRoutes: [String] { builtinNames.map { "/builtin/\($0)" } }
}
