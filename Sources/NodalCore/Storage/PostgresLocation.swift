import NodalJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL database as a `--store` URL names it (libpq's URL form):
///
/// ```
/// postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require&pool_size=20
/// postgresql://nodal@db.internal/nodal
/// postgres://nodal@%2Fvar%2Frun%2Fpostgresql/nodal        a Unix socket's folder as the host
/// postgres://nodal@/nodal?host=/var/run/postgresql&port=5433
/// ```
///
/// A host that starts with `/` (written `%2F...` in the host part, or in `?host=`) is the folder
/// of the server's Unix socket (`FOLDER/.s.PGSQL.PORT`); no host means `/var/run/postgresql`, as
/// for libpq on Debian. The port defaults to 5432, the user to the user running Nodal, the database
/// to the user's name. Query parameters: `host`, `port`, `user`, `password`, `dbname`, `sslmode`
/// (`disable`, `allow`, `prefer` (the default), `require`, `verify-ca`, `verify-full`), and
/// `pool_size` (the most connections the store opens; default 10). Other parameters are refused,
/// so a misspelled one is not silently ignored.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS (libpq's `sslmode`; TCP only).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it (`allow` and `prefer`), the server's certificate verified.
        case prefer
        /// TLS or no connection; the certificate is not verified (libpq's `require`).
        case require
        /// TLS or no connection, the certificate verified against the system's roots and the host
        /// name (`verify-ca`, `verify-full`).
        case verifyFull = "verify-full"
    }

    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        /// The socket `directory/.s.PGSQL.port`.
        case unixSocket(directory: String, port: Int)
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The most connections the store keeps open at once.
    public var poolSize: Int

    public init(
        endpoint: Endpoint, user: String, password: String? = nil, database: String, tls: TLSMode = .prefer, poolSize: Int = 10
    ) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.poolSize = poolSize
    }

    /// The socket file's path, for a Unix socket endpoint.
    public var socketPath: String? {
        guard case .unixSocket(let directory, let port) = endpoint else { return nil }
        return (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }

    /// Where the server is, for messages: `db.example:5432` or `/var/run/postgresql/.s.PGSQL.5432`.
    public var serverDescription: String {
        switch endpoint {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket: socketPath!
        }
    }

    /// The location as a URL, without the password: what messages show.
    public var description: String {
        var url = "postgres://" + Self.escaped(user)
        if password != nil { url += ":***" }
        url += "@"
        var query: [String] = []
        switch endpoint {
        case .tcp(let host, let port):
            url += host.contains(":") ? "[\(host)]" : Self.escaped(host)
            if port != 5432 { url += ":\(port)" }
        case .unixSocket(let directory, let port):
            query.append("host=" + Self.escaped(directory, keeping: ["/"]))
            if port != 5432 { query.append("port=\(port)") }
        }
        url += "/" + Self.escaped(database)
        if tls != .prefer { query.append("sslmode=\(tls.rawValue)") }
        if poolSize != 10 { query.append("pool_size=\(poolSize)") }
        return query.isEmpty ? url : url + "?" + query.joined(separator: "&")
    }

    // MARK: Parsing

    /// Parses a `postgres://` or `postgresql://` URL (the scheme is not case-sensitive).
    public init(url text: String) throws(RunStoreError) {
        let shown = Self.redacted(text)
        func refuse(_ reason: String) -> RunStoreError {
            RunStoreError(.unsupportedLocation, "the PostgreSQL URL '\(shown)' \(reason)", path: shown)
        }
        guard let schemeEnd = text.firstRange(of: "://") else { throw refuse("does not start with postgres://") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else { throw refuse("does not start with postgres:// or postgresql://") }
        var rest = Substring(text[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var queryText: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var pathText: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            pathText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // rest: [user[:password]@]hostport. The last @ ends the credentials (a password may hold one).
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decoded(credentials[..<colon], "user name", refuse)
                password = try Self.decoded(credentials[credentials.index(after: colon)...], "password", refuse)
            } else {
                user = try Self.decoded(credentials, "user name", refuse)
            }
        }
        var host: String?
        var port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw refuse("has an unclosed [ in its host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw refuse("has text after its [host]") }
                port = try Self.port(after.dropFirst(), refuse)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = try Self.decoded(rest[..<colon], "host", refuse)
            port = try Self.port(rest[rest.index(after: colon)...], refuse)
        } else if !rest.isEmpty {
            host = try Self.decoded(rest, "host", refuse)
        }
        if host?.isEmpty == true { host = nil }
        if rest.contains(",") { throw refuse("names several hosts; Nodal connects to one") }
        var database = pathText.isEmpty ? nil : try Self.decoded(pathText, "database name", refuse)
        var tls = TLSMode.prefer
        var poolSize = 10
        for pair in queryText.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.decoded(parts[0], "parameter", refuse)
            let value = parts.count > 1 ? try Self.decoded(parts[1], "value of \(key)", refuse) : ""
            switch key {
            case "host": host = value.isEmpty ? nil : value
            case "port": port = try Self.port(Substring(value), refuse)
            case "user": user = value
            case "password": password = value
            case "dbname": database = value
            case "sslmode":
                switch value {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require": tls = .require
                case "verify-ca", "verify-full": tls = .verifyFull
                default: throw refuse("has sslmode '\(value)' (known: disable, allow, prefer, require, verify-ca, verify-full)")
                }
            case "pool_size":
                guard let size = Int(value), (1...1000).contains(size) else { throw refuse("has pool_size '\(value)' (1 to 1000)") }
                poolSize = size
            default:
                throw refuse("has the parameter '\(key)', which Nodal does not know (known: host, port, user, password, dbname, sslmode, pool_size)")
            }
        }
        let finalUser = (user?.isEmpty == false ? user : nil) ?? Self.currentUserName
        let finalPort = port ?? 5432
        let endpoint: Endpoint
        if let host, !host.hasPrefix("/") {
            endpoint = .tcp(host: host, port: finalPort)
        } else {
            endpoint = .unixSocket(directory: host ?? "/var/run/postgresql", port: finalPort)
        }
        if database?.isEmpty == true { database = nil }
        self.init(endpoint: endpoint, user: finalUser, password: password, database: database ?? finalUser, tls: tls, poolSize: poolSize)
    }

    private static func decoded(_ text: Substring, _ what: String, _ refuse: (String) -> RunStoreError) throws(RunStoreError) -> String {
        guard let value = PercentEncoding.decodedString(text) else { throw refuse("has a broken %-escape in its \(what)") }
        return value
    }

    private static func port(_ text: Substring, _ refuse: (String) -> RunStoreError) throws(RunStoreError) -> Int? {
        if text.isEmpty { return nil }
        guard text.allSatisfy(\.isASCIIDigit), let port = Int(text), (1...65535).contains(port) else {
            throw refuse("has the port '\(text)' (1 to 65535)")
        }
        return port
    }

    private static func escaped(_ text: String, keeping extra: Set<Character> = []) -> String {
        var out = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80, character.isLetter || character.isNumber || "-._~".contains(character) || extra.contains(character) {
                out.append(character)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// `url` with any password (`user:PASSWORD@`, `password=` in the query) replaced by `***`.
    package static func redacted(_ url: String) -> String {
        var text = url
        if let schemeEnd = text.firstRange(of: "://") {
            let authorityEnd = text[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
            if let at = text[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@"),
                let colon = text[schemeEnd.upperBound..<at].firstIndex(of: ":")
            {
                text = String(text[...colon]) + "***" + String(text[at...])
            }
        }
        guard let question = text.firstIndex(of: "?") else { return text }
        let query = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            pair.lowercased().hasPrefix("password=") ? "password=***" : String(pair)
        }
        return String(text[...question]) + query.joined(separator: "&")
    }

    /// The name of the user running this process (libpq's default user).
    private static var currentUserName: String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            let text = String(cString: name)
            if !text.isEmpty { return text }
        }
        return "postgres"
    }
}
