internal import CNodal

/// Runs of flows started from inside a node: the host's `org.nodal.runs.v1` extension, as
/// Stepflow's `runs/submit` and `runs/get` (include/nodal.h: "Runs").
///
/// A run submitted here is a sub-run of the step's run: cancelling that run cancels it. Get it
/// from `context.runs`; use it only while `run` runs, from its thread or threads it starts and
/// waits for. Replies are copied before a function returns: nothing of the host's is kept.
/// Waiting (`wait: true`) blocks the thread: a `.nonBlocking` node may submit but not wait.
public struct Runs: Sendable {
    public static let extensionID = NODAL_EXT_RUNS

    let table: ExtensionTable<nodal_runs>
    let call: CallHandle

    /// The order of `results` in a status.
    public enum ResultOrder: String, Sendable {
        case byIndex, byCompletion
    }

    /// Starts a run of the flow stored as blob `flowID` (from `blobs.putFlow`), one item per
    /// input. With `wait`, returns once every item finished, with the results; otherwise at once.
    /// - Parameters:
    ///   - maxConcurrency: items run at once (nil: all).
    ///   - overrides: per step id, `{"timeoutSecs": ..., "onError": ...}`.
    /// - Throws: `NodeError` with the host's code when the request is refused (an unknown flow
    ///   id, a missing field), and `INVALID_REPLY` if the reply cannot be read.
    public func submit(
        flowID: String, inputs: [JSON], wait: Bool = false, maxConcurrency: Int? = nil,
        overrides: JSON? = nil, variables: JSON? = nil
    ) throws(NodeError) -> RunStatus {
        var request: JSONObject = ["flowId": .string(flowID), "inputs": .array(inputs), "wait": .bool(wait)]
        if let maxConcurrency { request["maxConcurrency"] = .int(maxConcurrency) }
        if let overrides { request["overrides"] = overrides }
        if let variables { request["variables"] = variables }
        return try RunStatus(reply: send(\.submit, "submit", .object(request)))
    }

    /// The status of run `runID` (any run this engine started through the extension). With
    /// `wait`, returns once it finished; `includeResults` adds each finished item's result.
    public func get(
        _ runID: String, wait: Bool = false, includeResults: Bool = false, resultOrder: ResultOrder = .byIndex
    ) throws(NodeError) -> RunStatus {
        let request: JSON = [
            "runId": .string(runID), "wait": .bool(wait), "includeResults": .bool(includeResults),
            "resultOrder": .string(resultOrder.rawValue),
        ]
        return try RunStatus(reply: send(\.get, "get", request))
    }

    /// Cancels run `runID`; returns its status after the cancellation was asked.
    public func cancel(_ runID: String) throws(NodeError) -> RunStatus {
        try RunStatus(reply: send(\.cancel, "cancel", ["runId": .string(runID)]))
    }

    typealias Function = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafeMutablePointer<Int>?
    ) -> nodal_status

    /// Sends one request and returns the reply on NODAL_OK; throws the host's `{code, message}`
    /// on NODAL_ERROR. The reply is the host's until the call ends: it is parsed (copied) here.
    private func send(_ field: KeyPath<nodal_runs, Function?>, _ name: String, _ request: JSON) throws(NodeError) -> JSON {
        guard let function = table.field(field).flatMap({ $0 }) else {
            throw NodeError(code: "EXTENSION_UNAVAILABLE", message: "this host's \(Self.extensionID) has no \(name) function")
        }
        let bytes = request.serializedBytes()
        var reply: UnsafePointer<CChar>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { function(call.pointer, $0.baseAddress, $0.count, &reply, &length) }
        }
        let text = reply.map { UnsafeRawBufferPointer(start: $0, count: length) }
        switch status {
        case NODAL_OK:
            guard let text, let json = try? JSON(parsing: text) else {
                throw NodeError(code: "INVALID_REPLY", message: "runs.\(name) succeeded but its reply is not JSON")
            }
            return json
        case NODAL_ERROR:
            let json = text.flatMap { try? JSON(parsing: $0) }
            throw NodeError(
                code: json?["code"]?.stringValue ?? "RUNS_ERROR",
                message: json?["message"]?.stringValue ?? "runs.\(name) was refused",
                details: json?["data"] ?? json?["details"])
        default:
            throw NodeError(
                code: "HOST_REFUSED",
                message: "the host refused runs.\(name) (status \(status)): it works only while the node's run is in progress")
        }
    }
}

/// A run's status, as `runs.submit`, `runs.get` and `runs.cancel` return it.
public struct RunStatus: Sendable, Equatable {
    /// `pending`, `running`, `success`, `failed` or `cancelled` (a later host may add others).
    public struct State: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let pending = State(rawValue: "pending")
        public static let running = State(rawValue: "running")
        public static let success = State(rawValue: "success")
        public static let failed = State(rawValue: "failed")
        public static let cancelled = State(rawValue: "cancelled")
        public var description: String { rawValue }
        /// Whether the run has ended (success, failed or cancelled).
        public var isFinished: Bool { self == .success || self == .failed || self == .cancelled }
    }

    /// How many of the run's items are in each state.
    public struct Items: Sendable, Equatable {
        public var total = 0, pending = 0, running = 0, success = 0, failed = 0, cancelled = 0
    }

    /// One finished item's result.
    public struct ItemResult: Sendable, Equatable {
        /// The item's position in the submitted inputs, from 0.
        public var itemIndex: Int
        /// Its flow output, or the error it failed with.
        public var result: Result<JSON, NodeError>
        public var completedAt: String?
    }

    public var runID: String
    public var flowID: String?
    public var flowName: String?
    public var status: State
    public var items: Items
    /// ISO 8601 UTC times; `completedAt` only once the run finished.
    public var createdAt: String?
    public var completedAt: String?
    public var parentRunID: String?
    public var rootRunID: String?
    /// The finished items' results, when asked for (`wait` on submit, `includeResults` on get).
    public var results: [ItemResult]?
    /// The reply as the host sent it, with any field this version does not read.
    public var json: JSON

    /// Reads a reply; throws `INVALID_REPLY` naming the field that does not fit.
    public init(reply: JSON) throws(NodeError) {
        func invalid(_ field: String, _ expected: String) -> NodeError {
            NodeError(code: "INVALID_REPLY", message: "the host's run status has no valid '\(field)' (\(expected))", details: reply)
        }
        guard let runID = reply["runId"]?.stringValue else { throw invalid("runId", "a string") }
        guard let status = reply["status"]?.stringValue else { throw invalid("status", "a string") }
        self.runID = runID
        self.status = State(rawValue: status)
        flowID = reply["flowId"]?.stringValue
        flowName = reply["flowName"]?.stringValue
        createdAt = reply["createdAt"]?.stringValue
        completedAt = reply["completedAt"]?.stringValue
        parentRunID = reply["parentRunId"]?.stringValue
        rootRunID = reply["rootRunId"]?.stringValue
        let counts = reply["items"]
        items = Items(
            total: counts?["total"]?.intValue ?? 0, pending: counts?["pending"]?.intValue ?? 0,
            running: counts?["running"]?.intValue ?? 0, success: counts?["success"]?.intValue ?? 0,
            failed: counts?["failed"]?.intValue ?? 0, cancelled: counts?["cancelled"]?.intValue ?? 0)
        json = reply
        guard let list = reply["results"], !list.isNull else {
            results = nil
            return
        }
        guard let entries = list.arrayValue else { throw invalid("results", "an array") }
        var results: [ItemResult] = []
        for (position, entry) in entries.enumerated() {
            guard let index = entry["itemIndex"]?.intValue else { throw invalid("results[\(position)].itemIndex", "an integer") }
            let result = entry["result"]
            let outcome: Result<JSON, NodeError>
            switch result?["outcome"]?.stringValue {
            case "success":
                outcome = .success(result?["value"] ?? result?["result"] ?? .null)
            case "failed":
                let error = result?["error"]
                outcome = .failure(NodeError(
                    code: error?["code"]?.stringValue ?? error?["code"]?.intValue.map { String($0) } ?? "NODE_FAILED",
                    message: error?["message"]?.stringValue ?? "",
                    details: error?["data"] ?? error?["details"]))
            default:
                throw invalid("results[\(position)].result.outcome", "success or failed")
            }
            results.append(ItemResult(itemIndex: index, result: outcome, completedAt: entry["completedAt"]?.stringValue))
        }
        self.results = results
    }
}
