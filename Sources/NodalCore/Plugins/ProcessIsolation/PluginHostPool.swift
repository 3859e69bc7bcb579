import NodalJSON
import CNodal
import Synchronization

/// The children that run one process-isolated plugin: started on the first call, reused while
/// there is work, told to exit after `idleTimeout` without any, replaced when one dies.
///
/// A call of a node that is not thread-safe takes a child to itself; calls of thread-safe nodes
/// share a child, up to `callsPerChild` at once. At most `maxChildren` children run; a call that
/// finds them all busy waits (on its pool thread) for one.
final class PluginHostPool: Sendable {
    let pluginFile: String
    let isolation: ProcessIsolation
    let executable: PluginHostExecutable.Command
    /// The smaller of the engine's and the plugin's output limit.
    let maxOutputBytes: Int
    private let clock: any Clock<Duration>
    private let state = ConditionLock(State())
    /// The plugin id and node ids `describe` found: a later child that loads something else (the
    /// file was replaced) is not used, since calls name nodes by their index.
    private let described = Mutex<[String]?>(nil)

    private struct Child {
        let process: PluginHostProcess
        var calls = 0
        /// Holds a call of a node that is not thread-safe.
        var exclusive = false
        /// Cancel slots in use, one bit each.
        var slots: UInt64 = 0
        /// Bumped whenever the child goes idle; an idle timer stops it only if none came since.
        var idleGeneration = 0
        var idleTimerArmed = false
    }

    private struct State {
        var children: [Int32: Child] = [:]
        var starting = 0
        /// Calls waiting in the runs extension (on a sub-run, which may need children of this
        /// plugin itself): each lets one more child start, as the blocking pool starts a thread
        /// for a waiting one, so a pool of busy waiters cannot deadlock on itself.
        var waiting = 0
        var shutDown = false
        var nextCall: UInt64 = 1
    }

    init(pluginFile: String, isolation: ProcessIsolation, executable: PluginHostExecutable.Command, maxOutputBytes: Int, clock: any Clock<Duration>) {
        self.pluginFile = pluginFile
        self.isolation = isolation
        self.executable = executable
        self.maxOutputBytes = maxOutputBytes
        self.clock = clock
    }

    /// Loads the plugin in a child of its own and returns its description; that child exits at
    /// once (children for calls start on the first call).
    @available(*, noasync)
    func describe() throws(PluginHostProcess.StartFailure) -> PluginInfo {
        let (process, info) = try PluginHostProcess.start(
            pluginFile: pluginFile, executable: executable, isolation: isolation, maxOutputBytes: maxOutputBytes)
        process.requestShutdown()
        described.withLock { $0 = Self.identity(info) }
        return info
    }

    private static func identity(_ info: PluginInfo) -> [String] { [info.id] + info.nodes.map(\.id) }

    /// Children alive now (for tests and `nodal plugins inspect`).
    var childProcessIDs: [Int32] {
        state.withLock { state in state.children.values.filter(\.process.isAlive).map(\.process.pid).sorted() }
    }

    // MARK: Leases

    struct Lease {
        let process: PluginHostProcess
        let slot: Int
        let call: UInt64
    }

    private func fits(_ child: Child, threadSafe: Bool) -> Bool {
        guard child.process.isAlive else { return false }
        return threadSafe ? !child.exclusive && child.calls < isolation.callsPerChild : child.calls == 0
    }

    @available(*, noasync)
    private func acquire(threadSafe: Bool) -> Result<Lease, StepError> {
        enum Step { case use(Lease), spawn }
        let step = state.withLock(whenReady: { state in
            state.children.values.contains { fits($0, threadSafe: threadSafe) }
                || state.children.values.filter(\.process.isAlive).count + state.starting < isolation.maxChildren + state.waiting
        }) { state -> Step in
            state.children = state.children.filter { $0.value.process.isAlive || $0.value.calls > 0 }
            if let pid = state.children.first(where: { fits($0.value, threadSafe: threadSafe) })?.key {
                return .use(claim(pid, in: &state, threadSafe: threadSafe))
            }
            state.starting += 1
            return .spawn
        }
        if case .use(let lease) = step { return .success(lease) }
        let started: Result<PluginHostProcess, StepError>
        do {
            let (process, info) = try PluginHostProcess.start(
                pluginFile: pluginFile, executable: executable, isolation: isolation, maxOutputBytes: maxOutputBytes)
            if let expected = described.withLock({ $0 }), expected != Self.identity(info) {
                process.requestShutdown()
                started = .failure(StepError(
                    code: "PLUGIN_LOAD_FAILED",
                    message: "plugin \(pluginFile) changed since it was loaded: it is now \(info.id) with nodes \(info.nodes.map(\.id).joined(separator: ", ")); load it again (restart the engine)"))
            } else {
                started = .success(process)
            }
        } catch {
            started = .failure(StepError(code: error.code, message: "plugin \(pluginFile): \(error.message)"))
        }
        let result = state.withLock { state -> Result<Lease, StepError> in
            state.starting -= 1
            return started.map { process in
                state.children[process.pid] = Child(process: process)
                return claim(process.pid, in: &state, threadSafe: threadSafe)
            }
        }
        state.broadcast()
        return result
    }

    private func claim(_ pid: Int32, in state: inout State, threadSafe: Bool) -> Lease {
        var child = state.children[pid]!
        let slot = (~child.slots).trailingZeroBitCount
        child.slots |= 1 << UInt64(slot)
        child.calls += 1
        child.exclusive = !threadSafe
        child.idleGeneration += 1
        state.children[pid] = child
        let call = state.nextCall
        state.nextCall += 1
        return Lease(process: child.process, slot: slot, call: call)
    }

    private func release(_ lease: Lease) {
        let stopNow = state.withLock { state -> (stop: Bool, armTimer: Int?) in
            guard var child = state.children[lease.process.pid] else { return (false, nil) }
            child.calls -= 1
            child.slots &= ~(1 << UInt64(lease.slot))
            if child.calls == 0 { child.exclusive = false }
            guard child.process.isAlive else {
                if child.calls == 0 { state.children[lease.process.pid] = nil } else { state.children[lease.process.pid] = child }
                return (false, nil)
            }
            var arm: Int?
            if child.calls == 0 {
                if state.shutDown {
                    state.children[lease.process.pid] = nil
                    return (true, nil)
                }
                child.idleGeneration += 1
                if !child.idleTimerArmed {
                    child.idleTimerArmed = true
                    arm = child.idleGeneration
                }
            }
            state.children[lease.process.pid] = child
            return (false, arm)
        }
        state.broadcast()
        if stopNow.stop { lease.process.requestShutdown() }
        if let generation = stopNow.armTimer { armIdleTimer(lease.process, generation: generation) }
    }

    /// Stops `process` once it has been idle for `idleTimeout` (on the engine's clock).
    private func armIdleTimer(_ process: PluginHostProcess, generation: Int) {
        let clock = clock
        let timeout = isolation.idleTimeout
        Task { [weak self] in
            try? await clock.sleep(for: timeout)
            self?.idleTimerFired(process, generation: generation)
        }
    }

    private func idleTimerFired(_ process: PluginHostProcess, generation: Int) {
        let action = state.withLock { state -> (stop: Bool, rearm: Int?) in
            guard var child = state.children[process.pid] else { return (false, nil) }
            if child.calls == 0 && child.idleGeneration == generation {
                state.children[process.pid] = nil
                return (true, nil)
            }
            if child.calls == 0 {
                // Used and idle again since the timer was armed: wait a full timeout from now.
                state.children[process.pid] = child
                return (false, child.idleGeneration)
            }
            child.idleTimerArmed = false
            state.children[process.pid] = child
            return (false, nil)
        }
        if action.stop { process.requestShutdown() }
        if let generation = action.rearm { armIdleTimer(process, generation: generation) }
    }

    /// Tells every child to exit once its calls are done. Calls made afterwards still run, each in
    /// a child that exits when the call ends.
    func shutdown() {
        let children = state.withLock { state -> [PluginHostProcess] in
            state.shutDown = true
            let idle = state.children.values.filter { $0.calls == 0 }.map(\.process)
            state.children = state.children.filter { $0.value.calls > 0 }
            return idle
        }
        for child in children { child.requestShutdown() }
    }

    // MARK: Calls

    /// What a call in a child came back with.
    enum Answer {
        case answered(NativeNode.RawAnswer)
        case failed(StepError)
    }

    /// Calls node `index` in a child and waits, serving the child's log lines and extension
    /// requests on this thread (the call's own, as the extensions' thread rules want), until it
    /// answers or dies. `handle` is the engine-side call (`CallTable`), live for the whole call:
    /// what the child asks of the host is done through it, by the very functions an in-process
    /// call uses.
    @available(*, noasync)
    func call(
        node: NativeNode, index: Int, input: [UInt8], stepID: String, cancellation: CancellationToken?,
        abandonment: PooledCallState?, handle: OpaquePointer
    ) -> Answer {
        // A child that died while idle (killed from outside, say) is found out when the call
        // cannot reach it: the call goes to another child. One that dies once it has the call
        // fails the call.
        var unreachable: PluginHostProcess?
        for _ in 0..<3 {
            let lease: Lease
            switch acquire(threadSafe: node.info.flags.contains(.threadSafe)) {
            case .success(let acquired): lease = acquired
            case .failure(let error): return .failed(error)
            }
            defer { release(lease) }
            if let answer = exchange(
                lease, node: node, index: index, input: input, stepID: stepID, cancellation: cancellation, abandonment: abandonment,
                handle: handle)
            {
                return answer
            }
            unreachable = lease.process
        }
        return crashed(node, stepID, unreachable!, "could not be reached, nor the children started after it")
    }

    /// One call in the leased child; nil when the child was gone before it got the call.
    @available(*, noasync)
    private func exchange(
        _ lease: Lease, node: NativeNode, index: Int, input: [UInt8], stepID: String, cancellation: CancellationToken?,
        abandonment: PooledCallState?, handle: OpaquePointer
    ) -> Answer? {
        let process = lease.process
        let mailbox = CallMailbox()
        guard process.register(call: lease.call, mailbox) else { return nil }
        defer { process.unregister(call: lease.call) }

        process.setCancelFlag(slot: lease.slot, raised: false)
        let cancelHandler = cancellation?.onCancel { process.setCancelFlag(slot: lease.slot, raised: true) }
        defer { if let cancelHandler { cancellation?.removeHandler(cancelHandler) } }

        // Past the timeout and grace period the call is abandoned: the child is killed, so nothing
        // of it keeps running. A call abandoned before it was sent (it waited for a child) is not
        // sent, and kills nothing: the child may be serving other calls.
        let sending = Atomic<Bool>(false)
        abandonment?.onAbandon { if sending.load(ordering: .sequentiallyConsistent) { process.kill() } }
        sending.store(true, ordering: .sequentiallyConsistent)
        if abandonment?.isAbandoned == true {
            return .failed(StepError(code: "TIMEOUT", message: "the call was given up before a child of plugin \(pluginFile) was free"))
        }
        // A closed socket refuses the frame at once (EPIPE): the child died before the call.
        guard process.send(PluginHostWire.Frame(.call, call: lease.call, [
            index.wireField, lease.slot.wireField, stepID.wireField, input,
        ])) else { return nil }
        while true {
            switch mailbox.next() {
            case .died(let death):
                return crashed(node, stepID, process, death)
            case .frame(let frame):
                switch frame.kind {
                case .result:
                    return .answered(NativeNode.RawAnswer(wire: frame))
                case .log:
                    let level = HostServices.level(named: frame.string(0) ?? "info")
                    _ = (frame.string(1) ?? "").withCString { HostServices.table.pointee.log(handle, level, $0) }
                case .progress:
                    let fraction = frame.string(0).flatMap(Double.init) ?? -1
                    if frame.fields.count >= 2 {
                        _ = (frame.string(1) ?? "").withCString { HostServices.table.pointee.report_progress(handle, fraction, $0) }
                    } else {
                        _ = HostServices.table.pointee.report_progress(handle, fraction, nil)
                    }
                case .extensionRequest:
                    let waits = frame.string(0).map { $0 == "runs.submit" || $0 == "runs.get" } ?? false
                    if waits { adjustWaiting(by: 1) }
                    let reply = ForwardedRequest.perform(frame, handle: handle)
                    if waits { adjustWaiting(by: -1) }
                    process.send(PluginHostWire.Frame(.extensionReply, call: lease.call, tag: frame.tag, reply))
                default:
                    // A child that speaks out of turn cannot be trusted with the call.
                    process.kill()
                }
            }
        }
    }

    private func adjustWaiting(by change: Int) {
        state.withLock { $0.waiting += change }
        state.broadcast()
    }

    private func crashed(_ node: NativeNode, _ stepID: String, _ process: PluginHostProcess, _ death: String) -> Answer {
        .failed(StepError(
            code: "PLUGIN_CRASHED",
            message: "plugin \(pluginFile) crashed in node \(node.info.id) (step \(stepID)): its process (pid \(process.pid)) \(death)"))
    }
}
