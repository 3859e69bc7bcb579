/// One HTTP request as the client sends it. The client builds these; a transport only moves them,
/// so tests can put a transport of their own between the client and a server (one that drops an
/// event stream halfway, or answers without a server at all).
package struct TransportRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]?
    /// How long the whole exchange may take; nil for event streams, which stay open.
    package var timeout: Duration?

    package init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A reply read to its end.
package struct TransportResponse: Sendable {
    package var status: Int
    package var body: [UInt8]

    package init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// A reply whose body arrives as it is sent (server-sent events).
package struct TransportStream: Sendable {
    package var status: Int
    package var chunks: AsyncThrowingStream<[UInt8], any Error>

    package init(status: Int, chunks: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.chunks = chunks
    }
}

/// What the client needs of HTTP. Errors thrown here are the connection's (the client reports
/// them as `.transport`); an HTTP error status is a reply, not an error.
package protocol ClientTransport: Sendable {
    func send(_ request: TransportRequest) async throws -> TransportResponse
    func stream(_ request: TransportRequest) async throws -> TransportStream
}

/// A stream the server kept open but sent nothing on for longer than the HTTP client's read
/// timeout: the server is there, the run is quiet. Not a failed attempt.
package struct StreamIdle: Error, CustomStringConvertible {
    package init() {}
    package var description: String { "the event stream was idle past the HTTP client's read timeout" }
}
