import NodalCore
import NodalJSON
import FoundationEssentials

/// The names Stepflow's API gives statuses and error codes, and the form of its timestamps.
enum WireNames {
    /// `EXECUTION_STATUS_*` for a run's or item's status.
    static func executionStatus(_ status: RunRecord.Status) -> String {
        switch status {
        case .running: "EXECUTION_STATUS_RUNNING"
        case .success: "EXECUTION_STATUS_COMPLETED"
        case .failed: "EXECUTION_STATUS_FAILED"
        case .canceled: "EXECUTION_STATUS_CANCELLED"
        case .paused: "EXECUTION_STATUS_PAUSED"
        }
    }

    /// The run status `GET /runs?status=` names, or nil for one Nodal never gives.
    static func status(fromExecutionStatus name: String) -> RunRecord.Status? {
        RunRecord.Status.allCases.first { executionStatus($0) == name }
    }

    /// `EXECUTION_STATUS_*` for a step's status (`StepStatus.rawValue`, or `running`). Steps that
    /// did not run (skipped, not run, not reached yet) have no status of Stepflow's:
    /// `EXECUTION_STATUS_UNSPECIFIED`, with Nodal's own beside it (`nodalStatus`).
    static func stepStatus(_ status: String) -> String {
        switch status {
        case "running": "EXECUTION_STATUS_RUNNING"
        case "success": "EXECUTION_STATUS_COMPLETED"
        case "failed": "EXECUTION_STATUS_FAILED"
        case "canceled": "EXECUTION_STATUS_CANCELLED"
        case "paused": "EXECUTION_STATUS_PAUSED"
        default: "EXECUTION_STATUS_UNSPECIFIED"
        }
    }

    /// The seed's JSON-RPC status words (`runs/get`): pending, running, success, failed,
    /// cancelled, and Nodal's paused.
    static func rpcStatus(_ status: RunRecord.Status, started: Bool) -> String {
        switch status {
        case .running: started ? "running" : "pending"
        case .success: "success"
        case .failed: "failed"
        case .canceled: "cancelled"
        case .paused: "paused"
        }
    }

    /// `TASK_ERROR_CODE_*` for one of Nodal's error codes; Nodal's own code goes beside it
    /// (`errorDetails.code`).
    static func taskErrorCode(_ code: String) -> String {
        switch code {
        case "TIMEOUT": "TASK_ERROR_CODE_TIMEOUT"
        case "INVALID_INPUT": "TASK_ERROR_CODE_INVALID_INPUT"
        case "INVALID_FLOW", "PLUGIN_UNAVAILABLE", "NO_MATCHING_ROUTE", "BUILTIN_UNRESOLVED":
            "TASK_ERROR_CODE_COMPONENT_NOT_FOUND"
        case "CANCELED", "DRAINED", "LEASE_LOST": "TASK_ERROR_CODE_CANCELLED"
        case "INPUT_ERROR", "OUTPUT_ERROR": "TASK_ERROR_CODE_EXPRESSION_FAILURE"
        case "STORE_ERROR", "STORE_UNSUPPORTED", "RUN_OWNED", "RUN_EXISTS": "TASK_ERROR_CODE_ORCHESTRATOR_ERROR"
        default: "TASK_ERROR_CODE_COMPONENT_FAILED"
        }
    }

    /// ISO 8601 in UTC with milliseconds, as the engine writes its times.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A timestamp the engine wrote (`RunResult.json`), read back.
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
