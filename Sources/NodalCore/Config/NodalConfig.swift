public import NodalJSON
internal import Yams

/// An engine configuration in Stepflow's `stepflow-config.yml` layout: `plugins:` (named plugin
/// entries, each with a `type`) and `routes:` (route prefixes mapped to plugin names).
///
/// Plugin types Nodal runs: `builtin`, `mock` (components answering from a `behaviors` table) and
/// `nodal` (a native plugin, optionally with a `path` to its file or folder). Entries of other
/// types (Stepflow's `stepflow`, `mcp`, ...) are kept and only become an error when a step routes
/// to them.
///
/// A configuration can also grant flows powers: `ffi: allow:` (native functions they may call),
/// `files: allow:` (folders `load_file` and sub-flows may read) and `nodal` plugin `path`s (native
/// code to load). Only a configuration the user chose may do that (`Origin.named`,
/// `Origin.userFolder`); one found beside the flow (`Origin.discovered`) may declare plugins,
/// routes and the store, and a grant in it is an error naming the file and the key.
public struct NodalConfig: Sendable {
    /// Where a configuration came from, which decides whether it may grant powers.
    public enum Origin: Sendable, Hashable {
        /// Named by the user: `--config FILE`, `NODAL_CONFIG`, or built by the embedding app.
        case named
        /// From the user's own folder: `$XDG_CONFIG_HOME/nodal/` (by default `~/.config/nodal/`).
        case userFolder
        /// Found beside the flow or in the working directory, so written by whoever wrote the
        /// flow: it may not grant powers.
        case discovered

        /// Whether `ffi: allow:`, `files: allow:` and plugin `path`s are accepted.
        public var mayGrant: Bool { self != .discovered }
    }

    /// The file the configuration came from, for errors and relative paths.
    public var file: String?
    /// For a configuration written inside a flow file (its `test.config`): that field.
    var inlineField: String?
    /// Where the configuration came from (`.named` unless read with another origin).
    public internal(set) var origin: Origin = .named
    var plugins: [String: PluginEntry]
    /// Route prefixes in the order written; resolution picks the longest matching prefix.
    var routes: [RouteEntry]
    /// Stepflow's `storageConfig` (or `stateStore`): where the CLI keeps runs, when `--store` does
    /// not say (read with `RunStoreLocation(storageConfig:relativeTo:)`).
    public internal(set) var storageConfig: JSON?
    /// `ffi: allow:`: the libraries and symbols `/builtin/ffi` steps may call (FFI/FFIAllowlist.swift).
    package var ffiAllowlist: [FFIPermission] = []
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

    /// The configuration file found for a flow when none is named: the first of `fileNames` in
    /// the flow's folder, then in the working directory. Read it with `origin: .discovered`.
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

    /// The user's own configuration folder, as messages name it (README: Configuration and routes).
    package static let userFolderDescription = "~/.config/nodal"
    /// Names looked for in the user's configuration folder, in this order.
    static let userFileNames = ["nodal-config.yml", "nodal-config.yaml"]

    /// The user's configuration folder: `$XDG_CONFIG_HOME/nodal` when that is set to an absolute
    /// path, else `$HOME/.config/nodal`; nil without either.
    static func userFolder(environment: (String) -> String?) -> String? {
        if let xdg = environment("XDG_CONFIG_HOME"), xdg.hasPrefix("/") { return FileSystem.join(xdg, "nodal") }
        if let home = environment("HOME"), home.hasPrefix("/") { return FileSystem.join(home, ".config/nodal") }
        return nil
    }

    /// The configuration the `nodal` command uses for a flow:
    ///
    /// 1. `named` (`--config FILE`), else the file `NODAL_CONFIG` names: that file alone, trusted.
    /// 2. Else the first of `fileNames` beside the flow, then in the working directory: it may
    ///    declare plugins, routes and the store but not grant powers (`Origin.discovered`). The
    ///    grants (`ffi: allow:`, `files: allow:`) of the user's configuration
    ///    (`$XDG_CONFIG_HOME/nodal/nodal-config.yml`, by default `~/.config/nodal/`) are added to it.
    /// 3. Else the user's configuration alone; else an empty one.
    public static func forFlow(at flowPath: String?, named: String? = nil) throws(FlowError) -> NodalConfig {
        try forFlow(at: flowPath, named: named, environment: FileSystem.environment)
    }

    static func forFlow(at flowPath: String?, named: String?, environment: (String) -> String?) throws(FlowError) -> NodalConfig {
        if let named { return try NodalConfig(contentsOfFile: named, origin: .named) }
        if let fromEnvironment = environment("NODAL_CONFIG"), !fromEnvironment.isEmpty {
            return try NodalConfig(contentsOfFile: fromEnvironment, origin: .named)
        }
        let user = try userConfiguration(environment: environment)
        guard let found = find(forFlowAt: flowPath) else { return user ?? NodalConfig() }
        if let userFile = user?.file, FileSystem.realPath(found) == FileSystem.realPath(userFile) { return user! }
        return try NodalConfig(contentsOfFile: found, origin: .discovered).adding(grantsOf: user)
    }

    /// Reads a configuration file. `origin` says who chose it: only `.named` and `.userFolder`
    /// configurations may grant powers (see `Origin`).
    public init(contentsOfFile path: String, origin: Origin = .named) throws(FlowError) {
        let text: String
        do { text = try FileSystem.readText(path) } catch { throw FlowError(file: path, error.reason) }
        try self.init(yaml: text, file: path, origin: origin)
    }

    public init(yaml text: String, file: String? = nil, origin: Origin = .named) throws(FlowError) {
        try self.init(root: try YAMLConversion.compose(text, file: file), file: file, origin: origin, inlineField: nil)
    }

    /// A configuration from a parsed document. `inlineField` is set for one written inside a
    /// flow file (its `test.config`): `file` is then the flow file, relative paths are relative
    /// to its folder, and errors name the flow file and fields under `inlineField`.
    init(root: Node?, file: String?, origin: Origin, inlineField: String?) throws(FlowError) {
        self.init()
        self.file = file
        self.origin = origin
        self.inlineField = inlineField
        do throws(FlowError) {
            try read(root)
        } catch {
            var error = error
            if let inlineField { error.field = error.field.map { "\(inlineField).\($0)" } ?? inlineField }
            throw error
        }
    }

    private mutating func read(_ root: Node?) throws(FlowError) {
        guard let root else { return }
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
                    let route = try RouteEntry(prefix: prefixNode.string ?? "", node: rulesNode, file: file)
                    routes.append(route)
                }
            case "ffi":
                ffiAllowlist = try FFIPermission.parseConfiguration(YAMLConversion.json(value, file: file, field: "ffi"), file: file)
                if !ffiAllowlist.isEmpty { try refuseGrant("ffi.allow", "lets flows call native functions") }
            case "files":
                allowedFileFolders = try Self.parseFiles(YAMLConversion.json(value, file: file, field: "files"), file: file)
                if !allowedFileFolders.isEmpty { try refuseGrant("files.allow", "lets flows read files outside their folder") }
            case "storageConfig", "stateStore":
                storageConfig = YAMLConversion.anyJSON(value)
                if let storageConfig, !origin.mayGrant { try refuseStoreOutsideFolder(storageConfig, key: key) }
            case "retry", "blobApi", "blobStore":
                // Stepflow's transport and blob-service settings: nothing to set in Nodal.
                continue
            default:
                throw FlowError(file: file, field: key, "unknown configuration key (known: plugins, routes, ffi, files, storageConfig, stateStore, retry, blobApi, blobStore)")
            }
        }
        for route in routes {
            for rule in route.rules where plugins[rule.plugin] == nil {
                let known = plugins.keys.sorted().joined(separator: ", ")
                throw FlowError(file: file, field: "routes.\(route.prefix)[\(rule.index)].plugin", "the rule names plugin '\(rule.plugin)', which 'plugins' does not define (plugins: \(known.isEmpty ? "none" : known))")
            }
        }
        for entry in plugins.values.sorted(by: { $0.name < $1.name }) where entry.type == "nodal" && entry.options["path"] != nil {
            try refuseGrant("plugins.\(entry.name).path", "loads native code from a file of its choosing")
        }
        for entry in plugins.values.sorted(by: { $0.name < $1.name }) where entry.isolation?.hostExecutable != nil {
            try refuseGrant("plugins.\(entry.name).pluginHost", "runs an executable of its choosing")
        }
    }

    /// A configuration found beside the flow may name the run store, but only inside its own
    /// folder: the store is created where it says (folders too), so a store anywhere else would
    /// let whoever wrote the flow have files created, or empty files turned into databases,
    /// wherever the user can write.
    private func refuseStoreOutsideFolder(_ storageConfig: JSON, key: String) throws(FlowError) {
        guard let file, case .sqlite(let path)? = try? RunStoreLocation(storageConfig: storageConfig, relativeTo: directory),
              path != ":memory:" else { return }
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : FileSystem.join(FileSystem.currentDirectory, path) }
        let folder = absolute(FileSystem.directoryName(file))
        let realFolder = FileSystem.realPath(folder) ?? FileSystem.lexicallyNormalized(folder)
        // Symlinks resolved as far as the path exists; what is missing below that has none.
        let resolved = FileSystem.lexicallyNormalized(FileSystem.resolvingExistingAncestor(absolute(path)))
        guard !FileSystem.isInside(resolved, folder: realFolder) else { return }
        throw FlowError(file: file, field: "\(key).databaseUrl", """
            the run store \(path) is outside this configuration's folder (\(realFolder)), and this configuration \
            \(foundWhere) rather than chosen by you, so it may keep the store only inside its own folder. \
            \(trustAdvice); or choose the store yourself with --store
            """)
    }

    /// Throws when this configuration may not grant what `key` grants (it was found beside the
    /// flow), saying how to trust it.
    private func refuseGrant(_ key: String, _ what: String) throws(FlowError) {
        guard !origin.mayGrant else { return }
        throw FlowError(file: file, field: key, """
            '\(key)' \(what), and this configuration \(foundWhere) rather than chosen by you, so it may \
            declare plugins and routes but not grant powers. \(trustAdvice); or move the grant to \
            \(Self.userFolderDescription)/nodal-config.yml
            """)
    }

    /// Where a configuration that may not grant came from, for messages.
    private var foundWhere: String {
        inlineField == nil ? "was found beside the flow (or in the working directory)" : "is written in the flow file"
    }

    /// How to trust a configuration that may not grant.
    private var trustAdvice: String {
        guard let file, inlineField == nil else {
            return "To trust it, put it in a file of its own and name that: --config FILE (or NODAL_CONFIG=FILE)"
        }
        return "To trust it, name it: --config \(file) (or NODAL_CONFIG=\(file))"
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

    /// The route for a component: the longest matching prefix on '/' boundaries (at one length,
    /// a `{component}` pattern before a `{*component}` one), with what it captured.
    func matchingRoute(for component: String) -> (entry: RouteEntry, captured: String)? {
        var best: (entry: RouteEntry, captured: String)?
        for route in routes {
            guard let captured = route.capture(component) else { continue }
            guard let current = best else { best = (route, captured); continue }
            let longer = route.base.count > current.entry.base.count
            let sameButNarrower = route.base.count == current.entry.base.count && route.match == .segment && current.entry.match != .segment
            if longer || sameButNarrower { best = (route, captured) }
        }
        return best
    }
}

/// One entry of `plugins:`.
struct PluginEntry: Sendable {
    var name: String
    var type: String
    /// The entry's other keys, as JSON.
    var options: JSONObject
    /// For `type: mock`: the components and their behaviours.
    var mock: MockPlugin?
    /// For `type: nodal` with `isolation: process`: how its children run (PluginEntry+Isolation.swift).
    var isolation: ProcessIsolation?

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
        if type == "nodal" {
            isolation = try Self.processIsolation(options, field: field, file: file)
        }
    }
}
