public import NodalService

/// Where `nodal serve` listens and what it accepts (README: The run service).
public struct ServerConfiguration: Sendable, Hashable {
    /// 127.0.0.1 unless told otherwise: anything else needs a token.
    public var host: String
    /// 7837, Stepflow's default port too. 0 asks the system for a free one.
    public var port: Int
    /// The bearer token every route but `/health` checks, when set.
    public var token: String?
    /// The largest request body accepted, in bytes (larger: 413).
    public var maxBodyBytes: Int
    /// How long an event stream may stay silent before the server writes a `: keepalive` comment,
    /// so proxies that drop idle connections keep it open.
    public var eventKeepalive: Duration
    /// The run service's limits, which the served OpenAPI document states (the service enforces
    /// them): give the ones the service was made with.
    public var serviceLimits: ServiceLimits
    /// How long a connection may send nothing while the server waits for a request (between
    /// requests, or in the middle of one's head or body) before it is closed, so clients that
    /// open connections and never finish a request cannot use up the server. A response being
    /// written (an event stream, a long wait) is not idle.
    public var idleTimeout: Duration

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 7837
    public static let defaultMaxBodyBytes = 16 << 20
    public static let defaultEventKeepalive = Duration.seconds(15)
    public static let defaultIdleTimeout = Duration.seconds(60)

    public init(
        host: String = defaultHost, port: Int = defaultPort, token: String? = nil, maxBodyBytes: Int = defaultMaxBodyBytes,
        eventKeepalive: Duration = defaultEventKeepalive, serviceLimits: ServiceLimits = .default,
        idleTimeout: Duration = defaultIdleTimeout
    ) {
        self.idleTimeout = idleTimeout
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.eventKeepalive = eventKeepalive
        self.serviceLimits = serviceLimits
    }

    /// Whether `host` is a loopback address, the only kind that may be bound without a token.
    /// A name such as `127.example.com` is not: only `localhost`, `::1` and `127.x.y.z`.
    public var isLoopback: Bool {
        if host == "::1" || host == "localhost" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { octet in octet.count <= 3 && !octet.isEmpty && octet.allSatisfy { ("0"..."9").contains($0) } && Int(octet)! <= 255 }
    }

    /// What is wrong with this configuration for starting a server, if anything: a host other
    /// than loopback without a token, a port or limit out of range.
    public func problem() -> String? {
        if !isLoopback && (token ?? "").isEmpty {
            return "refusing to listen on \(host) without a token: anyone who can reach it could run flows. Give one with --token-file FILE or NODAL_TOKEN, or listen on 127.0.0.1"
        }
        if let token, token.isEmpty { return "the token is empty" }
        if !(0...65535).contains(port) { return "the port must be 0 to 65535, not \(port)" }
        if maxBodyBytes < 1 { return "the largest body must be at least 1 byte, not \(maxBodyBytes)" }
        if eventKeepalive <= .zero { return "the event keepalive interval must be more than 0" }
        if idleTimeout <= .zero { return "the idle timeout must be more than 0" }
        return nil
    }
}
