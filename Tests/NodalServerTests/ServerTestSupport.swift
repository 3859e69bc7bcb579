import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer

/// Runs `test` against the router over `service`, in process (no socket).
@discardableResult
func withRouter<Value: Sendable>(
    _ service: FakeRunAPI = FakeRunAPI(), configuration: ServerConfiguration = ServerConfiguration(),
    clock: any Clock<Duration> = ContinuousClock(), _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Value
) async throws -> Value {
    let application = Application(router: buildRouter(service: service, configuration: configuration, clock: clock))
    return try await application.test(.router) { client in try await test(client) }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    /// The body as JSON; `.string("not JSON: ...")` when it is not, so expectations on it fail
    /// with the text in view.
    var json: JSON { (try? JSON(parsing: text)) ?? .string("not JSON: \(text)") }
}

extension TestClientProtocol {
    func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}
