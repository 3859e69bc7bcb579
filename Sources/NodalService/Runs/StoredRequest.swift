import NodalCore
import NodalJSON

/// What a service run needs to be run again after a restart, as it is kept in
/// `ServiceRunRecord.request`: the items as resolved when the run was created (so a restart does
/// not resolve them again: a file input is a blob by then), the overrides as the client sent them
/// (read against the flow again), the variables and the item concurrency. It also carries where the
/// run's event journal stands, so that sequence numbers keep increasing across restarts.
struct StoredRequest: Sendable {
    var items: [ResolvedItem]
    /// `overrides` as sent: step id to `{timeoutSecs?, onError?}`.
    var overrides: [(step: String, value: JSON)]
    var variables: [String: JSON]
    var maxConcurrency: Int
    /// Sequence numbers of this life of the run's journal start after it: each restart that picks
    /// the run up moves it past every number used before (`journalEpoch`).
    var journalBase: UInt64 = 0
    /// The last sequence number of the journal when the run paused or ended: a journal rebuilt from
    /// the store ends at the same number.
    var lastSequence: UInt64?

    /// The sequence numbers one life of a journal may use.
    static let journalEpoch: UInt64 = 1 << 32

    init(items: [ResolvedItem], overrides: [(step: String, value: JSON)], variables: [String: JSON], maxConcurrency: Int) {
        self.items = items
        self.overrides = overrides
        self.variables = variables
        self.maxConcurrency = maxConcurrency
    }

    var json: JSON {
        var object: JSONObject = [
            "items": .array(items.map { item in
                var entry: JSONObject = ["input": item.input]
                if !item.stepInputs.isEmpty {
                    entry["stepInputs"] = .array(item.stepInputs.map {
                        ["step": .string($0.step), "field": .string($0.field), "value": $0.value]
                    })
                }
                return .object(entry)
            }),
            "overrides": .object(JSONObject(overrides.map { ($0.step, $0.value) })),
            "variables": .object(JSONObject(variables.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            "maxConcurrency": .int(maxConcurrency),
            "journalBase": .string(String(journalBase)),
        ]
        if let lastSequence { object["lastSequence"] = .string(String(lastSequence)) }
        return .object(object)
    }

    /// Reads what `json` wrote; nil when the record holds something else (then the run cannot be
    /// run again, and recovery says so).
    init?(json: JSON) {
        guard let items = json["items"]?.arrayValue else { return nil }
        var resolved: [ResolvedItem] = []
        resolved.reserveCapacity(items.count)
        for item in items {
            guard let input = item["input"] else { return nil }
            let stepInputs = (item["stepInputs"]?.arrayValue ?? []).compactMap { entry -> StepInputOverride? in
                guard let step = entry["step"]?.stringValue, let field = entry["field"]?.stringValue else { return nil }
                return StepInputOverride(step: step, field: field, value: entry["value"] ?? .null)
            }
            resolved.append(ResolvedItem(input: input, stepInputs: stepInputs))
        }
        self.items = resolved
        overrides = (json["overrides"]?.objectValue ?? [:]).map { ($0.key, $0.value) }
        variables = Dictionary((json["variables"]?.objectValue ?? [:]).map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        maxConcurrency = max(1, json["maxConcurrency"]?.intValue ?? 1)
        journalBase = json["journalBase"]?.stringValue.flatMap { UInt64($0) } ?? 0
        lastSequence = json["lastSequence"]?.stringValue.flatMap { UInt64($0) }
    }
}

extension UInt64 {
    /// The base of the next life of a journal: past every number this one could use (a base so
    /// high that no further life fits stays where it is rather than wrap around).
    var nextEpoch: UInt64 {
        let (next, overflow) = addingReportingOverflow(StoredRequest.journalEpoch)
        return overflow || next > UInt64.max - StoredRequest.journalEpoch ? self : next
    }
}
