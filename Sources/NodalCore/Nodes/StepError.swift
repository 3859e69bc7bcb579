public import NodalJSON
/// Why a step failed: a stable code, a message for people and optional JSON details.
///
/// Plugins set it through the ABI's `set_error`; Swift nodes throw it; the engine uses it for
/// its own failures (codes such as `INVALID_OUTPUT`, `INPUT_ERROR`, `NO_MATCHING_ROUTE`). A step
/// that fails its run passes its error on unchanged as the run's (`RunFailure`).
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

    /// Reads `json`'s shape back (from a checkpoint).
    init?(json: JSON) {
        guard let code = json["code"]?.stringValue else { return nil }
        self.init(code: code, message: json["message"]?.stringValue ?? "", details: json["details"])
    }

    var json: JSON {
        var object: JSONObject = ["code": .string(code), "message": .string(message)]
        if let details { object["details"] = details }
        return .object(object)
    }
}
