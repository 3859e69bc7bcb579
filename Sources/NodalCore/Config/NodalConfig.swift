public import NodalJSON
internal import Yams

/// An engine configuration in Stepflow's `stepflow-config.yml` layout: `plugins:` (named plugin
/// entries, each with a `type`) and `routes:` (route prefixes mapped to plugin names).
///
/// Plugin types Nodal runs: `builtin`, `mock` (components answering from a `behaviors` table) and
/// `nodal` (a native plugin, optionally with a `path` to its file or folder). Entries of other
/// types (Stepflow's `stepflow`, `mcp`, ...) are kept and only become an error when a step routes
/// to them.
public struct NodalConfig: Sendable {
    /// The file the configuration came from, for errors and relative paths.
    public var file: String?
    var plugins: [String: PluginEntry]
    /// Route prefixes in the order written; resolution picks the longest matching prefix.
    var routes: [RouteEntry]
    /// Stepflow's `storageConfig` (or `stateStore`): where the CLI keeps runs, when `--store` does
    /// not say (read with `RunStoreLocation(storageConfig:relativeTo:)`).
    public internal(set) var storageConfig: JSON?
    /// `ffi: allow:`: the libraries and symbols `/builtin/ffi` steps may call (FFI/FFIAllowlist.swift).
    var ffiAllowlist: [FFIPermission] = []
    /// `files: allow:`: folders `/builtin/load_file` may read besides the flow's own (absolute;
    /// entries written relative are resolved against the configuration file's folder). `/` allows
    /// every file.
    public var allowedFileFolders: [String] = []

    public init() {
        file = nil
        plugins = [:]
        routes = []
    }

    /// Files searched for, in this order, in the flow's folder and then the working directory.
    public static let fileNames = ["nodal-config.yml", "nodal-config.yaml", "stepflow-config.yml", "stepflow-config.yaml"]

    /// The configuration file that applies to a flow when none is given: the first of
    /// `fileNames` in the flow's folder, then in the working directory.
    public static func find(forFlowAt flowPath: String?) -> String? {
        var folders: [String] = []
        if let flowPath { folders.append(FileSystem.directoryName(flowPath)) }
        folders.append(FileSystem.currentDirectory)
        for folder in folders {
            for name in fileNames {
                let candidate = FileSystem.join(folder, name)
                if FileSystem.isFile(candidate) { return candidate }
            }
        }
        return nil
    }

    public init(contentsOfFile path: String) throws(FlowError) {
        let text: String
        do { text = try FileSystem.readText(path) } catch { throw FlowError(file: path, error.reason) }
        try self.init(yaml: text, file: path)
    }

    public init(yaml text: String, file: String? = nil) throws(FlowError) {
        self.init()
        self.file = file
        guard let root = try YAMLConversion.compose(text, file: file) else { return }
        guard case .mapping(let mapping) = root else {
            throw FlowError(file: file, "a configuration must be a mapping with 'plugins' and 'routes'")
        }
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "plugins":
                guard case .mapping(let entries) = value else {
                    throw FlowError(file: file, field: "plugins", "'plugins' must map names to plugin entries")
                }
                for (nameNode, entryNode) in entries {
                    let name = nameNode.string ?? ""
                    plugins[name] = try PluginEntry(name: name, node: entryNode, file: file)
                }
            case "routes":
                guard case .mapping(let entries) = value else {
                    throw FlowError(file: file, field: "routes", "'routes' must map route prefixes to lists of rules")
                }
                for (prefixNode, rulesNode) in entries {
                    let prefix = prefixNode.string ?? ""
                    let field = "routes.\(prefix)"
                    guard prefix.hasPrefix("/") else {
                        throw FlowError(file: file, field: field, "a route prefix must start with '/'")
                    }
                    guard case .sequence(let rules) = rulesNode, let first = rules.first else {
                        throw FlowError(file: file, field: field, "a route must be a non-empty list of rules such as '- plugin: builtin'")
                    }
                    guard case .mapping(let rule) = first, let plugin = rule["plugin"]?.string else {
                        throw FlowError(file: file, field: "\(field)[0]", "a route rule needs 'plugin: NAME'")
                    }
                    for (ruleKey, _) in rule where ruleKey.string != "plugin" {
                        throw FlowError(file: file, field: "\(field)[0].\(ruleKey.string ?? "?")", "Nodal supports only 'plugin' in route rules")
                    }
                    if rules.count > 1 {
                        throw FlowError(file: file, field: field, "Nodal supports one rule per route prefix (conditional rules are not supported)")
                    }
                    routes.append(RouteEntry(prefix: prefix, plugin: plugin))
                }
            case "ffi":
                ffiAllowlist = try FFIPermission.parseConfiguration(YAMLConversion.json(value, file: file, field: "ffi"), file: file)
            case "files":
                allowedFileFolders = try Self.parseFiles(YAMLConversion.json(value, file: file, field: "files"), file: file)
            case "storageConfig", "stateStore":
                storageConfig = YAMLConversion.anyJSON(value)
            case "retry", "blobApi", "blobStore":
                // Stepflow's transport and blob-service settings: nothing to set in Nodal.
                continue
            default:
                throw FlowError(file: file, field: key, "unknown configuration key (known: plugins, routes, ffi, files, storageConfig, stateStore, retry, blobApi, blobStore)")
            }
        }
        for route in routes where plugins[route.plugin] == nil {
            throw FlowError(file: file, field: "routes.\(route.prefix)", "route names plugin '\(route.plugin)', which 'plugins' does not define")
        }
    }

    /// Reads the value of the `files:` key: `{allow: ["data", "/srv/shared"]}`, folders relative to
    /// the configuration file's folder (the working directory when it has no file).
    static func parseFiles(_ value: JSON, file: String?) throws(FlowError) -> [String] {
        guard case .object(let files) = value else {
            throw FlowError(file: file, field: "files", "'files' must be a mapping with an 'allow' list of folders")
        }
        for (key, _) in files where key != "allow" {
            throw FlowError(file: file, field: "files.\(key)", "unknown key (known: allow)")
        }
        guard let allow = files["allow"], !allow.isNull else { return [] }
        guard case .array(let entries) = allow else {
            throw FlowError(file: file, field: "files.allow", "'allow' must be a list of folders such as [data, /srv/shared], not \(allow.typeName)")
        }
        let base = file.map(FileSystem.directoryName) ?? FileSystem.currentDirectory
        var folders: [String] = []
        for (index, entry) in entries.enumerated() {
            guard case .string(let folder) = entry, !folder.isEmpty else {
                throw FlowError(file: file, field: "files.allow[\(index)]", "a folder must be a non-empty string, not \(entry.typeName == "string" ? "an empty one" : entry.typeName)")
            }
            folders.append(FileSystem.join(base, folder))
        }
        return folders
    }

    /// The folder of the configuration file: relative paths in it are relative to this.
    public var directory: String? { file.map(FileSystem.directoryName) }

    /// Folders and files named by `nodal` plugin entries (`path:`), resolved against the config's folder.
    public var pluginPaths: [String] {
        let base = directory ?? FileSystem.currentDirectory
        return plugins.values.sorted { $0.name < $1.name }.compactMap { entry in
            guard entry.type == "nodal", let path = entry.options["path"]?.stringValue else { return nil }
            return FileSystem.join(base, path)
        }
    }

    /// The route entry for a component, by longest prefix on '/' boundaries, with the rest of the route.
    func route(for component: String) -> (entry: RouteEntry, remainder: String)? {
        var best: (entry: RouteEntry, remainder: String)?
        for route in routes {
            guard let remainder = Self.remainder(of: component, afterPrefix: route.prefix) else { continue }
            if best == nil || route.prefix.count > best!.entry.prefix.count { best = (route, remainder) }
        }
        return best
    }

    /// "/mock/one_output" after "/mock" is "/one_output"; after "/" it is the whole route.
    static func remainder(of component: String, afterPrefix prefix: String) -> String? {
        let trimmed = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        if trimmed == "/" { return component }
        guard component.hasPrefix(trimmed) else { return nil }
        let rest = component.dropFirst(trimmed.count)
        if rest.isEmpty { return "/" }
        return rest.hasPrefix("/") ? String(rest) : nil
    }
}

struct RouteEntry: Sendable {
    var prefix: String
    var plugin: String
}

/// One entry of `plugins:`.
struct PluginEntry: Sendable {
    var name: String
    var type: String
    /// The entry's other keys, as JSON.
    var options: JSONObject
    /// For `type: mock`: the components and their behaviours.
    var mock: MockPlugin?

    init(name: String, node: Node, file: String?) throws(FlowError) {
        self.name = name
        let field = "plugins.\(name)"
        guard case .mapping(let mapping) = node else {
            throw FlowError(file: file, field: field, "a plugin entry must be a mapping with a 'type'")
        }
        guard let type = mapping["type"]?.string else {
            throw FlowError(file: file, field: "\(field).type", "a plugin entry needs a 'type' (builtin, mock, nodal, ...)")
        }
        self.type = type
        var options = JSONObject()
        for (key, value) in mapping where key.string != "type" && key.string != "components" {
            options[key.string ?? ""] = YAMLConversion.anyJSON(value)
        }
        self.options = options
        if type == "mock" {
            mock = try MockPlugin(components: mapping["components"], file: file, field: "\(field).components")
        }
    }
}
