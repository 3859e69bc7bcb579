/// Where `nodal serve` listens and what it accepts (README: The run service).
public struct ServerConfiguration: Sendable, Hashable {
    /// 127.0.0.1 unless told otherwise: anything else needs a token.
    public var host: String
    /// 7837, Stepflow's default port too.
    public var port: Int
    /// The bearer token every route but `/health` checks, when set.
    public var token: String?
    /// The largest request body accepted, in bytes (larger: 413).
    public var maxBodyBytes: Int

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 7837
    public static let defaultMaxBodyBytes = 16 << 20

    public init(host: String = defaultHost, port: Int = defaultPort, token: String? = nil, maxBodyBytes: Int = defaultMaxBodyBytes) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether `host` is a loopback address, the only kind that may be bound without a token.
    public var isLoopback: Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }
}
