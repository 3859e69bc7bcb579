/// A path of the JSON extension's `get` (include/nodal.h): object keys separated by dots and
/// array indexes in brackets (`items[2].name`, `a.b`), an optional leading `$` or `$.`, a key
/// with dots or brackets quoted in brackets (`["odd.key"]`, `['odd.key']`, a backslash escaping
/// the next byte), and `""` for the value itself.
///
/// Not `JSONPath`: that one also reads `*` and negative indexes, which name no single value of a
/// document (a wildcard makes a new array), and needs `$` before a leading `[`. Here `*` is a key
/// like any other and an index is decimal digits only. Keys stay UTF-8 bytes, compared exactly.
enum JSONExtensionPath {
    enum Step: Equatable {
        case key([UInt8])
        case index(Int)
    }

    /// The steps of `path`, or nil when it is malformed.
    static func parse(_ path: UnsafeRawBufferPointer) -> [Step]? {
        let count = path.count
        var steps: [Step] = []
        var position = 0

        /// A key up to the next '.' or '[': non-empty, and no ']' in it.
        func bareKey() -> [UInt8]? {
            let start = position
            while position < count, path[position] != UInt8(ascii: "."), path[position] != UInt8(ascii: "[") {
                if path[position] == UInt8(ascii: "]") { return nil }
                position += 1
            }
            return position > start ? Array(path[start..<position]) : nil
        }

        if count > 0, path[0] == UInt8(ascii: "$") {
            position = 1
            if position < count, path[position] == UInt8(ascii: ".") {
                position += 1
                guard let key = bareKey() else { return nil }
                steps.append(.key(key))
            }
        } else if count > 0, path[0] != UInt8(ascii: "[") {
            guard let key = bareKey() else { return nil }
            steps.append(.key(key))
        }
        while position < count {
            switch path[position] {
            case UInt8(ascii: "."):
                position += 1
                guard let key = bareKey() else { return nil }
                steps.append(.key(key))
            case UInt8(ascii: "["):
                position += 1
                guard position < count else { return nil }
                let quote = path[position]
                if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                    position += 1
                    var key: [UInt8] = []
                    while position < count, path[position] != quote {
                        if path[position] == UInt8(ascii: "\\") { position += 1 }
                        guard position < count else { return nil }
                        key.append(path[position])
                        position += 1
                    }
                    // The closing quote, then ']'.
                    guard position + 1 < count, path[position + 1] == UInt8(ascii: "]") else { return nil }
                    position += 2
                    steps.append(.key(key))
                } else {
                    var index = 0
                    let start = position
                    while position < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(path[position]) {
                        let (times, overflow1) = index.multipliedReportingOverflow(by: 10)
                        let (sum, overflow2) = times.addingReportingOverflow(Int(path[position] - UInt8(ascii: "0")))
                        guard !overflow1, !overflow2 else { return nil }
                        index = sum
                        position += 1
                    }
                    guard position > start, position < count, path[position] == UInt8(ascii: "]") else { return nil }
                    position += 1
                    steps.append(.index(index))
                }
            default:
                return nil
            }
        }
        return steps
    }
}
