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

/// A node of a loaded native plugin, ready to call.
///
/// `@unchecked Sendable`: the descriptor lives in the plugin's static storage, is never written
/// after the entry function returned, and the library is never unloaded.
package final class NativeNode: @unchecked Sendable {
    let info: NodeInfo
    private let descriptor: UnsafePointer<nodal_node>
    private let invokeFunction: Invoke
    /// Present when the node is not thread-safe.
    let serialGate: SerialGate?
    /// Where the plugin's `log` lines go: the logger of the engine that loaded it.
    let logger: Logger
    /// The most bytes one call's output may have (`Engine.maxOutputBytes`).
    let maxOutputBytes: Int

    typealias Invoke = @convention(c) (UnsafePointer<nodal_node>?, UnsafePointer<nodal_host>?, OpaquePointer?, UnsafePointer<CChar>?, Int) -> nodal_status

    /// `invoke` is the descriptor's, as the loader read it (within the descriptor's struct_size:
    /// the descriptor itself is never read as a whole).
    init(info: NodeInfo, descriptor: UnsafePointer<nodal_node>, invoke: @escaping Invoke, logger: Logger, maxOutputBytes: Int) {
        self.info = info
        self.logger = logger
        self.maxOutputBytes = maxOutputBytes
        self.descriptor = descriptor
        self.invokeFunction = invoke
        self.serialGate = info.flags.contains(.threadSafe) ? nil : SerialGate()
    }

    var runsInline: Bool { info.flags.contains(.nonBlocking) }

    /// Calls the node on the current thread and turns what it did into an outcome. `parsedInput`
    /// is the value `input` holds, when the caller has it: the JSON extension then reads it
    /// instead of parsing the bytes again. `run` is the run the call belongs to (what the blobs
    /// and runs extensions work in); it must stay alive for the call, as an argument does.
    func call(
        input: [UInt8], parsedInput: JSON? = nil, stepID: String, cancellation: CancellationToken?, events: EventSink? = nil,
        run: CallerRun? = nil
    ) -> NodeOutcome {
        let context = CallContext(
            stepID: stepID, nodeID: info.id, cancellation: cancellation, events: events, node: self, input: input,
            inputValue: parsedInput, run: run)
        // The context lives in this frame until the call is finished, as `begin` requires.
        let called = withUnsafePointer(to: context) { context -> (nodal_status, (output: [UInt8]?, error: StepError?, refusedOutputBytes: Int?))? in
            guard let call = CallTable.begin(context) else { return nil }
            CurrentNativeCall.enter(context)
            let status = input.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    invokeFunction(descriptor, HostServices.table, call.handle, chars.baseAddress, chars.count)
                }
            }
            CurrentNativeCall.leave()
            return (status, CallTable.finish(call))
        }
        guard let (status, answer) = called else {
            return .failure(StepError(
                code: "TOO_MANY_CALLS",
                message: "node \(info.id) was not called: \(CallTable.maximumSlots) native calls are already in flight"))
        }
        if let refused = answer.refusedOutputBytes {
            return .failure(StepError(
                code: "OUTPUT_TOO_LARGE",
                message: "node \(info.id) wrote an output of \(refused) bytes, more than the limit of \(maxOutputBytes) bytes (Engine(maxOutputBytes:), nodal --max-output-bytes)"))
        }
        switch status {
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
            return .failure(StepError(code: "INVALID_STATUS", message: "node \(info.id) returned unknown status \(status)"))
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
