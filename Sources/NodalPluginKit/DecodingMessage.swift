/// Messages for people from decoding errors, naming the field as a flow author writes it:
/// "missing required field 'values'", "field 'values[2]' must be a number".
enum DecodingMessage {
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing required field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(let type, let context):
            return "\(subject(context.codingPath, type)) must be \(name(of: type)), got null"
        case .typeMismatch(let type, let context):
            return "\(subject(context.codingPath, type)) must be \(name(of: type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "input is invalid: \(context.debugDescription)"
                : "field '\(path(context.codingPath))' is invalid: \(context.debugDescription)"
        @unknown default:
            return "input could not be read: \(error)"
        }
    }

    /// "field 'a.b[2]'", or "input" for the whole input.
    private static func subject(_ codingPath: [any CodingKey], _ type: Any.Type) -> String {
        codingPath.isEmpty ? "input" : "field '\(path(codingPath))'"
    }

    /// "values[2]" for the path [values, index 2]; "a.b" for nested keys.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                if !text.isEmpty { text += "." }
                text += key.stringValue
            }
        }
        return text
    }

    static func name(of type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Float.Type: "a number"
        case is any FixedWidthInteger.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is [String: Any].Type: "a JSON object"
        case is [Any].Type: "an array"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "a JSON object"
        }
    }
}
