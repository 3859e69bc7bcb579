/// A path into a JSON value: `$` (the whole value), `$.a.b[0]`, `$['key with spaces']`, `$.items[*]`,
/// or the same without the leading `$.` (`a.b[0]`), as Stepflow's `path:` fields allow.
///
/// Supported: field names, quoted field names, array indexes (negative counts from the end) and the
/// `*` wildcard (which collects every match into an array). Filters and recursive descent are not.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    package enum Segment: Sendable, Hashable {
        case field(String)
        case index(Int)
        case wildcard
    }

    package let segments: [Segment]
    public let description: String

    public static let root = JSONPath(segments: [], description: "$")

    package init(segments: [Segment], description: String) {
        self.segments = segments
        self.description = description
    }

    public var isRoot: Bool { segments.isEmpty }

    public init(_ text: String) throws(JSONPathError) {
        var chars = Array(text.unicodeScalars)
        if chars.first == "$" {
            chars.removeFirst()
        } else if !chars.isEmpty {
            chars.insert(".", at: 0)  // a bare path is a field chain from the root
        }
        var segments: [Segment] = []
        var i = 0
        func readName() -> String {
            var name = ""
            while i < chars.count, chars[i] != ".", chars[i] != "[" {
                name.unicodeScalars.append(chars[i])
                i += 1
            }
            return name
        }
        while i < chars.count {
            switch chars[i] {
            case ".":
                i += 1
                let name = readName()
                guard !name.isEmpty else { throw JSONPathError(path: text, reason: "empty field name") }
                segments.append(name == "*" ? .wildcard : .field(name))
            case "[":
                i += 1
                guard i < chars.count else { throw JSONPathError(path: text, reason: "unclosed '['") }
                if chars[i] == "'" || chars[i] == "\"" {
                    let quote = chars[i]
                    i += 1
                    var name = ""
                    while i < chars.count, chars[i] != quote {
                        if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                        name.unicodeScalars.append(chars[i])
                        i += 1
                    }
                    guard i + 1 < chars.count, chars[i + 1] == "]" else {
                        throw JSONPathError(path: text, reason: "unclosed quoted name")
                    }
                    i += 2
                    segments.append(.field(name))
                } else {
                    var inner = ""
                    while i < chars.count, chars[i] != "]" {
                        inner.unicodeScalars.append(chars[i])
                        i += 1
                    }
                    guard i < chars.count else { throw JSONPathError(path: text, reason: "unclosed '['") }
                    i += 1
                    if inner == "*" {
                        segments.append(.wildcard)
                    } else if let index = Int(inner.trimmingSpaces) {
                        segments.append(.index(index))
                    } else {
                        throw JSONPathError(path: text, reason: "'[\(inner)]' is not an index, '*' or a quoted name")
                    }
                }
            default:
                throw JSONPathError(path: text, reason: "unexpected '\(chars[i])'")
            }
        }
        self.segments = segments
        self.description = text.hasPrefix("$") ? text : "$." + text
    }

    /// The value at this path, or nil when some part of it is missing.
    public func evaluate(_ value: JSON) -> JSON? {
        Self.evaluate(value, segments[...])
    }

    private static func evaluate(_ value: JSON, _ rest: ArraySlice<Segment>) -> JSON? {
        guard let segment = rest.first else { return value }
        let tail = rest.dropFirst()
        switch segment {
        case .field(let name):
            guard let child = value[name] else { return nil }
            return evaluate(child, tail)
        case .index(let index):
            guard case .array(let array) = value else { return nil }
            let resolved = index < 0 ? array.count + index : index
            guard resolved >= 0, resolved < array.count else { return nil }
            return evaluate(array[resolved], tail)
        case .wildcard:
            let children: [JSON]
            switch value {
            case .array(let array): children = array
            case .object(let object): children = object.entries.map(\.value)
            default: return nil
            }
            return .array(children.compactMap { evaluate($0, tail) })
        }
    }
}

public struct JSONPathError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "invalid path '\(path)': \(reason)" }
}

extension String {
    var trimmingSpaces: Substring {
        var s = self[...]
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
