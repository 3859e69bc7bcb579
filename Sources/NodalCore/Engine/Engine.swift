public import NodalJSON
public import Logging
import Synchronization

/// The Nodal engine: loads plugins, holds Swift nodes and a configuration, and runs flows.
///
/// ```swift
/// let engine = Engine()
/// engine.loadPlugins(searchPath: ["/usr/local/lib/nodal/plugins"])
/// engine.register(route: "/app/greet") { input, _ in ["greeting": .string("hi \(input["name"] ?? "")")] }
/// let flow = try Flow(contentsOfFile: "flow.yaml")
/// let result = await engine.run(flow, input: ["name": "Ada"])
/// ```
public final class Engine: Sendable {
    public let configuration: NodalConfig
    package let pool: BlockingCallPool
    /// What retry waits, step timeouts, grace periods and lease heartbeats are measured on.
    let clock: any Clock<Duration>
    private let registry = Mutex(Registry())
    /// Builtins from other targets (`/builtin/ffi` from NodalFFI), by name.
    package let providers: [String: any BuiltinProvider]
    /// Where blobs and paused runs live for runs that have no store of their own, for as long as
    /// the engine does.
    let memoryStore = InMemoryRunStore()
    /// The runs plugins submitted through the runs extension (Engine+Extensions.swift).
    let subRuns = SubRunRegistry()
    /// Flows of runs paused without a store, kept so `resume` can go on with them.
    let pausedFlows = Mutex<[String: Flow]>([:])
    /// The children pools of plugins loaded with `isolation: .process`, told to stop at shutdown.
    let processPools = Mutex<[PluginHostPool]>([])
    /// This engine as the holder of run leases (`RunLease`): one id per engine.
    package let leaseOwner = LeaseOwner()
    /// How long a run's lease lasts without a heartbeat; renewed every third of it.
    public let leaseDuration: Duration
    /// Where plugins' log lines go.
    public let logger: Logger
    /// The largest output one native call may write.
    public let maxOutputBytes: Int
    /// 64 MiB.
    public static let defaultMaxOutputBytes = 64 << 20

    struct Registry {
        var plugins: [PluginInfo] = []
        var pluginsByName: [String: LoadedPlugin] = [:]
        var pluginsByID: [String: LoadedPlugin] = [:]
        var nodeFiles: [String: String] = [:]
        var loadedFiles: Set<String> = []
        var failures: [PluginLoadError] = []
        var swiftNodes: [String: SwiftNode] = [:]
        /// Compiled once, when the Swift node is registered (a plugin's, when it loads: `LoadedPlugin`).
        var swiftNodeSchemas: [String: NodeSchemas] = [:]
        /// Each search path entry `loadPlugins` looked at, in order, for messages.
        var searched: [SearchedLocation] = []
    }

    struct LoadedPlugin: Sendable {
        var info: PluginInfo
        var nodesByName: [String: NativeNode]
        /// Each node's schemas, compiled when the plugin loaded, by node name.
        var schemasByName: [String: NodeSchemas] = [:]
    }

    /// - Parameters:
    ///   - configuration: routes and plugin entries (Stepflow's config layout); empty by default.
    ///   - blockingThreads: threads for plugin calls that may block (default: 2 per core, at least 4).
    ///   - leaseDuration: how long a stored run stays owned by this engine without a heartbeat
    ///     (default 30 s); another process may take the run over once it has passed. Taken as
    ///     between zero and 365 days (a longer or negative one cannot trap).
    ///   - clock: what retry waits, step timeouts, grace periods and lease heartbeats of every run
    ///     of this engine (sub-flows, batches and builtins' runs too) are measured on; tests pass
    ///     one they advance.
    ///   - extensions: builtins from other modules: `[.ffi]` for `/builtin/ffi` steps (NodalFFI).
    ///   - logger: where plugins' `log` lines go (with `step` and `node` metadata); the backend
    ///     is the app's choice (swift-log's `LoggingSystem.bootstrap`).
    ///   - maxOutputBytes: the largest output one call of a native node may write (default
    ///     64 MiB); a larger one fails the step with `OUTPUT_TOO_LARGE` before it is copied.
    public init(
        configuration: NodalConfig = NodalConfig(), blockingThreads: Int? = nil, leaseDuration: Duration = .seconds(30),
        clock: any Clock<Duration> = ContinuousClock(), extensions: [EngineExtension] = [],
        logger: Logger = Logger(label: "nodal"), maxOutputBytes: Int = Engine.defaultMaxOutputBytes
    ) {
        self.logger = logger
        self.maxOutputBytes = max(0, maxOutputBytes)
        self.configuration = configuration
        self.leaseDuration = leaseDuration.clampedForTimer
        self.clock = clock
        var providers: [String: any BuiltinProvider] = [:]
        for engineExtension in extensions {
            let provider = engineExtension.makeProvider(configuration)
            providers[provider.name] = provider
        }
        self.providers = providers
        pool = BlockingCallPool(threads: blockingThreads ?? BlockingCallPool.defaultThreadCount)
        pool.start()
    }

    /// Stops the threads for blocking plugin calls once their queued work is done, and waits
    /// (without holding a thread) until they have exited; threads stuck in abandoned calls are not
    /// waited for. A run still going, or started afterwards, still finishes, each of its blocking
    /// calls on a thread started for it. Dropping the engine stops the threads too, without waiting.
    /// Runs that plugins submitted through the runs extension (sub-runs) are cancelled. Plugin
    /// host children are told to exit once their calls are done.
    public func shutdown() async {
        // Sub-runs that plugins submitted are cancelled first: a pool thread waiting on one (a
        // submit or get with wait) comes back only when it ends, and one that never ends would
        // keep shutdown waiting for ever.
        for run in subRuns.all { run.cancel() }
        stopPluginHosts()
        pool.shutdown()
        await pool.awaitTermination()
    }

    deinit {
        stopPluginHosts()
        pool.shutdown()
    }

    // MARK: Plugins

    /// Loads every plugin file (`*.so`, `*.dylib`) in the given folders, and the given files,
    /// in order. Returns the refusals; they are also kept in `pluginLoadErrors`. A refused plugin
    /// is never called and never brings the process down.
    @discardableResult
    public func loadPlugins(searchPath: [String]) -> [PluginLoadError] {
        var refusals: [PluginLoadError] = []
        for entry in searchPath {
            let files: [String]
            if FileSystem.isDirectory(entry) {
                files = FileSystem.contentsOfDirectory(entry)
                    .filter { $0.hasSuffix(".so") || $0.hasSuffix(".dylib") }
                    .map { FileSystem.join(entry, $0) }
                    // A folder named like a library is not a plugin (a dangling link still is
                    // reported: it was meant to be one).
                    .filter { !FileSystem.isDirectory($0) }
                record(SearchedLocation(path: entry, kind: .folder(pluginFiles: files.count)))
            } else if FileSystem.isFile(entry) {
                files = [entry]
                record(SearchedLocation(path: entry, kind: .file))
            } else {
                // Missing folders on a search path are normal (defaults that do not exist).
                record(SearchedLocation(path: entry, kind: .missing))
                continue
            }
            for file in files {
                do { try loadPlugin(at: file) } catch { refusals.append(error) }
            }
        }
        return refusals
    }

    /// Remembers a search path entry for messages (`SearchedLocation.report`), once.
    private func record(_ location: SearchedLocation) {
        registry.withLock { if !$0.searched.contains(location) { $0.searched.append(location) } }
    }

    /// The registry as it is now, for lookups outside this file (`ComponentLookup`).
    var registrySnapshot: Registry { registry.withLock { $0 } }

    /// Loads one plugin file, in this process or in child processes as the configuration's plugin
    /// entry for the file says (`isolation: process`; in this process when none says). Loading
    /// the same file twice is a no-op that returns its info.
    @discardableResult
    public func loadPlugin(at path: String) throws(PluginLoadError) -> PluginInfo {
        try loadPlugin(at: path, isolation: configuredIsolation(forPluginFile: path))
    }

    /// Loads one plugin file to run in this process (`.inProcess`: fast, but a crash of the
    /// plugin is a crash of the engine) or in child processes (`.process`: `nodal plugin-host`;
    /// a crash, a hang past its timeout or a leak costs one step). The same file works both ways.
    /// Loading the same file twice is a no-op that returns its info (in the first way asked).
    @discardableResult
    public func loadPlugin(at path: String, isolation: PluginIsolation) throws(PluginLoadError) -> PluginInfo {
        let canonical = FileSystem.realPath(path) ?? path
        if let existing = registry.withLock({ $0.plugins.first { FileSystem.realPath($0.file) == canonical } }) {
            return existing
        }
        let loaded: PluginLoader.Loaded
        do {
            switch isolation {
            case .inProcess: loaded = try PluginLoader.load(path, logger: logger, maxOutputBytes: maxOutputBytes)
            case .process(let settings): loaded = try loadInChildren(path, settings)
            }
        } catch {
            registry.withLock { $0.failures.append(error) }
            throw error
        }
        // Each node's schemas are compiled here, once, and used by every run that calls it.
        var schemas: [String: NodeSchemas] = [:]
        for node in loaded.nodes {
            schemas[node.info.name] = NodeSchemas(
                owner: "node \(node.info.id)", input: node.info.inputSchema, output: node.info.outputSchema
            ).orNil
        }
        let result: Result<PluginInfo, PluginLoadError> = registry.withLock { registry in
            if let other = registry.pluginsByID[loaded.info.id] {
                return .failure(PluginLoadError(file: path, reason: "duplicate plugin id '\(loaded.info.id)', already loaded from \(other.info.file)"))
            }
            if let other = registry.pluginsByName[loaded.info.name] {
                return .failure(PluginLoadError(file: path, reason: "duplicate plugin name '\(loaded.info.name)' (route /\(loaded.info.name)), already used by \(other.info.id) from \(other.info.file)"))
            }
            for node in loaded.nodes {
                if let file = registry.nodeFiles[node.info.id] {
                    return .failure(PluginLoadError(file: path, reason: "duplicate node id '\(node.info.id)', already loaded from \(file)"))
                }
            }
            let plugin = LoadedPlugin(
                info: loaded.info, nodesByName: Dictionary(uniqueKeysWithValues: loaded.nodes.map { ($0.info.name, $0) }),
                schemasByName: schemas)
            registry.plugins.append(loaded.info)
            registry.pluginsByID[loaded.info.id] = plugin
            registry.pluginsByName[loaded.info.name] = plugin
            for node in loaded.nodes { registry.nodeFiles[node.info.id] = path }
            return .success(loaded.info)
        }
        switch result {
        case .success(let info): return info
        case .failure(let error):
            registry.withLock { $0.failures.append(error) }
            throw error
        }
    }

    /// Plugins loaded so far, in load order.
    public var plugins: [PluginInfo] { registry.withLock { $0.plugins } }

    /// Every refusal since the engine was created.
    public var pluginLoadErrors: [PluginLoadError] { registry.withLock { $0.failures } }

    /// The plugin search path, in the order the loader uses it: `explicit` paths (the CLI's
    /// `--plugin-path`), `NODAL_PLUGIN_PATH` (colon-separated), the configuration's `nodal`
    /// plugin paths, then the default install locations (`defaultPluginDirectories`).
    public static func pluginSearchPath(explicit: [String], configuration: NodalConfig?) -> [String] {
        var path = explicit
        if let environment = FileSystem.environment("NODAL_PLUGIN_PATH") {
            path += environment.split(separator: ":").map(String.init)
        }
        path += configuration?.pluginPaths ?? []
        path += defaultPluginDirectories
        path += developmentPluginFiles
        return path
    }

    /// In a development build, the plugins that ship with Nodal are built next to the `nodal`
    /// executable (`.build/debug/libnodal_*.so`); they come last on the search path.
    static var developmentPluginFiles: [String] {
        guard let executable = FileSystem.executablePath else { return [] }
        let folder = FileSystem.directoryName(executable)
        return FileSystem.contentsOfDirectory(folder)
            .filter { $0.hasPrefix("libnodal_") && ($0.hasSuffix(".so") || $0.hasSuffix(".dylib")) }
            .map { FileSystem.join(folder, $0) }
    }

    /// `<prefix>/lib/nodal/plugins` next to the running executable's `bin/`, then
    /// `$HOME/.nodal/plugins`, then `/usr/local/lib/nodal/plugins`.
    public static var defaultPluginDirectories: [String] {
        var directories: [String] = []
        if let executable = FileSystem.executablePath {
            let bin = FileSystem.directoryName(executable)
            directories.append(FileSystem.join(FileSystem.directoryName(bin), "lib/nodal/plugins"))
        }
        if let home = FileSystem.environment("HOME") { directories.append(FileSystem.join(home, ".nodal/plugins")) }
        directories.append("/usr/local/lib/nodal/plugins")
        return directories
    }

    // MARK: Swift nodes

    /// Registers an async Swift node under an exact route such as "/app/greet". It runs on the
    /// cooperative executor; a later registration of the same route replaces the earlier one.
    ///
    /// - Parameters:
    ///   - inputSchema: a JSON Schema every input is checked against before the node is called
    ///     (a mismatch fails the step with `INVALID_INPUT`); `Engine.validate` checks step inputs
    ///     against it as far as they are known before a run.
    ///   - outputSchema: a JSON Schema its outputs are checked against in strict mode
    ///     (`RunOptions.strictOutputs`), and that `validate` takes for what the node returns.
    ///   A schema that is not a valid JSON Schema is not checked; `warnings(for:)` names it.
    public func register(route: String, inputSchema: JSON? = nil, outputSchema: JSON? = nil, _ node: @escaping SwiftNode) {
        let schemas = NodeSchemas(owner: "Swift node \(route)", input: inputSchema, output: outputSchema).orNil
        registry.withLock {
            $0.swiftNodes[route] = node
            $0.swiftNodeSchemas[route] = schemas
        }
    }

    // MARK: Resolution

    /// Checks a flow without running it. Throws a `PluginLoadError` when a route leads to a plugin
    /// that failed to load, and otherwise a `FlowError` naming the file, step and field of the first
    /// problem (further ones follow in its message, one per line): an unknown route, a flow input or
    /// output schema that is not a valid JSON Schema, or a step input that cannot match its
    /// component's input schema as far as it is known before the run (its constants; references to
    /// the flow's input and to steps whose output schema is declared; see the README's "Schemas").
    /// What only a run can tell is checked when the run gets there.
    public func validate(_ flow: Flow) throws {
        let components = try resolve(flow)
        let errors = FlowSchemaCheck.check(flow, components: components).errors
        guard var first = errors.first else { return }
        for other in errors.dropFirst().prefix(20) { first.message += "\n  also: \(other)" }
        if errors.count > 21 { first.message += "\n  and \(errors.count - 21) more" }
        throw first
    }

    /// What is worth saying about a flow that does not make it invalid: a flow without an
    /// `output` (its runs return null), a component whose declared schema is not a valid JSON
    /// Schema (it is not checked). Empty for a flow that does not resolve (`validate` says why).
    public func warnings(for flow: Flow) -> [FlowWarning] {
        guard let components = try? resolve(flow) else { return [] }
        return FlowSchemaCheck.check(flow, components: components).warnings
    }

    func resolve(_ flow: Flow) throws -> [ResolvedComponent] {
        let snapshot = registry.withLock { $0 }
        return try flow.steps.map { step in
            if let subflow = step.subflow {
                // The sub-flow's own errors name its file and step.
                if step.cache {
                    throw FlowError(file: flow.file, step: step.id, field: "cache", "a sub-flow step cannot be cached (cache the steps inside it)")
                }
                let components: [ResolvedComponent]
                do {
                    components = try resolve(subflow.flow)
                } catch var error as FlowError {
                    error.message += " (sub-flow of step '\(step.id)' in \(flow.file ?? "the flow"))"
                    throw error
                }
                return ResolvedComponent(route: step.component, nodeID: "flow:\(subflow.path)", executor: .subflow(subflow.flow, components))
            }
            let resolved: ResolvedComponent
            do {
                resolved = try resolve(step.component, in: snapshot)
            } catch var error as FlowError {
                error.file = flow.file
                error.step = step.id
                error.field = "component"
                throw error
            }
            if step.cache, resolved.nodeID == "builtin/interrupt" {
                throw FlowError(file: flow.file, step: step.id, field: "cache", "an interrupt cannot be cached: each run must ask for its own answer")
            }
            if step.cache, case .native(let node) = resolved.executor, !node.info.flags.contains(.deterministic) {
                throw FlowError(file: flow.file, step: step.id, field: "cache", "node \(node.info.id) is not flagged deterministic (NODAL_NODE_DETERMINISTIC), so its results cannot be cached")
            }
            // Builtins from other targets (FFI steps: allowlist, library, symbol and signature are
            // checked by NodalFFI's provider) are bound with the step's input.
            var bound = resolved
            if let name = resolved.nodeID.providedBuiltinName, let provider = providers[name] {
                bound = try provider.resolve(step: step, route: resolved.route, file: flow.file, pool: pool)
            }
            if let declared = step.schemas {
                bound.schemas = NodeSchemas.forStep(step.id, declared: declared, component: bound.schemas)
            }
            return bound
        }
    }

    func resolve(_ component: String, in registry: Registry) throws -> ResolvedComponent {
        if let node = registry.swiftNodes[component] {
            return ResolvedComponent(
                route: component, nodeID: "swift:\(component)", executor: .async(node), schemas: registry.swiftNodeSchemas[component])
        }
        if let routed = try configuration.resolveRoute(component, rule: { entry, name in
            try routeRule(entry, name: name, component: component, registry: registry)
        }) {
            return routed
        }
        let segments = component.split(separator: "/", maxSplits: 1)
        if segments.count == 2, let plugin = registry.pluginsByName[String(segments[0])] {
            return try node(String(segments[1]), of: plugin, route: component)
        }
        if component.hasPrefix("/builtin/"), let resolved = Builtins.resolve(component, route: component, engine: self) {
            return withSchemas(resolved)
        }
        if component.hasPrefix("/builtin/"), let provided = try providedBuiltin(component, route: component) { return provided }
        try throwIfLoadFailed(component, registry)
        let prefixes = (configuration.routes.map(\.prefix) + registry.pluginsByName.keys.map { "/\($0)" } + ["/builtin"]).sorted()
        let guess = RouteSuggestion.closest(to: component, among: knownRoutes(registry)).map { ": did you mean '\($0)'?" } ?? ""
        throw FlowError("""
            unknown component route '\(component)'\(guess) (no Swift node, config route or loaded plugin matches; \
            known prefixes: \(prefixes.joined(separator: ", ")))\(SearchedLocation.report(registry.searched, failures: registry.failures))
            """)
    }

    /// What the plugin of one route rule has for `name` (the component name the rule asks for).
    private func routeRule(_ entry: PluginEntry, name: String, component: String, registry: Registry) throws -> RouteRuleOutcome {
        switch entry.type {
        case "builtin":
            if let provided = try providedBuiltin(name, route: component) { return .resolved(provided) }
            if let resolved = Builtins.resolve(name, route: component, engine: self) { return .resolved(withSchemas(resolved)) }
            return .lacks("builtin plugin '\(entry.name)' has no builtin '\(name)' (builtins: \(builtinNames.joined(separator: ", ")))")
        case "mock":
            if let resolved = entry.mock?.resolve(name, route: component) { return .resolved(resolved) }
            let known = entry.mock?.components.keys.sorted().joined(separator: ", ") ?? ""
            return .lacks("mock plugin '\(entry.name)' has no component '\(name)' (components: \(known))")
        case "nodal":
            let wanted = entry.options["id"]?.stringValue ?? entry.options["name"]?.stringValue ?? entry.name
            guard let plugin = registry.pluginsByID[wanted] ?? registry.pluginsByName[wanted] else {
                try throwIfLoadFailed(component, registry)
                return .lacks("native plugin '\(wanted)' is not loaded (loaded: \(registry.plugins.map(\.id).joined(separator: ", ")))")
            }
            let node = String(name.drop(while: { $0 == "/" }))
            guard plugin.nodesByName[node] != nil else {
                return .lacks("plugin \(plugin.info.id) has no node '\(node)' (nodes: \(plugin.nodesByName.keys.sorted().joined(separator: ", ")))")
            }
            return .resolved(try self.node(node, of: plugin, route: component))
        default:
            return .lacks("plugin '\(entry.name)' is of type '\(entry.type)', which Nodal does not run (types: builtin, mock, nodal)")
        }
    }

    /// Every builtin this engine runs: the core's and its extensions'.
    var builtinNames: [String] { (Builtins.names + providers.keys).sorted() }

    /// A builtin an extension provides (`/builtin/ffi`, or `/ffi` under a builtin route), not
    /// bound yet: `resolve(_ flow:)` binds it with the step. nil for any other name.
    private func providedBuiltin(_ name: String, route: String) throws(FlowError) -> ResolvedComponent? {
        let bare = String(name.hasPrefix("/builtin/") ? name.dropFirst(9) : name.drop(while: { $0 == "/" }))
        guard providers[bare] != nil else {
            if bare == "ffi" {
                throw FlowError("FFI steps need NodalFFI, and this engine was created without it: create it with `Engine(extensions: [.ffi])` (the nodal command does)")
            }
            return nil
        }
        return ResolvedComponent(route: route, nodeID: "builtin/" + bare, executor: .inline { _, _ in
            .failure(StepError(code: "BUILTIN_UNRESOLVED", message: "builtin '\(bare)' ran without being bound to its step"))
        })
    }

    private func node(_ name: String, of plugin: LoadedPlugin, route: String) throws -> ResolvedComponent {
        guard let node = plugin.nodesByName[name] else {
            // Suggested as the whole route when the route ends with the node name (it does unless
            // a configuration's route renamed it).
            let guess = RouteSuggestion.closest(to: name, among: Array(plugin.nodesByName.keys)).map { node in
                ": did you mean '\(route.hasSuffix("/" + name) ? route.dropLast(name.count) + node : node)'?"
            } ?? ""
            throw FlowError("plugin \(plugin.info.id) has no node '\(name)'\(guess) (nodes: \(plugin.nodesByName.keys.sorted().joined(separator: ", ")))")
        }
        return ResolvedComponent(route: route, nodeID: node.info.id, executor: .native(node), schemas: plugin.schemasByName[name])
    }

    /// A core builtin with the schemas it declares (`BuiltinSchemas`).
    private func withSchemas(_ builtin: ResolvedComponent) -> ResolvedComponent {
        var builtin = builtin
        builtin.schemas = BuiltinSchemas.schemas(forNode: builtin.nodeID)
        return builtin
    }

    /// A route that matched nothing while some plugin was refused is most likely that plugin's.
    private func throwIfLoadFailed(_ component: String, _ registry: Registry) throws {
        guard !registry.failures.isEmpty else { return }
        let guess = RouteSuggestion.closest(to: component, among: knownRoutes(registry)).map { " (did you mean '\($0)'?)" } ?? ""
        // Each refusal is listed under the folder it was found in.
        throw PluginLoadError(
            file: registry.failures[0].file,
            reason: "component '\(component)'\(guess) is not available and \(registry.failures.count) plugin(s) failed to load\(SearchedLocation.report(registry.searched, failures: registry.failures))")
    }

    // MARK: Running

    /// Runs a flow. Never throws: a flow that cannot be resolved, a failed step or a canceled
    /// run all come back as a `RunResult` whose status and error say what happened.
    public func run(_ flow: Flow, input: JSON, options: RunOptions = RunOptions()) async -> RunResult {
        let options = withExtensions(options)
        let components: [ResolvedComponent]
        do {
            components = try resolve(flow)
        } catch {
            return RunResult.invalid(flow: flow, input: input, options: options, error: error)
        }
        return await owningRun(flow, input: input, options: options) { options in
            let run = FlowRun(flow: flow, components: components, pool: pool, clock: clock, input: input, options: options)
            let result = await run.execute()
            if result.status == .paused { await keepPausedRun(flow, result, inMemory: options.store == nil) }
            return result
        }
    }

    /// `run` for callers that are not async: blocks the calling thread until the run ends.
    /// Unavailable from async code, where it would hold a cooperative thread: use `run` there.
    @available(*, noasync, message: "blocks the thread until the run ends; use `await run(...)` in async code")
    public func runSync(_ flow: Flow, input: JSON, options: RunOptions = RunOptions()) -> RunResult {
        let box = ResultBox()
        Task.detached { [self] in
            box.set(await run(flow, input: input, options: options))
        }
        return box.wait()
    }
}

/// Hands one value from a task to a waiting thread.
private final class ResultBox: Sendable {
    private let value = Mutex<RunResult?>(nil)
    private let semaphore = Semaphore()

    func set(_ result: RunResult) {
        value.withLock { $0 = result }
        semaphore.signal()
    }

    @available(*, noasync)
    func wait() -> RunResult {
        semaphore.wait()
        return value.withLock { $0! }
    }
}

/// The builtins that run flows (`eval`, `map`, `iterate`) reach the engine through this.
extension Engine: BuiltinHost {}
