public import FoundationEssentials
public import NodalJSON

/// A run as the server last described it (Stepflow's `RunSummary`).
public struct RunSummary: Sendable, Hashable {
    public var runID: String
    /// The stored flow's id.
    public var flowID: String?
    public var flowName: String?
    public var status: ExecutionStatus
    public var items: ItemCounts
    public var createdAt: Date?
    public var completedAt: Date?
    /// For a run submitted from a step of another run: that run, and the first of the chain.
    public var parentRunID: String?
    public var rootRunID: String?
    /// The summary as the server sent it, with any field this type does not name.
    public var json: JSON

    /// Reads a `RunSummary` object; throws `.invalidReply` if it has no `runId`.
    public init(json: JSON) throws(NodalClientError) {
        let reader = try ReplyReader(json, "run summary")
        runID = try reader.string("runId")
        flowID = json["flowId"]?.stringValue
        flowName = json["flowName"]?.stringValue
        // proto3's JSON leaves out fields at their default, UNSPECIFIED among them.
        status = ExecutionStatus(json: json["status"])
        items = ItemCounts(json: json["items"] ?? .null)
        createdAt = json["createdAt"]?.stringValue.flatMap(Timestamp.parse)
        completedAt = json["completedAt"]?.stringValue.flatMap(Timestamp.parse)
        parentRunID = json["parentRunId"]?.stringValue
        rootRunID = json["rootRunId"]?.stringValue
        self.json = json
    }
}

/// How many of a run's items stand where (Stepflow's `ItemStatistics`; `paused` is Nodal's).
/// Counts the server leaves out are 0, as proto3's JSON leaves out zeros.
public struct ItemCounts: Sendable, Hashable, CustomStringConvertible {
    public var total: Int
    public var completed: Int
    public var running: Int
    public var failed: Int
    public var cancelled: Int
    public var paused: Int

    public init(total: Int = 0, completed: Int = 0, running: Int = 0, failed: Int = 0, cancelled: Int = 0, paused: Int = 0) {
        self.total = total
        self.completed = completed
        self.running = running
        self.failed = failed
        self.cancelled = cancelled
        self.paused = paused
    }

    init(json: JSON) {
        self.init(
            total: json["total"]?.looseInt ?? 0, completed: json["completed"]?.looseInt ?? 0,
            running: json["running"]?.looseInt ?? 0, failed: json["failed"]?.looseInt ?? 0,
            cancelled: json["cancelled"]?.looseInt ?? 0, paused: json["paused"]?.looseInt ?? 0)
    }

    /// Items that ended, whichever way.
    public var finished: Int { completed + failed + cancelled }

    public var description: String {
        var parts = ["\(completed) completed", "\(failed) failed"]
        if cancelled > 0 { parts.append("\(cancelled) cancelled") }
        if paused > 0 { parts.append("\(paused) paused") }
        if running > 0 { parts.append("\(running) running") }
        return "\(finished)/\(total) items done (" + parts.joined(separator: ", ") + ")"
    }
}
