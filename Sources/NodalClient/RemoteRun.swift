public import NodalJSON
import Synchronization

/// A run on the server: what was last seen of it, and the calls that read or change it.
///
/// Made by `NodalClient.startRun` (with the summary the server answered) or `NodalClient.run(id:)`
/// (with nothing seen yet). Every call that reads a summary updates `status`. Safe to share
/// between tasks.
public final class RemoteRun: Sendable {
    public let id: String
    let connection: Connection
    private let seen: Mutex<(summary: RunSummary?, results: [ItemResult]?)>

    init(id: String, connection: Connection, summary: RunSummary? = nil, results: [ItemResult]? = nil) {
        self.id = id
        self.connection = connection
        seen = Mutex((summary, results))
    }

    /// The summary last seen (nil before the first call that reads one).
    public var status: RunSummary? { seen.withLock { $0.summary } }

    /// The item results last read: from a start with `wait`, a `resume` that waited, or `results()`.
    public var lastResults: [ItemResult]? { seen.withLock { $0.results } }

    /// Reads the summary again (`GET /runs/{runId}`).
    @discardableResult
    public func refresh() async throws -> RunSummary {
        try await fetch(query: [], timeout: Connection.callTimeout)
    }

    /// Reads the summary once the run ended or `timeout` passed, waiting on the server's side
    /// (`GET /runs/{runId}?wait=true`): one call however long the run takes, bounded by the server.
    @discardableResult
    public func refresh(waitingUpTo timeout: Duration) async throws -> RunSummary {
        try await fetch(query: [("wait", "true"), ("timeoutSecs", String(timeout.wholeSecondsRoundedUp))], timeout: timeout + Connection.callTimeout)
    }

    private func fetch(query: [(String, String)], timeout: Duration) async throws -> RunSummary {
        let reply = try await connection.call("GET", ["runs", id], query: query, timeout: timeout)
        return remember(try RunSummary(json: try ReplyReader(reply, "reply to GET /runs/{runId}").object("summary")))
    }

    /// Polls with `refresh()` every `interval` until the run ended or paused (waiting longer would
    /// change nothing by itself), and returns that summary. After `timeout` (nil: none) it throws
    /// `NodalClientError(.timeout)` carrying the summary last seen (`lastSummary`).
    @discardableResult
    public func wait(interval: Duration = .seconds(1), timeout: Duration? = nil) async throws -> RunSummary {
        try await wait(interval: interval, timeout: timeout, clock: ContinuousClock())
    }

    /// `wait(interval:timeout:)` on a clock of the caller's (tests pass one they move by hand).
    @discardableResult
    public func wait<C: Clock>(interval: Duration = .seconds(1), timeout: Duration? = nil, clock: C) async throws -> RunSummary where C.Duration == Duration {
        // A zero interval would poll the server in a tight loop.
        let interval = max(interval, .milliseconds(10))
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        while true {
            let summary = try await refresh()
            if summary.status.isSettled { return summary }
            let now = clock.now
            if let deadline, let timeout, now >= deadline {
                throw NodalClientError(
                    .timeout, "run \(id) is still \(summary.status) after \(Self.seconds(timeout)) s (\(summary.items))",
                    lastStatus: summary.json)
            }
            let pause = deadline.map { min(interval, now.duration(to: $0)) } ?? interval
            try await clock.sleep(until: now.advanced(by: pause), tolerance: nil)
        }
    }

    /// Cancels the run (`POST /runs/{runId}/cancel`) and returns its summary.
    @discardableResult
    public func cancel() async throws -> RunSummary {
        let reply = try await connection.call("POST", ["runs", id, "cancel"])
        return remember(try RunSummary(json: try ReplyReader(reply, "reply to POST /runs/{runId}/cancel").object("summary")))
    }

    /// Answers a paused run (`POST /runs/{runId}/resume`, Nodal's): each key the run waits for
    /// (as its pause names it) with its value.
    @discardableResult
    public func resume(values: JSONObject) async throws -> RunSummary {
        try await resume(body: ["values": .object(values)])
    }

    /// Answers a paused run that waits for one key, with its value.
    @discardableResult
    public func resume(value: JSON) async throws -> RunSummary {
        try await resume(body: ["value": value])
    }

    private func resume(body: JSON) async throws -> RunSummary {
        let reply = try await connection.call("POST", ["runs", id, "resume"], body: body)
        let run = try RunReply(reply, "reply to POST /runs/{runId}/resume")
        seen.withLock { seen in
            seen.summary = run.summary
            if let results = run.results { seen.results = results }
        }
        return run.summary
    }

    /// The item results (`GET /runs/{runId}/items`), by item index or as the items finished.
    public func results(order: ResultOrder = .byIndex) async throws -> [ItemResult] {
        // By index is the default, left out: Stepflow's own server reads enums in a query only as
        // numbers, and refuses the name the spec gives.
        let reply = try await connection.call("GET", ["runs", id, "items"], query: order == .byIndex ? [] : [("resultOrder", order.serverValue)])
        let list = reply["results"] == nil ? [] : try ReplyReader(reply, "reply to GET /runs/{runId}/items").array("results")
        var results: [ItemResult] = []
        results.reserveCapacity(list.count)
        for item in list { results.append(try ItemResult(json: item)) }
        seen.withLock { $0.results = results }
        return results
    }

    /// Each step's status (`GET /runs/{runId}/steps`), of every item or of one.
    public func steps(itemIndex: Int? = nil) async throws -> [JSON] {
        let reply = try await connection.call("GET", ["runs", id, "steps"], query: itemIndex.map { [("itemIndex", String($0))] } ?? [])
        return reply["steps"]?.arrayValue ?? []
    }

    /// Deletes the ended run from the server (`DELETE /runs/{runId}`).
    public func delete() async throws {
        _ = try await connection.call("DELETE", ["runs", id])
    }

    /// The run's events (`GET /runs/{runId}/events`, server-sent events): its journal from the
    /// start (or after sequence `after`), then live, ending after its `run_completed` event.
    ///
    /// A connection that drops before then is opened again with `Last-Event-ID` set to the last
    /// event seen, so each event comes once, in order. After `maxReconnects` attempts in a row
    /// that bring nothing (no event, not even a keep-alive), the sequence throws `.transport`. A
    /// refusal (404 for an unknown run) throws at once. Stopping the iteration closes the stream.
    ///
    /// - Parameter types: `STATUS_EVENT_TYPE_*` names to keep (empty: all).
    public func events(
        after: UInt64? = nil, types: [String] = [], includeResults: Bool = false, includeSubRuns: Bool = false,
        maxReconnects: Int = 5
    ) -> AsyncThrowingStream<RunStatusEvent, any Error> {
        var query: [(String, String)] = types.map { ("eventTypes", $0) }
        if includeResults { query.append(("includeResults", "true")) }
        if includeSubRuns { query.append(("includeSubRuns", "true")) }
        return EventFollower(runID: id, connection: connection, query: query, after: after, maxReconnects: max(0, maxReconnects)).start()
    }

    private func remember(_ summary: RunSummary) -> RunSummary {
        seen.withLock { $0.summary = summary }
        return summary
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = attoseconds / 100_000_000_000_000_000
        return tenths == 0 ? String(seconds) : "\(seconds).\(tenths)"
    }
}
