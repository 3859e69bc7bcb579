import NodalCore
import NodalJSON
import CNodalShims
import Logging
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `nodal plugin-host`: the child process that runs one plugin file for an engine that loaded it
/// with `isolation: process`. Started by the engine (never by hand) with its socket as file
/// descriptor 3 and its cancel flags (shared memory) as descriptor 4; loads the plugin with the
/// same loader and the same host services as the engine, and serves calls until told to stop or
/// until the engine goes away.
public enum PluginHost {
    /// Runs the plugin host; returns the process's exit status.
    public static func main(arguments: [String]) -> Int32 {
        guard let options = Options(arguments) else {
            writeError("nodal plugin-host: this command is started by the engine for plugins loaded with isolation: process, not by hand (usage: nodal plugin-host --plugin FILE --parent-pid PID [--max-output-bytes N] [--calls N] [--memory-limit BYTES] [--cpu-seconds-per-call N])\n")
            return 64
        }
        var info = stat()
        guard fstat(3, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else {
            writeError("nodal plugin-host: file descriptor 3 is not the engine's socket; this command is started by the engine, not by hand\n")
            return 64
        }
        // Die with the engine: a child must never outlive it.
        if nodal_die_with_parent(options.parentPID) == 1 { return 0 }
        let cancelBytes = Int64(PluginHostWire.cancelSlots * MemoryLayout<UInt32>.size)
        guard let mapped = nodal_map_shared(4, cancelBytes) else {
            writeError("nodal plugin-host: cannot map the cancel flags: \(String(cString: strerror(errno)))\n")
            return 70
        }
        let flags = mapped.bindMemory(to: UInt32.self, capacity: PluginHostWire.cancelSlots)
        // The plugin never sees the engine's socket: it moves to a high descriptor, closed on exec,
        // and /dev/null takes 3 and 4, so a stray write of the plugin's (or of a library reusing a
        // descriptor number) cannot be spliced into the frames. Its standard output goes to
        // standard error, so a plugin's printf cannot corrupt the engine's JSON output.
        let socket = fcntl(3, F_DUPFD_CLOEXEC, 100)
        guard socket >= 0 else {
            writeError("nodal plugin-host: cannot move the engine's socket: \(String(cString: strerror(errno)))\n")
            return 70
        }
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 3)
            dup2(null, 4)
            if null > 4 { close(null) }
        } else {
            close(3)
            close(4)
        }
        dup2(2, 1)
        if let limit = options.memoryLimit, nodal_limit_address_space(Int64(limit)) != 0 {
            writeError("nodal plugin-host: cannot set the memory limit: \(String(cString: strerror(errno)))\n")
        }
        let writer = PluginHostWire.Writer(descriptor: socket)
        // Plugins' log lines go to the engine (which logs them with its own logger), not here.
        let quiet = Logger(label: "nodal.plugin-host") { _ in SwiftLogNoOpLogHandler() }
        let loaded: PluginLoader.Loaded
        do {
            loaded = try PluginLoader.load(options.plugin, logger: quiet, maxOutputBytes: options.maxOutputBytes)
        } catch {
            writer.send(PluginHostWire.Frame(.loadFailed, [error.reason.wireBytes]))
            return 0
        }
        let forwarder = ReplyRouter(writer: writer)
        ForwardingExtensions.install(forwarder)
        writer.send(PluginHostWire.Frame(.ready, [PluginDescription.json(loaded.info).serializedBytes()]))
        let server = CallServer(
            nodes: loaded.nodes, writer: writer, flags: flags, threads: options.calls, cpuSecondsPerCall: options.cpuSecondsPerCall)
        return server.serve(reading: PluginHostWire.Reader(
            descriptor: socket, maximumFrameBytes: max(options.maxOutputBytes, 256 << 20) + (1 << 20)), forwarder: forwarder)
    }

    static func writeError(_ text: String) {
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}

extension String {
    var wireBytes: [UInt8] { Array(utf8) }
}

/// The command line the engine gives (PluginHostProcess.start).
struct Options {
    var plugin = ""
    var parentPID: Int32 = 0
    var maxOutputBytes = 64 << 20
    var calls = 1
    var memoryLimit: Int?
    var cpuSecondsPerCall: Int?

    init?(_ arguments: [String]) {
        var index = 0
        func value() -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--plugin": guard let text = value() else { return nil }; plugin = text
            case "--parent-pid": guard let number = value().flatMap({ Int32($0) }) else { return nil }; parentPID = number
            case "--max-output-bytes": guard let number = value().flatMap({ Int($0) }), number >= 0 else { return nil }; maxOutputBytes = number
            case "--calls": guard let number = value().flatMap({ Int($0) }), number >= 1 else { return nil }; calls = min(number, PluginHostWire.cancelSlots)
            case "--memory-limit": guard let number = value().flatMap({ Int($0) }), number > 0 else { return nil }; memoryLimit = number
            case "--cpu-seconds-per-call": guard let number = value().flatMap({ Int($0) }), number > 0 else { return nil }; cpuSecondsPerCall = number
            default: return nil
            }
            index += 1
        }
        guard !plugin.isEmpty, parentPID > 0 else { return nil }
    }
}
