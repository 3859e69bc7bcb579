import NodalJSON
/// A flow or config file that cannot be used, with where the problem is: the file, the step and
/// the field (a dotted path such as `input.user_prompt.$step`).
public struct FlowError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var step: String?
    public var field: String?
    public var message: String

    public init(file: String? = nil, step: String? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.step = step
        self.field = field
        self.message = message
    }

    public var description: String {
        var place: [String] = []
        // Keys and ids come from the file: shown escaped, so that none can forge a line or drive
        // the terminal (DisplayText).
        if let file { place.append(DisplayText.escaped(file)) }
        if let step { place.append("step '\(DisplayText.escaped(step))'") }
        if let field, !field.isEmpty { place.append("field '\(DisplayText.escaped(field))'") }
        let message = DisplayText.escaped(message, keepingNewlines: true)
        return place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
    }
}
