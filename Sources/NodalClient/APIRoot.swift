/// The server's API root (`http://host:port/api/v1`) and the URLs of its operations.
///
/// A base URL is taken with or without the `/api/v1` suffix, so the address `nodal serve` prints
/// and the root Stepflow's clients are given both work.
struct APIRoot: Sendable {
    /// The root without a trailing slash, or nil when the base URL is not http(s).
    let root: String?
    let base: String

    static let prefix = "/api/v1"

    init(_ base: String) {
        self.base = base
        var url = base.trimmingWhitespace()
        while url.hasSuffix("/") { url.removeLast() }
        let lower = url.lowercased()
        let scheme = lower.hasPrefix("http://") ? 7 : lower.hasPrefix("https://") ? 8 : nil
        guard let scheme, url.count > scheme, !url.dropFirst(scheme).hasPrefix("/") else {
            root = nil
            return
        }
        root = url.hasSuffix(Self.prefix) ? url : url + Self.prefix
    }

    /// `root/segment/segment?name=value&...`, each segment and value percent-encoded (a run id
    /// with a slash or a space stays one segment).
    func url(_ segments: [String], query: [(String, String)] = []) throws(NodalClientError) -> String {
        guard let root else {
            throw NodalClientError(.transport, "the server URL '\(base)' is not an http:// or https:// URL with a host")
        }
        var url = root
        for segment in segments {
            // A segment that is all dots would be read as a step up the path: its dots are encoded.
            url += "/" + (segment.allSatisfy { $0 == "." } ? String(repeating: "%2E", count: segment.count) : Self.percentEncoded(segment))
        }
        if !query.isEmpty {
            url += "?" + query.map { Self.percentEncoded($0.0) + "=" + Self.percentEncoded($0.1) }.joined(separator: "&")
        }
        return url
    }

    /// RFC 3986's unreserved characters stay; every other byte of the UTF-8 becomes `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(hex[Int(byte >> 4)])
                encoded.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return encoded
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
