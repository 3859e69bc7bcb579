/// Where a plugin's code runs: in the engine's process (fast, the default), or in child
/// processes (`nodal plugin-host`), so that a crash, a hang or a leak costs one step and not the
/// engine. The same plugin file works both ways; its author changes nothing.
public enum PluginIsolation: Sendable, Hashable {
    case inProcess
    case process(ProcessIsolation)

    /// `process` with the default limits.
    public static var process: PluginIsolation { .process(ProcessIsolation()) }
}

/// Limits and settings of a plugin run in child processes.
public struct ProcessIsolation: Sendable, Hashable {
    /// The most address space a child may map (`RLIMIT_AS`), in bytes; nil: no limit. A child
    /// needs about 200 MiB of address space before the plugin maps anything (the Swift runtime and
    /// thread stacks), so a limit under 256 MiB is raised to that.
    public var memoryLimitBytes: Int?
    /// The most CPU time one call may use, in seconds (`RLIMIT_CPU`, counted from the call's
    /// start); past it the child is killed and the step fails with `PLUGIN_CRASHED`. nil: no limit.
    public var cpuSecondsPerCall: Int?
    /// The largest output one call may write; nil: the engine's `maxOutputBytes`. The smaller of
    /// the two applies.
    public var maxOutputBytes: Int?
    /// How many children may run at once. A node that is not thread-safe gets a child to itself
    /// for each call; thread-safe nodes share a child, up to `callsPerChild` calls at a time.
    public var maxChildren: Int
    /// How many calls of thread-safe nodes one child takes at once.
    public var callsPerChild: Int
    /// How long a child with nothing to do is kept for the next call before it is told to exit.
    public var idleTimeout: Duration
    /// The `nodal` executable whose `plugin-host` command runs the children; nil: found as
    /// `PluginHostExecutable.locate` says (`NODAL_PLUGIN_HOST`, the running `nodal`, a `nodal`
    /// beside the running executable, then `PATH`).
    public var hostExecutable: String?

    public init(
        memoryLimitBytes: Int? = nil, cpuSecondsPerCall: Int? = nil, maxOutputBytes: Int? = nil, maxChildren: Int = 2,
        callsPerChild: Int = 4, idleTimeout: Duration = .seconds(30), hostExecutable: String? = nil
    ) {
        self.memoryLimitBytes = memoryLimitBytes.map { max($0, Self.minimumMemoryLimitBytes) }
        self.cpuSecondsPerCall = cpuSecondsPerCall.map { max(1, $0) }
        self.maxOutputBytes = maxOutputBytes.map { max(0, $0) }
        self.maxChildren = min(max(1, maxChildren), 256)
        self.callsPerChild = min(max(1, callsPerChild), Self.maximumCallsPerChild)
        self.idleTimeout = idleTimeout < .zero ? .zero : idleTimeout.clampedForTimer
        self.hostExecutable = hostExecutable
    }

    /// The most calls one child takes at once (each has a cancel flag in the memory it shares
    /// with the engine).
    public static let maximumCallsPerChild = 64

    /// 256 MiB.
    public static let minimumMemoryLimitBytes = 256 << 20
}
