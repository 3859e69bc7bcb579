package import NodalService
import NodalJSON

/// A request's query string, read with the types Stepflow's spec gives its parameters. Every
/// refusal is a 400 naming the parameter, so a client knows which one to fix.
///
/// Names and values are percent-decoded and `+` reads as a space (form encoding, as browsers and
/// `curl --data-urlencode -G` write it). Parameters the route does not know are ignored, as
/// Stepflow ignores them; one it knows given twice is refused unless it is a list.
package struct QueryParameters: Sendable {
    package private(set) var pairs: [(name: String, value: String)] = []

    package init(_ query: String?) throws(ServiceError) {
        guard let query, !query.isEmpty else { return }
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: "=")
            let rawName = equals.map { part[..<$0] } ?? part
            let rawValue = equals.map { part[part.index(after: $0)...] } ?? ""
            guard let name = PercentEncoding.decodedString(rawName, plusIsSpace: true) else {
                throw .invalidField(String(rawName), "the query parameter's name is not valid percent-encoded UTF-8")
            }
            guard let value = PercentEncoding.decodedString(rawValue, plusIsSpace: true) else {
                throw .invalidField(name, "the value of '\(name)' is not valid percent-encoded UTF-8")
            }
            pairs.append((name, value))
        }
    }

    package func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// The one value of `name`, or nil when it is not there.
    package func string(_ name: String) throws(ServiceError) -> String? {
        let values = values(name)
        if values.count > 1 { throw .invalidField(name, "'\(name)' is given \(values.count) times; give it once") }
        return values.first
    }

    /// `true` or `false`, exactly (as the spec's boolean parameters are read).
    package func bool(_ name: String) throws(ServiceError) -> Bool? {
        guard let text = try string(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw .invalidField(name, "'\(name)' must be true or false, not '\(text)'")
        }
    }

    /// A `uint32`: decimal digits, 0 to 4294967295.
    package func uint32(_ name: String) throws(ServiceError) -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Self.unsigned(text), value <= UInt64(UInt32.max) else {
            throw .invalidField(name, "'\(name)' must be a whole number (decimal digits), not '\(text)'")
        }
        return Int(value)
    }

    /// A `uint64` the spec writes as a string (sequence numbers, seconds): decimal digits. One
    /// past the largest reads as the largest: "after event 10^30" and "wait 10^30 s" mean the same
    /// as the largest value would.
    package func uint64(_ name: String) throws(ServiceError) -> UInt64? {
        guard let text = try string(name) else { return nil }
        guard let value = Self.unsigned(text) else {
            throw .invalidField(name, "'\(name)' must be a whole number (decimal digits) up to \(UInt64.max), not '\(text.prefix(40))'")
        }
        return value
    }

    /// One of `allowed`, spelled exactly.
    package func enumeration(_ name: String, _ allowed: [String]) throws(ServiceError) -> String? {
        guard let text = try string(name) else { return nil }
        guard allowed.contains(text) else { throw .invalidField(name, Self.notOneOf(name, text, allowed)) }
        return text
    }

    /// A list of `allowed` values: the parameter repeated, comma-separated, or both.
    package func enumerationList(_ name: String, _ allowed: [String]) throws(ServiceError) -> [String] {
        var list: [String] = []
        for value in values(name) {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = String(item)
                guard allowed.contains(text) else { throw .invalidField(name, Self.notOneOf(name, text, allowed)) }
                if !list.contains(text) { list.append(text) }
            }
        }
        return list
    }

    static func notOneOf(_ name: String, _ text: String, _ allowed: [String]) -> String {
        "'\(name)' must be one of \(allowed.joined(separator: ", ")), not '\(text)'"
    }

    /// Decimal digits only (no sign, no spaces, not empty) that fit in 64 bits; nil for anything else, a larger number included (no
    /// event has such an id, so it is a client's mistake, not "after everything").
    package static func unsigned(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }
}
