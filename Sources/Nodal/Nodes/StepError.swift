/// Why a step failed: a stable code, a message for people and optional JSON details.
///
/// Plugins set it through the ABI's `set_error`; Swift nodes throw it; the engine uses it for
/// its own failures (codes such as `INVALID_OUTPUT`, `INPUT_ERROR`, `NO_BEHAVIOR`).
public struct StepError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var details: JSON?

    public init(code: String, message: String, details: JSON? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code): \(message)" }

    var json: JSON {
        var object: JSONObject = ["code": .string(code), "message": .string(message)]
        if let details { object["details"] = details }
        return .object(object)
    }
}
