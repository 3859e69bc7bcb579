import NodalJSON
import CNodalShims
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One plugin host child (`nodal plugin-host`), seen from the engine: its socket, its shared
/// cancel flags, the calls it has in flight, and whether it is still alive.
///
/// A thread of its own reads the child's frames and hands each to the mailbox of the call it is
/// about; the thread waiting in that call does the work (logs, extension requests), so a slow
/// extension request of one call never holds up another's frames. When the socket closes, the
/// reader reaps the child and tells every call in flight how it died.
final class PluginHostProcess: Sendable {
    /// Cancel flags per child: one word each, in one page of shared memory. A child never has more
    /// calls in flight than this.
    static let cancelSlots = PluginHostWire.cancelSlots
    private static let cancelBytes = Int64(cancelSlots * MemoryLayout<UInt32>.size)
    /// How long a child may take to load its plugin (dlopen and the plugin's `init`).
    static let loadTimeoutMilliseconds: Int32 = 30_000

    let pid: Int32
    let pluginFile: String
    private let socket: Int32
    private let writer: PluginHostWire.Writer
    /// The shared cancel flags: written here, read by the child's `is_cancelled`.
    nonisolated(unsafe) private let cancelWords: UnsafeMutablePointer<UInt32>
    private let state = Mutex(State())

    private struct State {
        var mailboxes: [UInt64: CallMailbox] = [:]
        /// Set once the child is gone: why, in words that finish "its process (pid N) ...".
        var death: String?
        /// Set when the engine killed it (a call abandoned after its timeout, a shutdown).
        var killedOnPurpose = false
        /// Set when a frame could not be sent: the child is gone, though its reader may not know yet.
        var unreachable = false
    }

    private init(pid: Int32, pluginFile: String, socket: Int32, cancelWords: UnsafeMutablePointer<UInt32>) {
        self.pid = pid
        self.pluginFile = pluginFile
        self.socket = socket
        self.writer = PluginHostWire.Writer(descriptor: socket)
        self.cancelWords = cancelWords
    }

    deinit {
        munmap(cancelWords, Int(Self.cancelBytes))
        close(socket)
    }

    /// Why a child could not be started or did not load its plugin.
    struct StartFailure: Error, Sendable {
        var code: String
        var message: String
    }

    /// Starts a child for `pluginFile` and waits until it loaded the plugin. Returns the child
    /// (its reader running) and the plugin's description.
    static func start(
        pluginFile: String, executable: PluginHostExecutable.Command, isolation: ProcessIsolation, maxOutputBytes: Int
    ) throws(StartFailure) -> (PluginHostProcess, PluginInfo) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "socketpair failed: \(FileSystem.errnoText())")
        }
        let memory = nodal_shared_memory("nodal-cancel", cancelBytes)
        guard memory >= 0, let mapped = nodal_map_shared(memory, cancelBytes) else {
            let reason = FileSystem.errnoText()
            close(pair[0]); close(pair[1])
            if memory >= 0 { close(memory) }
            throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "shared memory for cancel flags failed: \(reason)")
        }
        let words = mapped.bindMemory(to: UInt32.self, capacity: cancelSlots)
        var arguments = [executable.path] + executable.arguments + [
            "--plugin", pluginFile, "--parent-pid", String(getpid()),
            "--max-output-bytes", String(maxOutputBytes), "--calls", String(isolation.callsPerChild),
        ]
        if let memory = isolation.memoryLimitBytes { arguments += ["--memory-limit", String(memory)] }
        if let cpu = isolation.cpuSecondsPerCall { arguments += ["--cpu-seconds-per-call", String(cpu)] }
        // The child gets them as 3 and 4 (dup2 in order): neither may already be 3 or 4, or the
        // first dup2 would overwrite the second's source.
        let childSocket = Self.above4(pair[1])
        let childMemory = Self.above4(memory)
        let spawned = HostSpawner.spawn(executable.path, arguments, fd3: childSocket, fd4: childMemory)
        close(childSocket)
        close(childMemory)
        let pid: Int32
        switch spawned {
        case .success(let child): pid = child
        case .failure(let failure):
            close(pair[0])
            munmap(mapped, Int(cancelBytes))
            throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "could not start \(([executable.path] + executable.arguments).joined(separator: " ")): \(FileSystem.errnoText(failure.code))")
        }
        let process = PluginHostProcess(pid: pid, pluginFile: pluginFile, socket: pair[0], cancelWords: words)
        let reader = FrameReader(descriptor: pair[0], maximumFrameBytes: Self.maximumFrameBytes(maxOutputBytes))

        // The first frame says whether the plugin loaded. A child that hangs in the plugin's
        // init is killed after the load timeout.
        var poll = pollfd(fd: pair[0], events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat { ready = Glibc.poll(&poll, 1, loadTimeoutMilliseconds) } while ready < 0 && errno == EINTR
        if ready == 0 {
            process.kill()
            _ = process.reap()
            throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "the plugin host did not finish loading the plugin within \(loadTimeoutMilliseconds / 1000) s (its init may hang); it was killed")
        }
        // The whole first frame must arrive within the load timeout, not only its first byte.
        var deadline = timeval(tv_sec: Int(loadTimeoutMilliseconds / 1000), tv_usec: 0)
        setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &deadline, socklen_t(MemoryLayout<timeval>.size))
        let first: PluginHostWire.Frame
        do {
            first = try reader.next()
        } catch {
            process.kill()
            let death = process.reap()
            switch error {
            case .malformed(let what):
                throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "the plugin host sent \(what) while loading the plugin, so it was killed")
            case .system:
                throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "the plugin host did not finish saying whether the plugin loaded within \(loadTimeoutMilliseconds / 1000) s; it was killed")
            case .closed:
                throw StartFailure(code: "PLUGIN_CRASHED", message: "the plugin host's process (pid \(pid)) \(death) while loading the plugin")
            }
        }
        var forever = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &forever, socklen_t(MemoryLayout<timeval>.size))
        switch first.kind {
        case .ready:
            guard let field = first.fields.first, let json = try? JSON(parsing: field), let info = PluginDescription.info(json) else {
                process.kill()
                _ = process.reap()
                throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "the plugin host sent a description that does not read")
            }
            DetachedThread.start { process.readFrames(reader) }
            return (process, info)
        case .loadFailed:
            let reason = first.string(0) ?? "no reason given"
            _ = process.writer.send(PluginHostWire.Frame(.shutdown))
            _ = process.reap()
            throw StartFailure(code: "PLUGIN_LOAD_FAILED", message: reason)
        default:
            process.kill()
            _ = process.reap()
            throw StartFailure(code: "PLUGIN_HOST_FAILED", message: "the plugin host sent \(first.kind) before saying whether the plugin loaded")
        }
    }

    /// `descriptor`, or a close-on-exec copy of it numbered 5 or more (the original closed).
    private static func above4(_ descriptor: Int32) -> Int32 {
        guard descriptor < 5 else { return descriptor }
        let moved = fcntl(descriptor, F_DUPFD_CLOEXEC, 5)
        guard moved >= 0 else { return descriptor }
        close(descriptor)
        return moved
    }

    /// Frames may carry an output (up to the limit) or a blob through the blobs extension.
    static func maximumFrameBytes(_ maxOutputBytes: Int) -> Int { max(maxOutputBytes, 256 << 20) + (1 << 20) }

    // MARK: Calls

    var isAlive: Bool { state.withLock { $0.death == nil && !$0.unreachable } }

    /// Registers a call's mailbox; false (nothing registered) when the child is already gone.
    func register(call: UInt64, _ mailbox: CallMailbox) -> Bool {
        state.withLock { state in
            guard state.death == nil else { return false }
            state.mailboxes[call] = mailbox
            return true
        }
    }

    func unregister(call: UInt64) {
        _ = state.withLock { $0.mailboxes.removeValue(forKey: call) }
    }

    /// False when the child is gone (then it is taken for dead from now on).
    @discardableResult
    func send(_ frame: PluginHostWire.Frame) -> Bool {
        let sent = writer.send(frame)
        if !sent { state.withLock { $0.unreachable = true } }
        return sent
    }

    func setCancelFlag(slot: Int, raised: Bool) {
        nodal_atomic_store_u32(cancelWords + slot, raised ? 1 : 0)
    }

    /// Kills the child (SIGKILL): a call abandoned after its timeout, or a child that misbehaved.
    /// Its reader then reaps it and fails what was in flight.
    func kill() {
        let alive = state.withLock { state -> Bool in
            state.killedOnPurpose = true
            return state.death == nil
        }
        // The child leads a process group of its own: what it forked dies with it.
        if alive { Glibc.kill(-pid, SIGKILL); Glibc.kill(pid, SIGKILL) }
    }

    /// Asks the child to exit once its calls are done (it also exits when the socket closes).
    func requestShutdown() {
        _ = writer.send(PluginHostWire.Frame(.shutdown))
    }

    // MARK: Reading

    private func readFrames(_ reader: FrameReader) {
        var failure: String?
        while true {
            let frame: PluginHostWire.Frame
            do {
                frame = try reader.next()
            } catch {
                if case .malformed(let what) = error { failure = "sent \(what), so it was killed" }
                break
            }
            let mailbox = state.withLock { $0.mailboxes[frame.call] }
            // A frame for a call that already ended (abandoned, say) has nobody to read it.
            mailbox?.post(.frame(frame))
        }
        if failure != nil { Glibc.kill(-pid, SIGKILL); Glibc.kill(pid, SIGKILL) }
        let death = failure ?? reap()
        let waiting = state.withLock { state -> [CallMailbox] in
            state.death = death
            defer { state.mailboxes.removeAll() }
            return Array(state.mailboxes.values)
        }
        for mailbox in waiting { mailbox.post(.died(death)) }
    }

    /// Waits for the child to end (it closed its socket, so it is ending; one that closed the
    /// socket and goes on is killed) and says how: "died of SIGSEGV", "exited with status 3".
    private func reap() -> String {
        var status: Int32 = 0
        var waited: Int32 = 0
        // A child that closed its socket is usually exiting already: give it a moment to finish,
        // so that its own exit status is the one reported, not the SIGKILL below.
        for _ in 0..<200 {
            repeat { waited = waitpid(pid, &status, WNOHANG) } while waited < 0 && errno == EINTR
            if waited != 0 { break }
            usleep(1000)
        }
        if waited == 0 {
            Glibc.kill(-pid, SIGKILL)
            Glibc.kill(pid, SIGKILL)
            repeat { waited = waitpid(pid, &status, 0) } while waited < 0 && errno == EINTR
        }
        guard waited == pid else { return "ended (its status could not be read: \(FileSystem.errnoText()))" }
        var value: Int32 = 0
        switch nodal_wait_status(status, &value) {
        case 1: return "exited with status \(value)"
        case 2:
            let name = nodal_signal_name(value).map { String(cString: $0) } ?? "signal \(value)"
            let killedOnPurpose = state.withLock { $0.killedOnPurpose }
            if value == SIGKILL && killedOnPurpose { return "was killed by the engine (SIGKILL)" }
            if value == SIGXCPU { return "died of \(name): it used more CPU time than its limit (cpuSecondsPerCall)" }
            return "died of \(name)"
        default: return "ended with wait status \(status)"
        }
    }
}

/// A frame reader shared with the reader thread (a class, so the thread can own it).
final class FrameReader: @unchecked Sendable {
    // @unchecked: one thread reads at a time (the starter, then the reader thread it hands over to).
    private var reader: PluginHostWire.Reader

    init(descriptor: Int32, maximumFrameBytes: Int) {
        reader = PluginHostWire.Reader(descriptor: descriptor, maximumFrameBytes: maximumFrameBytes)
    }

    func next() throws(PluginHostWire.ReadFailure) -> PluginHostWire.Frame { try reader.next() }
}

/// What reaches a call from its child: frames about it, or the news that the child died.
final class CallMailbox: Sendable {
    enum Message: Sendable {
        case frame(PluginHostWire.Frame)
        case died(String)
    }

    private let messages = ConditionLock<[Message]>([])

    func post(_ message: Message) {
        messages.withLock { $0.append(message) }
        messages.signal()
    }

    /// The next message; parks the calling thread (a pool thread in a call) until there is one.
    @available(*, noasync)
    func next() -> Message {
        messages.withLock(whenReady: { !$0.isEmpty }) { $0.removeFirst() }
    }
}

/// Spawns plugin hosts from one thread that lives as long as the process: on Linux the
/// parent-death signal a child asks for fires when the *thread* that spawned it ends, and the
/// engine's pool threads may retire.
enum HostSpawner {
    private struct Request: Sendable {
        let path: String
        let arguments: [String]
        let fd3: Int32
        let fd4: Int32
        let answer: ConditionLock<Result<Int32, SpawnError>?>
    }

    struct SpawnError: Error { let code: Int32 }

    private static let queue: ConditionLock<[Request]> = {
        let queue = ConditionLock<[Request]>([])
        DetachedThread.start {
            while true {
                let request = queue.withLock(whenReady: { !$0.isEmpty }) { $0.removeFirst() }
                request.answer.withLock { $0 = spawnHere(request) }
                request.answer.broadcast()
            }
        }
        return queue
    }()

    @available(*, noasync)
    static func spawn(_ path: String, _ arguments: [String], fd3: Int32, fd4: Int32) -> Result<Int32, SpawnError> {
        let answer = ConditionLock<Result<Int32, SpawnError>?>(nil)
        queue.withLock { $0.append(Request(path: path, arguments: arguments, fd3: fd3, fd4: fd4, answer: answer)) }
        queue.signal()
        return answer.withLock(whenReady: { $0 != nil }) { $0! }
    }

    private static func spawnHere(_ request: Request) -> Result<Int32, SpawnError> {
        var cStrings = request.arguments.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        cStrings.append(nil)
        var pid: Int32 = 0
        let result = nodal_spawn(request.path, cStrings, request.fd3, request.fd4, &pid)
        return result == 0 ? .success(pid) : .failure(SpawnError(code: result))
    }
}
