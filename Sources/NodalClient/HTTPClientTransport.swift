internal import AsyncHTTPClient
internal import NIOCore
internal import NIOHTTP1

/// The transport the client uses outside tests: AsyncHTTPClient.
struct HTTPClientTransport: ClientTransport {
    let client: HTTPClient
    /// The largest reply body read (a run's results can be large; a reply past this is refused
    /// rather than held in memory without bound).
    let maxReplyBytes: Int

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let response = try await client.execute(makeRequest(request), timeout: TimeAmount(request.timeout ?? .seconds(60)))
        let body = try await response.body.collect(upTo: maxReplyBytes)
        return TransportResponse(status: Int(response.status.code), body: Array(buffer: body))
    }

    func stream(_ request: TransportRequest) async throws -> TransportStream {
        // The deadline bounds the wait for the reply's head; the body then streams for as long
        // as the run goes on.
        let response = try await client.execute(makeRequest(request), timeout: TimeAmount(Connection.callTimeout))
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        // The body is read by a task of its own so the consumer sees chunks as they arrive;
        // a consumer that stops listening cancels it, which closes the connection.
        let reader = Task {
            do {
                for try await buffer in response.body { continuation.yield(Array(buffer: buffer)) }
                continuation.finish()
            } catch let error as HTTPClientError where error == .readTimeout {
                continuation.finish(throwing: StreamIdle())
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in reader.cancel() }
        return TransportStream(status: Int(response.status.code), chunks: chunks)
    }

    private func makeRequest(_ request: TransportRequest) -> HTTPClientRequest {
        var built = HTTPClientRequest(url: request.url)
        built.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { built.headers.add(name: header.name, value: header.value) }
        if let body = request.body { built.body = .bytes(ByteBuffer(bytes: body)) }
        return built
    }
}
