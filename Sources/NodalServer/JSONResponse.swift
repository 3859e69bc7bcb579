import Hummingbird
import NodalJSON
import NodalService

extension Response {
    /// A JSON body with its length, `application/json`.
    static func json(_ value: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serializedBytes())))
    }

    /// A refusal: `ServiceError.json` with the error's status. A status outside 400...599 from a
    /// service bug is answered as 500 rather than trusted.
    static func error(_ error: ServiceError, headers: HTTPFields = [:]) -> Response {
        var error = error
        if !(400...599).contains(error.status) { error.status = 500 }
        return json(error.json, status: HTTPResponse.Status(code: error.status), headers: headers)
    }
}

extension ServiceError {
    /// Something the server did not expect went wrong while answering; the message says what,
    /// so an operator can find it, without the request being at fault.
    static func internalError(_ error: any Error) -> ServiceError {
        ServiceError(status: 500, code: "INTERNAL", "the server failed while answering: \(error)")
    }
}
