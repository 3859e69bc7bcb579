import NodalJSON
/// A parsed C function signature: `"(uint64, bytes<uint32>) -> uint64"`.
///
/// Grammar: `(` types separated by commas `)` `->` type. `()` and `(void)` take no arguments.
/// Spaces are free. `description` is the normalized spelling, the key prepared calls are cached by.
package struct FFISignature: Sendable, Hashable, CustomStringConvertible {
    package var parameters: [FFIType]
    package var result: FFIType

    package init(parameters: [FFIType], result: FFIType) {
        self.parameters = parameters
        self.result = result
    }

    package init(parsing text: String) throws(FFIError) {
        let compact = text.filter { !$0.isWhitespace }
        func bad(_ message: String) -> FFIError {
            FFIError(.badSignature, field: "signature", "'\(text)': \(message) (write it as \"(double, double) -> double\")")
        }
        guard compact.hasPrefix("("), let arrow = compact.firstRange(of: ")->") else {
            throw bad("expected '(parameter types) -> return type'")
        }
        let list = compact[compact.index(after: compact.startIndex)..<arrow.lowerBound]
        let resultText = String(compact[arrow.upperBound...])
        guard !resultText.isEmpty else { throw bad("the return type is missing after '->'") }

        var parameters: [FFIType] = []
        let items = Self.splitTopLevel(list)
        if !(items.count == 1 && (items[0].isEmpty || items[0] == "void")) {
            for (index, item) in items.enumerated() {
                guard !item.isEmpty else { throw bad("parameter \(index + 1) is empty") }
                let type: FFIType
                do { type = try Self.parseType(item) } catch { throw bad("parameter \(index + 1): \(error.message)") }
                if type == .void { throw bad("'void' is only a return type, or '(void)' alone for no parameters") }
                parameters.append(type)
            }
        }
        let result: FFIType
        do { result = try Self.parseType(resultText) } catch { throw bad("return type: \(error.message)") }
        switch result {
        case .bytes, .array: throw bad("a function cannot return '\(result)' (return types: numbers, bool, string, void)")
        default: break
        }
        self.init(parameters: parameters, result: result)
    }

    /// The normalized spelling: canonical names, ", " between parameters.
    package var description: String {
        "(" + parameters.map(\.description).joined(separator: ", ") + ") -> \(result)"
    }

    private struct TypeError: Error { var message: String }

    /// Splits "a,array<b,c>,d" at commas outside angle brackets.
    private static func splitTopLevel(_ text: Substring) -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "<": depth += 1; current.append(character)
            case ">": depth -= 1; current.append(character)
            case "," where depth == 0: items.append(current); current = ""
            default: current.append(character)
            }
        }
        items.append(current)
        return items
    }

    private static func parseType(_ text: String) throws(TypeError) -> FFIType {
        if let type = FFIType.scalarNames[text] ?? FFIType.aliases[text] { return type }
        if text == "bytes" { return .bytes(length: FFIType.sizeT) }
        guard let open = text.firstIndex(of: "<"), text.hasSuffix(">") else {
            var hint = ""
            if text.contains("*") { hint = "; write 'string' for const char *, 'bytes' or 'array<T>' for a pointer and length" }
            throw TypeError(message: "unknown type '\(text)' (types: int8, int16, int32, int64, uint8, uint16, uint32, uint64, float, double, bool, string, bytes, array<T>, void\(hint))")
        }
        let name = text[..<open]
        let arguments = splitTopLevel(text[text.index(after: open)..<text.index(before: text.endIndex)])
        func integer(_ text: String, role: String) throws(TypeError) -> FFIType {
            let type = try parseType(text)
            guard type.isInteger else { throw TypeError(message: "the \(role) type of '\(name)' must be an integer type, not '\(text)'") }
            return type
        }
        switch name {
        case "bytes":
            guard arguments.count == 1 else { throw TypeError(message: "write 'bytes' or 'bytes<length type>' such as 'bytes<uint32>'") }
            return .bytes(length: try integer(arguments[0], role: "length"))
        case "array":
            guard arguments.count == 1 || arguments.count == 2 else {
                throw TypeError(message: "write 'array<element type>' or 'array<element type, count type>' such as 'array<double, uint32>'")
            }
            let element = try parseType(arguments[0])
            guard element.isNumber || element == .bool else {
                throw TypeError(message: "array elements must be numbers or bool, not '\(arguments[0])'")
            }
            let count = arguments.count == 2 ? try integer(arguments[1], role: "count") : FFIType.sizeT
            return .array(element: element, count: count)
        default:
            throw TypeError(message: "unknown type '\(text)' (only 'bytes<...>' and 'array<...>' take type arguments)")
        }
    }
}
