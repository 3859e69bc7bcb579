import NodalCore
import NodalJSON
import FoundationEssentials

/// How one item's run ended (or paused), as the service shows it: read from the engine's
/// `RunResult` while the service runs it, or from the item's stored `RunRecord.result` (the same
/// JSON) after a restart, so both read the same.
struct ItemOutcome: Sendable {
    var status: RunStatus
    var output: JSON?
    var error: ItemError?
    var startedAt: Date?
    var endedAt: Date
    var durationMs: Double
    /// The flow's top-level steps as the run left them.
    var steps: [StepOutcome]
    /// For a paused item: what it waits for.
    var pause: Pause?

    struct ItemError: Sendable {
        var code: String
        var message: String
        var step: String?
        var details: JSON?
    }

    struct Pause: Sendable {
        var key: String
        var step: String
        var value: JSON
    }

    /// From the engine's result, field by field (what `init(json:)` reads from its JSON).
    init(_ result: RunResult) {
        status = result.status
        output = result.output
        error = result.error.map { ItemError(code: $0.code, message: $0.message, step: $0.step, details: $0.details) }
        startedAt = result.startedAt
        endedAt = result.endedAt
        durationMs = RequestFields.seconds(result.duration) * 1000
        steps = result.steps.map { step in
            StepOutcome(
                id: step.id, component: step.component, status: step.status.rawValue, output: step.output, errorCode: step.error?.code,
                errorMessage: step.error?.message, attempts: step.attempts, startedAt: step.startedAt, endedAt: step.endedAt)
        }
        pause = result.pause.map { Pause(key: $0.key, step: $0.step, value: $0.value) }
    }

    init(status: RunStatus, output: JSON? = nil, error: ItemError? = nil, endedAt: Date) {
        self.status = status
        self.output = output
        self.error = error
        self.endedAt = endedAt
        durationMs = 0
        steps = []
    }

    /// Reads `RunResult.json` back; nil when it is not one.
    init?(json: JSON) {
        guard let statusText = json["status"]?.stringValue, let status = RunStatus(rawValue: statusText) else { return nil }
        self.status = status
        output = json["output"].flatMap { $0.isNull ? nil : $0 }
        if let error = json["error"], let code = error["code"]?.stringValue {
            self.error = ItemError(
                code: code, message: error["message"]?.stringValue ?? "", step: error["step"]?.stringValue, details: error["details"])
        }
        startedAt = WireNames.date(json["startedAt"]?.stringValue)
        endedAt = WireNames.date(json["endedAt"]?.stringValue) ?? startedAt ?? Date()
        durationMs = json["durationMs"]?.doubleValue ?? 0
        steps = (json["steps"]?.arrayValue ?? []).compactMap(StepOutcome.init(json:))
        if let pause = json["pause"], let key = pause["key"]?.stringValue {
            self.pause = Pause(key: key, step: pause["step"]?.stringValue ?? key, value: pause["value"] ?? .null)
        }
    }

    /// An item that never ran because its run was cancelled (or ended) first.
    static func notStarted(at date: Date) -> ItemOutcome {
        ItemOutcome(
            status: .canceled, error: ItemError(code: "CANCELED", message: "the run was cancelled before this item started"),
            endedAt: date)
    }

    /// An item that could not be run again (its resume was refused).
    static func failed(code: String, message: String, at date: Date) -> ItemOutcome {
        ItemOutcome(status: .failed, error: ItemError(code: code, message: message), endedAt: date)
    }
}

/// One step as an item's run left it.
struct StepOutcome: Sendable {
    var id: String
    var component: String
    /// `StepStatus.rawValue`, or `running` for a step going on now.
    var status: String
    var output: JSON?
    var errorCode: String?
    var errorMessage: String?
    var attempts: Int
    var startedAt: Date?
    var endedAt: Date?

    init(id: String, component: String, status: String, output: JSON? = nil, errorCode: String? = nil, errorMessage: String? = nil,
         attempts: Int = 0, startedAt: Date? = nil, endedAt: Date? = nil) {
        self.id = id
        self.component = component
        self.status = status
        self.output = output
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.attempts = attempts
        self.startedAt = startedAt
        self.endedAt = endedAt
    }

    init?(json: JSON) {
        guard let id = json["id"]?.stringValue, let status = json["status"]?.stringValue else { return nil }
        self.init(
            id: id, component: json["component"]?.stringValue ?? "", status: status, output: json["output"],
            errorCode: json["error"]?["code"]?.stringValue, errorMessage: json["error"]?["message"]?.stringValue,
            attempts: json["attempts"]?.intValue ?? 0, startedAt: WireNames.date(json["startedAt"]?.stringValue),
            endedAt: WireNames.date(json["endedAt"]?.stringValue))
    }
}
