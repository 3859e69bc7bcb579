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

/// An insertion-ordered JSON object: keys keep the order they were written in through parsing,
/// expressions and serialization (Stepflow's blob ids hash that order). A key appears once; when
/// a document repeats one, the last value wins at the first position (as serde_json reads it).
///
/// Small objects, which dominate step inputs and outputs, are searched linearly; an object past
/// `indexThreshold` keys also keeps a key-to-position table so lookups stay constant-time.
public struct JSONObject: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSON)
    public private(set) var entries: [Element]
    /// Key to position in `entries`, kept once the object has more than `indexThreshold` keys.
    private var positions: [String: Int]?

    /// Past this many keys a linear scan costs more than a hash lookup.
    static let indexThreshold = 16

    public init() { entries = [] }
    public init(_ entries: [Element]) {
        self.entries = []
        self.entries.reserveCapacity(entries.count)
        for entry in entries { self[entry.key] = entry.value }
    }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Element]> { entries.makeIterator() }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return entries.firstIndex { $0.key == key }
    }

    public subscript(key: String) -> JSON? {
        get { position(of: key).map { entries[$0].value } }
        set {
            if let index = position(of: key) {
                if let newValue {
                    entries[index].value = newValue
                } else {
                    let removed = entries.remove(at: index).key
                    if positions != nil { forgetPosition(of: removed, at: index) }
                }
            } else if let newValue {
                appendUnchecked(key, newValue)
            }
        }
    }

    /// Appends without looking for an existing key: for callers that know the key is new (the
    /// fields of an object literal that was itself read without repeats).
    package mutating func appendUnchecked(_ key: String, _ value: JSON) {
        entries.append((key: key, value: value))
        if positions != nil {
            positions![key] = entries.count - 1
        } else if entries.count > Self.indexThreshold {
            rebuildPositions()
        }
    }

    /// After the entry at `index` was removed: its key leaves the table and the entries after it
    /// move up one place. Costs what `Array.remove(at:)` costs, the entries after `index`, so
    /// deleting keys from the end of a big object is cheap (the whole table was rebuilt for each
    /// removal, which made a loop of deletions quadratic wherever it deleted).
    private mutating func forgetPosition(of key: String, at index: Int) {
        guard entries.count > Self.indexThreshold else { positions = nil; return }
        positions!.removeValue(forKey: key)
        for later in index..<entries.count { positions![entries[later].key] = later }
    }

    private mutating func rebuildPositions() {
        guard entries.count > Self.indexThreshold else { positions = nil; return }
        var table: [String: Int] = [:]
        table.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() { table[entry.key] = index }
        positions = table
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
    /// Equal as maps: the same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.entries {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-entry hashes commutatively.
        var sum = 0
        for (key, value) in entries {
            var entry = Hasher()
            entry.combine(key)
            entry.combine(value)
            sum = sum &+ entry.finalize()
        }
        hasher.combine(sum)
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
