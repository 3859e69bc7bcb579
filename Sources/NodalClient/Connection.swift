import NodalJSON

/// What every call shares: where the server is, the token, the transport, and how a reply
/// becomes JSON or a `NodalClientError`.
struct Connection: Sendable {
    let root: APIRoot
    let token: String?
    let transport: any ClientTransport
    /// The time a call may take when it does not wait on the server's side.
    static let callTimeout: Duration = .seconds(60)

    func request(
        _ method: String, _ segments: [String], query: [(String, String)] = [], body: JSON? = nil,
        accept: String = "application/json", timeout: Duration? = Connection.callTimeout
    ) throws(NodalClientError) -> TransportRequest {
        var headers: [(name: String, value: String)] = [("Accept", accept)]
        if let token { headers.append(("Authorization", "Bearer " + token)) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return TransportRequest(method: method, url: try root.url(segments, query: query), headers: headers, body: body?.serializedBytes(), timeout: timeout)
    }

    /// Sends a request and returns the reply's JSON body (an empty body is `{}`).
    func call(
        _ method: String, _ segments: [String], query: [(String, String)] = [], body: JSON? = nil,
        timeout: Duration = Connection.callTimeout
    ) async throws -> JSON {
        let request = try request(method, segments, query: query, body: body, timeout: timeout)
        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw Self.transportError(error, request)
        }
        return try Self.reply(status: response.status, body: response.body, request)
    }

    static func transportError(_ error: any Error, _ request: TransportRequest) -> NodalClientError {
        if let error = error as? NodalClientError { return error }
        return NodalClientError(.transport, "\(request.method) \(request.url): \(error)")
    }

    /// A 2xx reply's JSON, or the error the reply says.
    static func reply(status: Int, body: [UInt8], _ request: TransportRequest) throws(NodalClientError) -> JSON {
        let parsed: JSON?
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            parsed = (200..<300).contains(status) ? .object(JSONObject()) : nil
        } else {
            parsed = try? JSON(parsing: body)
        }
        guard (200..<300).contains(status) else { throw refusal(status: status, body: body, parsed: parsed, request) }
        guard let parsed else {
            throw NodalClientError(.invalidReply, "\(request.method) \(request.url): the reply is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return parsed
    }

    /// The error a non-2xx reply stands for. The server's `Status` body ({code, message, error,
    /// field}) says why; a proxy's HTML page does not, so its start is quoted instead.
    static func refusal(status: Int, body: [UInt8], parsed: JSON?, _ request: TransportRequest) -> NodalClientError {
        let parsed = parsed ?? (try? JSON(parsing: body))
        var message = "\(request.method) \(request.url): HTTP \(status)"
        if let parsed {
            // Nodal's `Status` ({code, message, error, field}), or the `{error: {code, message,
            // status}}` Stepflow's own server sends.
            var status = parsed
            if case .object? = parsed["error"] { status = parsed["error"]! }
            if let code = status["error"]?.stringValue ?? status["status"]?.stringValue { message += " \(code)" }
            if let field = status["field"]?.stringValue { message += " (\(field))" }
            if let text = status["message"]?.stringValue { message += ": \(text)" }
        } else if !body.isEmpty {
            message += ": " + String(decoding: body.prefix(200), as: UTF8.self)
        }
        return NodalClientError(.server(status: status), message, body: parsed)
    }
}
