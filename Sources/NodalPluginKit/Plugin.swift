internal import CNodal

/// What a plugin's entry function returns to the host: a pointer to the plugin's description
/// (a `const nodal_plugin *`), opaque to the author.
public typealias PluginEntry = OpaquePointer?

/// A plugin: its metadata and nodes, and the C description the host reads.
///
/// Declare it once, as a global `let`, and return `plugin.entry(major, minor)` from the one
/// function the host looks up:
///
/// ```swift
/// import NodalPluginKit
///
/// let plugin = Plugin(id: "org.example.greet", name: "greet", version: "1.0.0", nodes: [Hello()])
///
/// @_cdecl("nodal_plugin_entry_v1")
/// public func entry(_ major: UInt32, _ minor: UInt32) -> PluginEntry { plugin.entry(major, minor) }
/// ```
///
/// The description is built when the plugin is created, in memory that is never freed (the
/// host reads it for the life of the process), so a global `let` builds it exactly once.
public final class Plugin: Sendable {
    /// Reverse-DNS, such as `org.example.greet`.
    public let id: String
    /// The route prefix: nodes are reached as `/<name>/<node name>`.
    public let name: String
    /// SemVer.
    public let version: String
    public let vendor: String?
    public let description: String?
    /// An SPDX expression such as `MIT`.
    public let license: String?
    /// Where people learn more (a URL).
    public let homepage: String?
    public let nodes: [any PluginNode]
    private let descriptors: Descriptors

    public init(
        id: String, name: String, version: String, vendor: String? = nil, description: String? = nil,
        license: String? = nil, homepage: String? = nil, nodes: [any PluginNode]
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.vendor = vendor
        self.description = description
        self.license = license
        self.homepage = homepage
        self.nodes = nodes
        descriptors = Descriptors(
            id: id, name: name, version: version, vendor: vendor, description: description,
            license: license, homepage: homepage, nodes: nodes)
    }

    /// The answer to the host's `nodal_plugin_entry_v1(major, minor)`: this plugin's description,
    /// or nil (refusing to load) for a host of another ABI major.
    ///
    /// Thread: any (the host calls the entry on its loading thread). Ownership: the description
    /// is the Kit's, built in `init` in memory that is never freed or changed, so the host may
    /// read it for the life of the process. Returns the same pointer every time.
    public func entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> PluginEntry {
        guard hostABIMajor == UInt32(NODAL_ABI_MAJOR) else { return nil }
        return OpaquePointer(descriptors.plugin)
    }
}
