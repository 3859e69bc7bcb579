import AsyncHTTPClient
internal import NIOCore

extension NodalClient {
    /// Runs `body` with a client on an HTTP client of its own, shut down when `body` returns.
    ///
    /// Unlike `HTTPClient.shared`, which retries a refused connection until the request's
    /// deadline, this one reports a server that is down at once, as a command-line tool wants.
    public static func withClient<T>(
        baseURL: String, token: String? = nil, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(90),
        _ body: (NodalClient) async throws -> T
    ) async throws -> T {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: TimeAmount(connectTimeout), read: TimeAmount(readTimeout)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let client = NodalClient(baseURL: baseURL, token: token, httpClient: http)
        do {
            let result = try await body(client)
            try? await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
