internal import CNodal

/// What a node can do while it runs, besides computing its output: log, report progress, notice
/// cancellation, and reach the host's extensions (runs, blobs).
///
/// A context is valid while `run` runs. It may be used from threads `run` starts, as long as `run`
/// waits for them; used after `run` returned, every service does nothing (the host refuses a
/// finished call's handle, include/nodal.h: nodal_call), so a stray use never corrupts anything.
/// That is what makes the conformance to Sendable true.
public struct NodeContext: @unchecked Sendable {
    let host: HostTable
    let call: CallHandle

    /// The id of the node being run, such as `org.example.greet.hello`.
    public let nodeID: String

    init(host: HostTable, call: CallHandle, nodeID: String) {
        self.host = host
        self.call = call
        self.nodeID = nodeID
    }

    /// The host's name and SemVer version, such as `nodal 0.1.0`.
    public var hostName: String { host.name }
    public var hostVersion: String { host.version }
    /// The host's ABI version, such as `1.2`.
    public var hostABI: String { "\(host.abiMajor).\(host.abiMinor)" }

    /// Whether the node should stop: the run was cancelled or the step's timeout passed.
    /// Cheap (an atomic load or two): poll it between units of work.
    public var isCancelled: Bool {
        guard let isCancelled = host.field(\.is_cancelled).flatMap({ $0 }) else { return false }
        return isCancelled(call.pointer) != 0
    }

    /// Throws `CancellationError` when `isCancelled`: the step then ends cancelled. Flag such a
    /// node `.cancellable`.
    public func checkCancellation() throws(CancellationError) {
        if isCancelled { throw CancellationError() }
    }

    /// Writes a line to the run's log, attributed to the step.
    public func log(_ message: String, level: LogLevel = .info) {
        guard let log = host.field(\.log).flatMap({ $0 }) else { return }
        // A host of ABI 1.0 declared log as returning void: the result is never read.
        _ = message.withoutNULs.withCString { log(call.pointer, level.cValue, $0) }
    }

    /// Reports how far a long call has come: `fraction` from 0 to 1, or nil when unknown.
    public func reportProgress(_ fraction: Double?, message: String? = nil) {
        guard let report = host.field(\.report_progress).flatMap({ $0 }) else { return }
        let value = fraction.map { $0.isFinite ? min(max($0, 0), 1) : -1 } ?? -1
        _ = withOptionalCString(message) { report(call.pointer, value, $0) }
    }

    /// Whether the host offers the extension with this versioned id (`Runs.extensionID`, ...).
    public func offers(_ extensionID: String) -> Bool { host.extensionTable(extensionID) != nil }

    /// Runs of flows started from this node (`org.nodal.runs.v1`). Throws `EXTENSION_UNAVAILABLE`
    /// when the host does not offer it; check first with `offers(Runs.extensionID)` to do without.
    public var runs: Runs {
        get throws(NodeError) { Runs(table: try table(Runs.extensionID), call: call) }
    }

    /// Blobs in the run's store (`org.nodal.blobs.v1`). Throws `EXTENSION_UNAVAILABLE` when the
    /// host does not offer it; check first with `offers(Blobs.extensionID)` to do without.
    public var blobs: Blobs {
        get throws(NodeError) { Blobs(table: try table(Blobs.extensionID), call: call) }
    }

    private func table<Table>(_ id: String) throws(NodeError) -> ExtensionTable<Table> {
        guard let pointer = host.extensionTable(id) else {
            throw NodeError(
                code: "EXTENSION_UNAVAILABLE",
                message: "node \(nodeID) needs the host extension \(id), which this host (\(hostName) \(hostVersion), ABI \(hostABI)) does not offer")
        }
        return ExtensionTable(pointer: pointer)
    }
}

/// The host's handle of one call in flight (include/nodal.h: nodal_call), which may be used from
/// any thread while the call runs, and is refused (NODAL_INVALID) by every service afterwards:
/// that is what makes the conformance true.
struct CallHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
}
