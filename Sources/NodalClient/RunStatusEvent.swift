public import NodalJSON

/// One event of a run's journal, as `GET /runs/{runId}/events` streams it: its sequence number
/// (the SSE id), its name (`run_created`, `step_started`, `step_completed`, `item_completed`,
/// `run_completed`, ...) and its data, a Stepflow `StatusEvent` (`sequenceNumber`, `timestamp`
/// and one of `runCreated`, `stepStarted`, ...).
public struct RunStatusEvent: Sendable, Hashable {
    public var sequence: UInt64
    public var name: String
    public var data: JSON

    public init(sequence: UInt64, name: String, data: JSON) {
        self.sequence = sequence
        self.name = name
        self.data = data
    }

    /// The event's own part of `data`: `data.stepStarted` for `step_started`, and so on.
    public var payload: JSON? { data[Self.camelCase(name)] }

    /// For `run_completed`: how the run ended.
    public var completedStatus: ExecutionStatus? {
        guard name == "run_completed" else { return nil }
        return ExecutionStatus(json: payload?["status"])
    }

    /// The SSE line and `"data"` JSON as one value: `{"id", "event", "data"}` (JSON lines output).
    public var json: JSON {
        ["id": .string(String(sequence)), "event": .string(name), "data": data]
    }

    /// Reads a framed event. The sequence is the SSE id, else the data's `sequenceNumber`; the
    /// name is the SSE event, else the one `StatusEvent` key beside those two.
    init(_ event: ServerSentEvent) throws(NodalClientError) {
        let data: JSON
        do { data = try JSON(parsing: event.data) } catch {
            throw NodalClientError(.invalidReply, "an event's data is not JSON (\(error)): \(event.data.prefix(200))")
        }
        guard let sequence = event.id.flatMap(UInt64.init) ?? data["sequenceNumber"]?.looseUInt64 else {
            throw NodalClientError(.invalidReply, "an event has no sequence number (neither an SSE id nor sequenceNumber)", body: data)
        }
        let name = event.name ?? data.objectValue?.keys.first { $0 != "sequenceNumber" && $0 != "timestamp" }.map(Self.snakeCase)
        guard let name else {
            throw NodalClientError(.invalidReply, "event \(sequence) has no name (neither an SSE event nor a StatusEvent field)", body: data)
        }
        self.init(sequence: sequence, name: name, data: data)
    }

    static func camelCase(_ name: String) -> String {
        var result = ""
        var upper = false
        for character in name {
            if character == "_" { upper = true; continue }
            result += upper ? character.uppercased() : String(character)
            upper = false
        }
        return result
    }

    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
        return result
    }
}
