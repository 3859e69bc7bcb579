public import FoundationEssentials
public import NodalJSON

/// One item's result (Stepflow's `ItemResult`, with the execution time and error details the
/// seed's results carry).
public struct ItemResult: Sendable, Hashable {
    /// The item's place in the run's `input` list (0-based).
    public var itemIndex: Int
    public var status: ExecutionStatus
    /// The flow's output, when the item completed.
    public var output: JSON?
    public var errorMessage: String?
    /// `TASK_ERROR_CODE_*`, or Nodal's own code (`STEP_FAILED`, ...).
    public var errorCode: String?
    public var errorDetails: JSON?
    public var executionTimeMs: Double?
    public var completedAt: Date?
    /// The result as the server sent it.
    public var json: JSON

    public init(json: JSON) throws(NodalClientError) {
        _ = try ReplyReader(json, "item result")
        itemIndex = json["itemIndex"]?.looseInt ?? 0
        status = ExecutionStatus(json: json["status"])
        output = json["output"]
        errorMessage = json["errorMessage"]?.stringValue
        // An enum: its name, or its number from a server that writes enums as numbers.
        errorCode = json["errorCode"]?.stringValue ?? json["errorCode"]?.intValue.map(String.init)
        errorDetails = json["errorDetails"]?.present
        executionTimeMs = json["executionTimeMs"]?.looseDouble
        completedAt = json["completedAt"]?.stringValue.flatMap(Timestamp.parse)
        self.json = json
    }
}

/// The order of a run's item results.
public enum ResultOrder: Sendable, Hashable {
    /// As the items were given.
    case byIndex
    /// As they finished.
    case byCompletion

    var serverValue: String {
        switch self {
        case .byIndex: "RESULT_ORDER_BY_INDEX"
        case .byCompletion: "RESULT_ORDER_BY_COMPLETION"
        }
    }
}
