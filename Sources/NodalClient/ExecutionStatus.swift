public import NodalJSON

/// How a run or an item stands, as the server's `EXECUTION_STATUS_*` says it. A status this
/// client does not know is kept as `unknown` with the server's text.
public enum ExecutionStatus: Sendable, Hashable, CustomStringConvertible {
    case running
    case completed
    case failed
    case cancelled
    /// Waiting for an answer (`RemoteRun.resume`): it does not go on by itself.
    case paused
    /// The server could not recover the run after a restart.
    case recoveryFailed
    case unknown(String)

    public init(serverValue: String) {
        let name = serverValue.hasPrefix("EXECUTION_STATUS_") ? String(serverValue.dropFirst(17)) : serverValue.uppercased()
        switch name {
        case "RUNNING": self = .running
        case "COMPLETED", "SUCCESS": self = .completed
        case "FAILED": self = .failed
        case "CANCELLED", "CANCELED": self = .cancelled
        case "PAUSED": self = .paused
        case "RECOVERY_FAILED": self = .recoveryFailed
        default: self = .unknown(serverValue)
        }
    }

    /// A status as a reply carries it: the enum's name, or its number (Stepflow's own server
    /// writes enums as numbers: 1 running, 2 completed, ...); missing is UNSPECIFIED.
    public init(json: JSON?) {
        if let text = json?.stringValue {
            self.init(serverValue: text)
        } else if let number = json?.intValue {
            let names = ["UNSPECIFIED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "PAUSED", "RECOVERY_FAILED"]
            self.init(serverValue: names.indices.contains(number) ? "EXECUTION_STATUS_" + names[number] : String(number))
        } else {
            self = .unknown("EXECUTION_STATUS_UNSPECIFIED")
        }
    }

    /// As the REST API spells it (`EXECUTION_STATUS_COMPLETED`), for filters.
    public var serverValue: String {
        switch self {
        case .running: "EXECUTION_STATUS_RUNNING"
        case .completed: "EXECUTION_STATUS_COMPLETED"
        case .failed: "EXECUTION_STATUS_FAILED"
        case .cancelled: "EXECUTION_STATUS_CANCELLED"
        case .paused: "EXECUTION_STATUS_PAUSED"
        case .recoveryFailed: "EXECUTION_STATUS_RECOVERY_FAILED"
        case .unknown(let raw): raw
        }
    }

    /// Whether the run has ended (it will not change again).
    public var isFinal: Bool {
        switch self {
        case .completed, .failed, .cancelled, .recoveryFailed: true
        case .running, .paused, .unknown: false
        }
    }

    /// Whether waiting longer changes nothing by itself: the run ended, or it waits for an answer.
    public var isSettled: Bool { isFinal || self == .paused }

    public var description: String {
        switch self {
        case .running: "running"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .paused: "paused"
        case .recoveryFailed: "recovery failed"
        case .unknown(let raw): raw
        }
    }
}
