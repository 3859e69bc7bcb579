public import NodalJSON

/// Why a call to a Nodal server failed: it could not be reached, it refused the request (with its
/// HTTP status and the error body it sent), or its reply was not what the API promises.
public struct NodalClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No connection, or it broke.
        case transport
        /// The server answered with a 4xx or 5xx status.
        case server(status: Int)
        /// The reply could not be read as the API's JSON.
        case invalidReply
        /// `storeFlow`: the server checked the flow and did not store it; `body` is its reply,
        /// with the diagnostics.
        case flowRejected
        /// A wait ran out; `lastStatus` holds the run as last seen.
        case timeout
    }

    public var kind: Kind
    public var message: String
    /// The server's error body (`{code, message, error, field}`), when it sent one.
    public var body: JSON?
    /// For `.timeout`: the run's summary as the last refresh saw it.
    public var lastStatus: JSON?

    public init(_ kind: Kind, _ message: String, body: JSON? = nil, lastStatus: JSON? = nil) {
        self.kind = kind
        self.message = message
        self.body = body
        self.lastStatus = lastStatus
    }

    public var description: String { message }

    /// For `.timeout`: `lastStatus` read as a summary.
    public var lastSummary: RunSummary? { lastStatus.flatMap { try? RunSummary(json: $0) } }
}
