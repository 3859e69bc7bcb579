/// A JSON value as flows, step inputs and step outputs see it.
///
/// Objects keep their keys in the order they were written, so results print the way a flow
/// author wrote them. Equality is JSON equality: objects compare as unordered maps and numbers
/// compare by value (`1 == 1.0`).
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

/// An insertion-ordered JSON object. Lookups are linear, which is fastest for the small objects
/// that dominate step inputs and outputs; when a key repeats, the last occurrence wins.
public struct JSONObject: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSON)
    public private(set) var entries: [Element]

    public init() { entries = [] }
    public init(_ entries: [Element]) { self.entries = entries }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        entries = elements.map { (key: $0.0, value: $0.1) }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Element]> { entries.makeIterator() }

    public subscript(key: String) -> JSON? {
        get {
            var index = entries.count - 1
            while index >= 0 {
                if entries[index].key == key { return entries[index].value }
                index -= 1
            }
            return nil
        }
        set {
            if let index = entries.lastIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key: key, value: newValue))
            }
        }
    }

    /// Appends without looking for an existing key; the parser's fast path.
    package mutating func appendUnchecked(_ key: String, _ value: JSON) {
        entries.append((key: key, value: value))
    }

    package mutating func reserveCapacity(_ n: Int) { entries.reserveCapacity(n) }
}

extension JSON {
    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public subscript(index: Int) -> JSON? {
        if case .array(let array) = self, index >= 0, index < array.count { return array[index] }
        return nil
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int(d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Truthiness for `$if` conditions, as in Stepflow: only `null` and `false` are false; `0`,
    /// `""`, `[]` and `{}` are true.
    package var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        default: true
        }
    }
}

extension JSON: Equatable, Hashable {
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.int(let a), .double(let b)): return Double(a) == b
        case (.double(let a), .int(let b)): return a == Double(b)
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(Double(i))
        case .double(let d): hasher.combine(d)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): hasher.combine(o)
        }
    }
}

extension JSONObject: Equatable, Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        let left = lhs.deduplicated, right = rhs.deduplicated
        guard left.count == right.count else { return false }
        for (key, value) in left.entries {
            guard let other = right[key], other == value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-entry hashes commutatively.
        var sum = 0
        for (key, value) in deduplicated.entries {
            var entry = Hasher()
            entry.combine(key)
            entry.combine(value)
            sum = sum &+ entry.finalize()
        }
        hasher.combine(sum)
    }

    /// The object with repeated keys collapsed to their last value (order of last occurrence).
    var deduplicated: JSONObject {
        if entries.count < 2 { return self }
        var seen = Set<String>()
        var hasDuplicate = false
        for entry in entries where !seen.insert(entry.key).inserted { hasDuplicate = true; break }
        if !hasDuplicate { return self }
        var result = JSONObject()
        for entry in entries { result[entry.key] = entry.value }
        return result
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSON: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String { serialized() }
}

extension JSON {
    /// The compact JSON text, cut to about `limit` characters with "…" when longer: for values
    /// quoted in error messages.
    package func shortDescription(limit: Int = 200) -> String {
        let text = serialized()
        return text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
