/// An error a node reports: it fails the step with this code, message and details.
///
/// Throw it from `run`. Any other error a node throws fails the step with the code `NODE_FAILED`
/// and the error's description as the message.
public struct NodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A short stable identifier, such as `INVALID_INPUT`; flows match on it (`onError`, tests).
    public var code: String
    /// For people.
    public var message: String
    /// Optional structured details (the step error's `details`).
    public var details: JSON?

    public init(code: String, message: String, details: JSON? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// `INVALID_INPUT` with a message that names the field.
    public static func invalidInput(_ message: String, details: JSON? = nil) -> NodeError {
        NodeError(code: "INVALID_INPUT", message: message, details: details)
    }

    public var description: String { "\(code): \(message)" }
}
