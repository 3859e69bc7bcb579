/// The enum values query parameters take, spelled as Stepflow's spec spells them. The OpenAPI
/// document lists the same ones (a test checks they agree).
package enum SpecEnums {
    package static let executionStatuses = [
        "EXECUTION_STATUS_UNSPECIFIED", "EXECUTION_STATUS_RUNNING", "EXECUTION_STATUS_COMPLETED", "EXECUTION_STATUS_FAILED",
        "EXECUTION_STATUS_CANCELLED", "EXECUTION_STATUS_PAUSED", "EXECUTION_STATUS_RECOVERY_FAILED",
    ]

    package static let resultOrders = ["RESULT_ORDER_UNSPECIFIED", "RESULT_ORDER_BY_INDEX", "RESULT_ORDER_BY_COMPLETION"]

    /// Stepflow's event types, and Nodal's `STATUS_EVENT_TYPE_RUN_PAUSED` (an item waits for an answer).
    package static let statusEventTypes = [
        "STATUS_EVENT_TYPE_UNSPECIFIED", "STATUS_EVENT_TYPE_RUN_CREATED", "STATUS_EVENT_TYPE_STEP_STARTED",
        "STATUS_EVENT_TYPE_STEP_COMPLETED", "STATUS_EVENT_TYPE_STEP_READY", "STATUS_EVENT_TYPE_ITEM_COMPLETED",
        "STATUS_EVENT_TYPE_RUN_COMPLETED", "STATUS_EVENT_TYPE_SUB_RUN_CREATED", "STATUS_EVENT_TYPE_STEPS_NEEDED",
        "STATUS_EVENT_TYPE_RUN_PAUSED",
    ]

    /// `*_UNSPECIFIED` is protobuf's "not set": read as the parameter being absent.
    package static func specified(_ value: String?) -> String? {
        guard let value, !value.hasSuffix("_UNSPECIFIED") else { return nil }
        return value
    }
}
