/// A path of the JSON extension's `get` (include/nodal.h): object keys separated by dots and
/// array indexes in brackets (`items[2].name`, `a.b`), an optional leading `$` or `$.`, a key
/// with dots or brackets quoted in brackets (`["odd.key"]`, `['odd.key']`, a backslash escaping
/// the next byte), and `""` for the value itself.
///
/// Not `JSONPath`: that one also reads `*` and negative indexes, which name no single value of a
/// document (a wildcard makes a new array), and needs `$` before a leading `[`. Here `*` is a key
/// like any other and an index is decimal digits only. Keys stay UTF-8 bytes, compared exactly.
///
/// Read as it is walked, without building the steps: `get` runs on every field a plugin reads.
enum JSONExtensionPath {
    enum Step {
        /// Borrowed for the visit: a slice of the path, or of a buffer the escapes were decoded into.
        case key(UnsafeRawBufferPointer)
        case index(Int)
    }

    /// Visits the steps of `path` in order while `visit` returns true. Returns false when the
    /// path is malformed (steps before the fault may have been visited) or a visit returned false.
    static func walk(_ path: UnsafeRawBufferPointer, _ visit: (Step) -> Bool) -> Bool {
        let count = path.count
        var position = 0

        /// A key up to the next '.' or '[': non-empty, and no ']' in it.
        func bareKey() -> Bool {
            let start = position
            while position < count, path[position] != UInt8(ascii: "."), path[position] != UInt8(ascii: "[") {
                if path[position] == UInt8(ascii: "]") { return false }
                position += 1
            }
            return position > start && visit(.key(UnsafeRawBufferPointer(rebasing: path[start..<position])))
        }

        if count > 0, path[0] == UInt8(ascii: "$") {
            position = 1
            if position < count, path[position] == UInt8(ascii: ".") {
                position += 1
                guard bareKey() else { return false }
            }
        } else if count > 0, path[0] != UInt8(ascii: "[") {
            guard bareKey() else { return false }
        }
        while position < count {
            switch path[position] {
            case UInt8(ascii: "."):
                position += 1
                guard bareKey() else { return false }
            case UInt8(ascii: "["):
                position += 1
                guard position < count else { return false }
                let quote = path[position]
                if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                    position += 1
                    let start = position
                    var escaped = false
                    while position < count, path[position] != quote {
                        if path[position] == UInt8(ascii: "\\") { escaped = true; position += 1 }
                        position += 1
                    }
                    // The closing quote, then ']'.
                    guard position + 1 < count, path[position + 1] == UInt8(ascii: "]") else { return false }
                    let quoted = UnsafeRawBufferPointer(rebasing: path[start..<position])
                    position += 2
                    guard escaped ? visitUnescaped(quoted, visit) : visit(.key(quoted)) else { return false }
                } else {
                    var index = 0
                    let start = position
                    while position < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(path[position]) {
                        let (times, overflow1) = index.multipliedReportingOverflow(by: 10)
                        let (sum, overflow2) = times.addingReportingOverflow(Int(path[position] - UInt8(ascii: "0")))
                        guard !overflow1, !overflow2 else { return false }
                        index = sum
                        position += 1
                    }
                    guard position > start, position < count, path[position] == UInt8(ascii: "]") else { return false }
                    position += 1
                    guard visit(.index(index)) else { return false }
                }
            default:
                return false
            }
        }
        return true
    }

    /// A quoted key whose backslashes each escape the byte after them.
    private static func visitUnescaped(_ quoted: UnsafeRawBufferPointer, _ visit: (Step) -> Bool) -> Bool {
        var key: [UInt8] = []
        key.reserveCapacity(quoted.count)
        var position = 0
        while position < quoted.count {
            if quoted[position] == UInt8(ascii: "\\") { position += 1 }
            key.append(quoted[position])
            position += 1
        }
        return key.withUnsafeBytes { visit(.key($0)) }
    }
}
