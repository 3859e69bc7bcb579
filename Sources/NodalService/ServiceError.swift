public import NodalJSON

/// A request the run service refuses or cannot serve. The HTTP server turns it into a response
/// with `status` and a JSON body (Stepflow's `Status`: `code`, `message`, plus `field` and
/// Nodal's `error` code); JSON-RPC turns it into an error object.
///
/// Every refusal of bad input names what was wrong in `field` (a JSON path into the request such
/// as `input[2].Document.file_metadata.uri`, or a query parameter's name) and says it in `message`.
public struct ServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status it answers with: 400 bad request, 401 unauthorized, 404 unknown run, flow or
    /// blob, 409 conflict (the run is not in a state for it), 413 too large, 422 the flow cannot
    /// run, 503 shutting down, 500 the store failed.
    public var status: Int
    /// A stable code in capitals (`INVALID_FIELD`, `RUN_NOT_FOUND`, ...), documented in README.
    public var code: String
    public var message: String
    /// The field, path or parameter the error is about, when it is about one.
    public var field: String?

    public init(status: Int, code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { field.map { "\(code) (\($0)): \(message)" } ?? "\(code): \(message)" }

    /// 400: a field of the request is missing, of the wrong type or out of range.
    public static func invalidField(_ field: String, _ message: String) -> ServiceError {
        ServiceError(status: 400, code: "INVALID_FIELD", message, field: field)
    }

    /// 404: no run, flow, step or blob with this id.
    public static func notFound(_ code: String, _ message: String, field: String? = nil) -> ServiceError {
        ServiceError(status: 404, code: code, message, field: field)
    }

    /// The body the server answers with: Stepflow's `Status` (`code` is the HTTP status, as
    /// Stepflow's REST layer gives it) with Nodal's code and the field.
    public var json: JSON {
        var object: JSONObject = ["code": .int(status), "message": .string(message), "error": .string(code)]
        if let field { object["field"] = .string(field) }
        return .object(object)
    }
}
