// Equality as JSON Schema defines it, which is stricter than `JSON`'s `==` in two ways:
// strings (values and property names) are equal only when their code points are (Swift's `==`
// also equates canonically equivalent strings, "é" and "e\u{301}"), and an integer equals a
// double only when they are exactly the same number (not merely the same after rounding the
// integer to a double).

enum SchemaEquality {
    /// Whether two strings have the same code points (Swift's `==` also equates canonically
    /// equivalent spellings, which differ in their bytes).
    @inline(__always)
    static func same(_ a: String, _ b: String) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        return sameBytes(x, y)
    }

    private static func sameBytes(_ x: String.UTF8View, _ y: String.UTF8View) -> Bool {
        let contiguous = x.withContiguousStorageIfAvailable { left in
            y.withContiguousStorageIfAvailable { right in
                for index in 0..<left.count where left[index] != right[index] { return false }
                return true
            }
        }
        return (contiguous ?? nil) ?? x.elementsEqual(y)
    }

    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int(let x), .double(let y)): return y.isFinite && NumberComparison.compare(x, y) == 0
        case (.double(let x), .int(let y)): return x.isFinite && NumberComparison.compare(y, x) == 0
        case (.string(let x), .string(let y)): return same(x, y)
        case (.array(let x), .array(let y)):
            guard x.count == y.count else { return false }
            for index in x.indices where !equal(x[index], y[index]) { return false }
            return true
        case (.object(let x), .object(let y)):
            let left = members(of: x)
            let right = members(of: y)
            guard left.count == right.count else { return false }
            for (key, value) in left {
                guard let other = member(y, key), equal(value, other) else { return false }
            }
            return true
        default:
            return false
        }
    }

    /// The value of `name` in `object` (its last occurrence), comparing names by code point.
    static func member(_ object: JSONObject, _ name: String) -> JSON? {
        object.entries.withUnsafeBufferPointer { entries in
            var index = entries.count - 1
            while index >= 0 {
                if same(entries[index].key, name) { return entries[index].value }
                index -= 1
            }
            return nil
        }
    }

    /// The object's members as JSON sees them: when a name repeats, only its last occurrence.
    static func members(of object: JSONObject) -> [JSONObject.Element] {
        let entries = object.entries
        if entries.count < 2 { return entries }
        if entries.count <= 16 {
            let repeated = entries.withUnsafeBufferPointer { entries in
                for i in 0..<(entries.count - 1) {
                    for j in (i + 1)..<entries.count where same(entries[i].key, entries[j].key) { return true }
                }
                return false
            }
            if !repeated { return entries }
            return Array(entries.enumerated().filter { isLast($0.offset, in: entries) }.map(\.element))
        }
        var last: [ExactKey: Int] = [:]
        last.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() { last[ExactKey(entry.key)] = position }
        if last.count == entries.count { return entries }
        return entries.enumerated().filter { last[ExactKey($0.element.key)] == $0.offset }.map(\.element)
    }

    private static func isLast(_ position: Int, in entries: [JSONObject.Element]) -> Bool {
        for later in (position + 1)..<entries.count where same(entries[later].key, entries[position].key) {
            return false
        }
        return true
    }

    /// Feeds `value` to `hasher` consistently with `equal` (equal values hash alike).
    static func hash(_ value: JSON, into hasher: inout Hasher) {
        switch value {
        case .null: hasher.combine(0 as UInt8)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(Double(i))  // an equal double hashes the same
        case .double(let d): hasher.combine(d)
        case .string(let s): ExactKey(s).hash(into: &hasher)
        case .array(let array):
            hasher.combine(array.count)
            for element in array { hash(element, into: &hasher) }
        case .object(let object):
            // Members in any order: combine their hashes commutatively.
            var sum = 0
            for (key, element) in members(of: object) {
                var entry = Hasher()
                ExactKey(key).hash(into: &entry)
                hash(element, into: &entry)
                sum = sum &+ entry.finalize()
            }
            hasher.combine(sum)
        }
    }
}

/// A string compared and hashed by its UTF-8 code units.
struct ExactKey: Hashable, Sendable {
    var string: String
    init(_ string: String) { self.string = string }
    static func == (a: ExactKey, b: ExactKey) -> Bool { SchemaEquality.same(a.string, b.string) }
    func hash(into hasher: inout Hasher) {
        hasher.combine(string.utf8.count)
        for byte in string.utf8 { hasher.combine(byte) }
    }
}

/// A JSON value compared and hashed with `SchemaEquality`.
struct ExactJSON: Hashable, Sendable {
    var value: JSON
    static func == (a: ExactJSON, b: ExactJSON) -> Bool { SchemaEquality.equal(a.value, b.value) }
    func hash(into hasher: inout Hasher) { SchemaEquality.hash(value, into: &hasher) }
}
