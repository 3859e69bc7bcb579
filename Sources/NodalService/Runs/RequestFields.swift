import NodalCore
import NodalJSON

/// Reading a request's fields, each refusal naming the field (`ServiceError.invalidField`).
enum RequestFields {
    /// The request as an object, refusing keys it does not know.
    static func object(_ request: JSON, known: [String], what: String) throws(ServiceError) -> JSONObject {
        guard case .object(let object) = request else {
            throw .invalidField("", "the \(what) must be a JSON object, not \(request.typeName)")
        }
        for key in object.keys where !known.contains(key) {
            throw .invalidField(shown(key), "unknown field '\(shown(key))' (known: \(known.joined(separator: ", ")))")
        }
        return object
    }

    /// A blob id: 64 hexadecimal digits, optionally after `sha256:`, as lowercase hex.
    static func blobID(_ text: String) -> String? {
        let hex = text.hasPrefix("sha256:") ? text.dropFirst(7) : Substring(text)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (65...70).contains($0) || (97...102).contains($0) })
        else { return nil }
        return hex.lowercased()
    }

    static func flowID(_ object: JSONObject, _ key: String = "flowId") throws(ServiceError) -> String {
        switch object[key] {
        case .string(let text)?:
            guard let id = blobID(text) else {
                throw .invalidField(key, "'\(key)' is not a flow id (64 hexadecimal digits, optionally after 'sha256:'): \"\(shown(text))\"")
            }
            return id
        case nil, .null?: throw .invalidField(key, "the request needs '\(key)': the id `POST /flows` answered with")
        case let other?: throw .invalidField(key, "'\(key)' must be a string, not \(other.typeName)")
        }
    }

    static func flag(_ object: JSONObject, _ key: String) throws(ServiceError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw .invalidField(key, "'\(key)' must be true or false, not \(other.typeName)")
        }
    }

    /// A whole number of at least `minimum` (`2` and `2.0`, not `2.5`).
    static func count(_ object: JSONObject, _ key: String, minimum: Int) throws(ServiceError) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case let value?:
            guard let number = value.intValue, number >= minimum, case .int = value.wholeNumber else {
                throw .invalidField(key, "'\(key)' must be a whole number of at least \(minimum), not \(value.serialized())")
            }
            return number
        }
    }

    static func stringMap(_ object: JSONObject, _ key: String) throws(ServiceError) -> [String: JSON] {
        switch object[key] {
        case nil, .null?: return [:]
        case .object(let values)?: return Dictionary(values.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        case let other?: throw .invalidField(key, "'\(key)' must be an object of name to value, not \(other.typeName)")
        }
    }

    static func overrides(_ object: JSONObject, _ key: String = "overrides") throws(ServiceError) -> [(step: String, value: JSON)] {
        switch object[key] {
        case nil, .null?: return []
        case .object(let steps)?: return steps.map { (step: $0.key, value: $0.value) }
        case let other?: throw .invalidField(key, "'\(key)' must be an object of step id to {timeoutSecs, onError}, not \(other.typeName)")
        }
    }

    /// The items: a non-empty array of at most `limit` values.
    static func items(_ object: JSONObject, _ key: String, limit: Int) throws(ServiceError) -> [JSON] {
        switch object[key] {
        case .array(let items)?:
            guard !items.isEmpty else { throw .invalidField(key, "'\(key)' must hold at least one item (one input per item)") }
            guard items.count <= limit else {
                throw ServiceError(status: 413, code: "TOO_MANY_ITEMS", "'\(key)' has \(items.count) items; a run takes at most \(limit)", field: key)
            }
            return items
        case nil, .null?: throw .invalidField(key, "the request needs '\(key)': an array with one input per item")
        case let other?: throw .invalidField(key, "'\(key)' must be an array (one input per item), not \(other.typeName)")
        }
    }

    /// `timeoutSecs`: seconds as a string (the spec's type) or a number, from 0 up to `maximum`.
    static func timeout(_ object: JSONObject, _ key: String = "timeoutSecs", maximum: Duration) throws(ServiceError) -> Duration? {
        let seconds: Double
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            // Decimal digits with an optional fraction, as the query parameter takes: Double's own
            // parser would take hex ("0x10"), signs and exponents.
            let trimmed = text.trimmingSpaces
            let parts = trimmed.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            let decimal = !trimmed.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
            guard decimal, let value = Double(trimmed) else {
                throw .invalidField(key, "'\(key)' must be a number of seconds in decimal digits (30, 2.5), not \"\(shown(text))\"")
            }
            seconds = value
        case let value?:
            guard let number = value.doubleValue else { throw .invalidField(key, "'\(key)' must be a number of seconds, not \(value.typeName)") }
            seconds = number
        }
        return try waitDuration(seconds, key, maximum: maximum)
    }

    static func waitDuration(_ seconds: Double, _ key: String, maximum: Duration) throws(ServiceError) -> Duration {
        guard seconds.isFinite, seconds >= 0 else { throw .invalidField(key, "'\(key)' must be a number of seconds from 0, not \(seconds)") }
        let maxSeconds = Self.seconds(maximum)
        guard seconds <= maxSeconds else {
            throw .invalidField(key, "'\(key)' is \(seconds) s, more than this server waits (at most \(maxSeconds) s); wait again after it returns")
        }
        // Past what Int64 milliseconds hold (a server configured to wait for ever) is the maximum.
        let milliseconds = (seconds * 1000).rounded()
        return milliseconds < 9e18 ? .milliseconds(Int64(milliseconds)) : maximum
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Text of the request as a refusal shows it: at most 64 characters, control characters escaped.
    static func shown(_ text: String) -> String {
        let escaped = DisplayText.escaped(String(text.prefix(64)))
        return text.count > 64 ? "\(escaped)… (\(text.utf8.count) bytes)" : escaped
    }
}

extension JSON {
    /// `.int` for a whole number (`2`, `2.0`), else the value itself.
    fileprivate var wholeNumber: JSON {
        switch self {
        case .double(let value) where value.isFinite && value.rounded() == value && abs(value) < 9e15: .int(Int(value))
        default: self
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let scalars = unicodeScalars
        let start = scalars.firstIndex { $0 != " " } ?? scalars.endIndex
        let end = scalars.lastIndex { $0 != " " }.map { scalars.index(after: $0) } ?? start
        return Substring(scalars[start..<max(start, end)])
    }
}
