import NodalJSON

/// Follows a run's event stream across dropped connections (`RemoteRun.events`).
struct EventFollower: Sendable {
    let runID: String
    let connection: Connection
    let query: [(String, String)]
    let after: UInt64?
    let maxReconnects: Int
    /// The first pause before opening a dropped stream again; it doubles up to `maxDelay`, unless
    /// the server asked for another with `retry:`.
    var firstDelay: Duration = .milliseconds(250)
    static let maxDelay: Duration = .seconds(2)

    func start() -> AsyncThrowingStream<RunStatusEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RunStatusEvent.self)
        let task = Task {
            do {
                try await follow { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func follow(_ deliver: (RunStatusEvent) -> Void) async throws {
        var last = after
        var attempt = 0
        var failures = 0
        var serverDelay: Duration?
        var lastProblem = ""
        while true {
            try Task.checkCancellation()
            // The first connection asks for the journal after `after` (`since`); a reconnection says
            // where it stopped with `Last-Event-ID`, as an EventSource does.
            var query = self.query
            var headers: [(String, String)] = []
            if attempt == 0, let after { query.append(("since", String(after))) }
            else if attempt > 0, let last { headers.append(("Last-Event-ID", String(last))) }
            attempt += 1
            var request = try connection.request("GET", ["runs", runID, "events"], query: query, accept: "text/event-stream", timeout: nil)
            request.headers += headers.map { (name: $0.0, value: $0.1) }
            var progressed = false
            do {
                let response = try await connection.transport.stream(request)
                if !(200..<300).contains(response.status) {
                    var body: [UInt8] = []
                    for try await chunk in response.chunks where body.count < 1 << 16 { body += chunk }
                    let error = Connection.refusal(status: response.status, body: body, parsed: nil, request)
                    // 503: the server is stopping or starting; anything else will not change.
                    guard response.status == 503 else { throw error }
                    lastProblem = error.message
                } else {
                    var parser = ServerSentEventParser()
                    for try await chunk in response.chunks {
                        let framed: [ServerSentEvent]
                        do { framed = try parser.feed(chunk) } catch {
                            throw NodalClientError(.invalidReply, "run \(runID) events: \(error)")
                        }
                        if parser.linesRead > 0 { progressed = true }
                        if let retry = parser.retryMilliseconds { serverDelay = .milliseconds(retry) }
                        for frame in framed {
                            let event = try RunStatusEvent(frame)
                            // A server that sends the journal again from the start is not a reason
                            // to show an event twice.
                            if let last, event.sequence <= last { continue }
                            last = event.sequence
                            deliver(event)
                            if event.completes(runID) { return }
                        }
                    }
                    lastProblem = "the stream ended before the run's run_completed event"
                }
            } catch let error as NodalClientError where error.kind != .transport {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch let idle as StreamIdle {
                progressed = true
                lastProblem = idle.description
            } catch {
                try Task.checkCancellation()
                lastProblem = Connection.transportError(error, request).message
            }
            failures = progressed ? 1 : failures + 1
            if failures > maxReconnects {
                let seen = last.map { "the last event seen was \($0)" } ?? "no event was seen"
                throw NodalClientError(.transport, "run \(runID) events: gave up after \(failures) attempts in a row that brought nothing (\(seen)): \(lastProblem)")
            }
            let backoff = min(Self.maxDelay, firstDelay * (1 << min(failures - 1, 8)))
            try await Task.sleep(for: serverDelay ?? backoff)
        }
    }
}

extension RunStatusEvent {
    /// Whether this is the `run_completed` of `runID` (a sub-run's, with `includeSubRuns`, is not).
    func completes(_ runID: String) -> Bool {
        guard name == "run_completed" else { return false }
        return payload?["runId"]?.stringValue.map { $0 == runID } ?? true
    }
}
