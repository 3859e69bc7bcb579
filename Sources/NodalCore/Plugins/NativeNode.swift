public import NodalJSON
import CNodal
import Logging

/// What a native node promises, from its `flags`.
public struct NodeFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let threadSafe = NodeFlags(rawValue: 1 << 0)
    public static let nonBlocking = NodeFlags(rawValue: 1 << 1)
    public static let deterministic = NodeFlags(rawValue: 1 << 2)
    public static let cancellable = NodeFlags(rawValue: 1 << 3)

    /// Flag names as `nodal plugins inspect` prints them.
    public var names: [String] {
        var names: [String] = []
        if contains(.threadSafe) { names.append("thread-safe") }
        if contains(.nonBlocking) { names.append("non-blocking") }
        if contains(.deterministic) { names.append("deterministic") }
        if contains(.cancellable) { names.append("cancellable") }
        return names
    }
}

/// A node of a loaded native plugin, ready to call: in this process, or in a plugin host child
/// (`PluginIsolation.process`), where the same file is loaded and called the same way.
///
/// `@unchecked Sendable`: the descriptor lives in the plugin's static storage, is never written
/// after the entry function returned, and the library is never unloaded.
package final class NativeNode: @unchecked Sendable {
    package let info: NodeInfo
    private let backend: Backend
    /// Present when the node is not thread-safe and runs in this process (a child pool keeps
    /// such calls apart itself).
    let serialGate: SerialGate?
    /// Where the plugin's `log` lines go: the logger of the engine that loaded it.
    let logger: Logger
    /// The most bytes one call's output may have (`Engine.maxOutputBytes`).
    let maxOutputBytes: Int

    typealias Invoke = @convention(c) (UnsafePointer<nodal_node>?, UnsafePointer<nodal_host>?, OpaquePointer?, UnsafePointer<CChar>?, Int) -> nodal_status

    private enum Backend {
        /// The plugin's code is in this process.
        case loaded(descriptor: UnsafePointer<nodal_node>, invoke: Invoke)
        /// The plugin runs in children; this is node `index` of its descriptor there.
        case process(PluginHostPool, index: Int)
    }

    /// `invoke` is the descriptor's, as the loader read it (within the descriptor's struct_size:
    /// the descriptor itself is never read as a whole).
    init(info: NodeInfo, descriptor: UnsafePointer<nodal_node>, invoke: @escaping Invoke, logger: Logger, maxOutputBytes: Int) {
        self.info = info
        self.logger = logger
        self.maxOutputBytes = maxOutputBytes
        self.backend = .loaded(descriptor: descriptor, invoke: invoke)
        self.serialGate = info.flags.contains(.threadSafe) ? nil : SerialGate()
    }

    /// Node `index` of a plugin run in children of `pool`.
    init(info: NodeInfo, index: Int, pool: PluginHostPool, logger: Logger) {
        self.info = info
        self.logger = logger
        self.maxOutputBytes = pool.maxOutputBytes
        self.backend = .process(pool, index: index)
        self.serialGate = nil
    }

    /// Inline only in this process: a call to a child is a round trip that blocks.
    var runsInline: Bool {
        guard case .loaded = backend else { return false }
        return info.flags.contains(.nonBlocking)
    }

    /// The children's pool, for a node run in them.
    var processPool: PluginHostPool? {
        guard case .process(let pool, _) = backend else { return nil }
        return pool
    }

    /// What invoke returned and what the plugin handed the host during the call, before it is
    /// judged (`outcome`): the part a plugin host sends back.
    package struct RawAnswer: Sendable {
        package var status: Int32
        package var output: [UInt8]?
        package var error: StepError?
        package var refusedOutputBytes: Int?

        package init(status: Int32, output: [UInt8]?, error: StepError?, refusedOutputBytes: Int?) {
            self.status = status
            self.output = output
            self.error = error
            self.refusedOutputBytes = refusedOutputBytes
        }
    }

    /// Calls the node and turns what it did into an outcome. `parsedInput` is the value `input`
    /// holds, when the caller has it: the JSON extension then reads it instead of parsing the
    /// bytes again. `run` is the run the call belongs to (what the blobs and runs extensions work
    /// in); it must stay alive for the call, as an argument does. `abandonment` is the pool's
    /// record of the call, for a node run in children: abandoning the call kills its child.
    func call(
        input: [UInt8], parsedInput: JSON? = nil, stepID: String, cancellation: CancellationToken?, events: EventSink? = nil,
        run: CallerRun? = nil, abandonment: PooledCallState? = nil
    ) -> NodeOutcome {
        let answer: RawAnswer?
        switch backend {
        case .loaded:
            answer = invokeHere(input: input, parsedInput: parsedInput, stepID: stepID, cancellation: cancellation, events: events, run: run)
        case .process(let pool, let index):
            let context = CallContext(
                stepID: stepID, nodeID: info.id, cancellation: cancellation, events: events, node: self, input: input,
                inputValue: parsedInput, run: run)
            // The engine-side call lives for the whole exchange with the child: the child's log
            // lines and extension requests are served through it.
            let remote = withUnsafePointer(to: context) { context -> PluginHostPool.Answer? in
                guard let call = CallTable.begin(context) else { return nil }
                let remote = pool.call(
                    node: self, index: index, input: input, stepID: stepID, cancellation: cancellation, abandonment: abandonment,
                    handle: call.handle)
                _ = CallTable.finish(call)
                return remote
            }
            switch remote {
            case nil: answer = nil
            case .answered(let raw)?: answer = raw
            case .failed(let error)?: return .failure(error)
            }
        }
        guard let answer else {
            return .failure(StepError(
                code: "TOO_MANY_CALLS",
                message: "node \(info.id) was not called: \(CallTable.maximumSlots) native calls are already in flight"))
        }
        return outcome(answer, cancellation: cancellation)
    }

    /// Calls the plugin's invoke on this thread (in this process: the engine's, or a plugin
    /// host's). `forwardedCall` is the engine's id of the call when a plugin host makes it: the
    /// blobs and runs extensions send their requests back under it. Nil when every call slot is
    /// taken.
    package func invokeHere(
        input: [UInt8], parsedInput: JSON? = nil, stepID: String, cancellation: CancellationToken?, events: EventSink? = nil,
        run: CallerRun? = nil, forwardedCall: UInt64 = 0
    ) -> RawAnswer? {
        guard case .loaded(let descriptor, let invokeFunction) = backend else { return nil }
        var context = CallContext(
            stepID: stepID, nodeID: info.id, cancellation: cancellation, events: events, node: self, input: input,
            inputValue: parsedInput, run: run)
        context.forwardedCall = forwardedCall
        // The context lives in this frame until the call is finished, as `begin` requires.
        return withUnsafePointer(to: context) { context -> RawAnswer? in
            guard let call = CallTable.begin(context) else { return nil }
            CurrentNativeCall.enter(context)
            let status = input.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    invokeFunction(descriptor, HostServices.table, call.handle, chars.baseAddress, chars.count)
                }
            }
            CurrentNativeCall.leave()
            let answer = CallTable.finish(call)
            return RawAnswer(status: status, output: answer.output, error: answer.error, refusedOutputBytes: answer.refusedOutputBytes)
        }
    }

    /// Judges what a call did: its output parsed, its error, its status checked.
    private func outcome(_ answer: RawAnswer, cancellation: CancellationToken?) -> NodeOutcome {
        if let refused = answer.refusedOutputBytes {
            return .failure(StepError(
                code: "OUTPUT_TOO_LARGE",
                message: "node \(info.id) wrote an output of \(refused) bytes, more than the limit of \(maxOutputBytes) bytes (Engine(maxOutputBytes:), nodal --max-output-bytes\(processPool == nil ? "" : ", the plugin's maxOutputBytes"))"))
        }
        switch answer.status {
        case NODAL_OK:
            guard let bytes = answer.output else { return .success(Payload(json: .null, bytes: Array("null".utf8))) }
            do {
                return .success(Payload(json: try JSON(parsing: bytes), bytes: bytes))
            } catch {
                let preview = String(decoding: bytes.prefix(80), as: UTF8.self)
                return .failure(StepError(
                    code: "INVALID_OUTPUT",
                    message: "node \(info.id) returned invalid JSON (\(error)): \(preview)"))
            }
        case NODAL_ERROR:
            return .failure(answer.error ?? StepError(
                code: "NODE_FAILED", message: "node \(info.id) failed without setting an error"))
        case NODAL_CANCELLED:
            // The token only ever goes from not cancelled to cancelled, so a node that saw it
            // raised still sees it raised here.
            guard cancellation?.isCancelled == true else {
                return .failure(StepError(
                    code: "UNEXPECTED_CANCEL",
                    message: "node \(info.id) returned NODAL_CANCELLED, but nothing cancelled the call (the run was not canceled and no timeout passed)"))
            }
            return .canceled
        default:
            return .failure(StepError(code: "INVALID_STATUS", message: "node \(info.id) returned unknown status \(answer.status)"))
        }
    }
}

/// A node's metadata, as `nodal plugins inspect` shows it.
public struct NodeInfo: Sendable {
    public var id: String
    public var name: String
    public var version: String
    public var description: String?
    public var flags: NodeFlags
    public var inputSchema: JSON?
    public var outputSchema: JSON?
    public var configSchema: JSON?
}

/// A loaded native plugin's metadata.
public struct PluginInfo: Sendable {
    public var id: String
    public var name: String
    public var version: String
    public var vendor: String?
    public var description: String?
    public var file: String
    public var abiMinor: Int
    /// The plugin's license, an SPDX expression (ABI 1.1); nil when the plugin does not say.
    public var license: String?
    /// Where people learn more about the plugin, a URL (ABI 1.1); nil when the plugin does not say.
    public var homepage: String?
    /// The Swift toolchain the plugin was built with, or nil for C plugins.
    public var swiftToolchain: String?
    public var nodes: [NodeInfo]
}

/// A plugin file that was refused, and why. Refusals never bring the process down.
public struct PluginLoadError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "plugin \(file): \(reason)" }
}
