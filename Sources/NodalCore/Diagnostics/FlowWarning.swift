/// Something about a flow that does not stop it from running but that its author should see.
///
/// Reading a flow notes keys Nodal does not know (ignored, as Stepflow ignores them, so a typo
/// stays visible) in `Flow.warnings`, the sub-flows' included; reading with `strict: true` refuses
/// them instead. `Engine.warnings(for:)` adds what needs the engine: a flow without an output, a
/// node whose declared schema cannot be used. `nodal run`, `validate` and `test` print them all
/// as `warning: ...` on standard error.
public struct FlowWarning: Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    /// The 1-based line of the key in the file, when the file's text was read (YAML or JSON).
    public var line: Int?
    public var step: String?
    public var field: String?
    public var message: String

    /// Where the warning's key sits in the document (`steps`, 2, `author`), to find its line.
    package var location: [DocumentPathElement]

    public init(file: String? = nil, step: String? = nil, field: String? = nil, _ message: String) {
        self.init(file: file, step: step, field: field, location: [], message)
    }

    package init(file: String?, step: String? = nil, field: String?, location: [DocumentPathElement], _ message: String) {
        self.file = file
        self.step = step
        self.field = field
        self.location = location
        self.message = message
    }

    /// `flow.yaml:12: step 'fetch', field 'author': unknown step key, ignored (...)`.
    public var description: String {
        var place: [String] = []
        // Keys and ids come from the file: shown escaped, so that none can forge a line or drive
        // the terminal (DisplayText).
        if let step { place.append("step '\(DisplayText.escaped(step))'") }
        if let field, !field.isEmpty { place.append("field '\(DisplayText.escaped(field))'") }
        let message = DisplayText.escaped(message, keepingNewlines: true)
        let detail = place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
        switch (file.map { DisplayText.escaped($0) }, line) {
        case (let file?, let line?): return "\(file):\(line): " + detail
        case (let file?, nil): return "\(file): " + detail
        case (nil, let line?): return "line \(line): " + detail
        case (nil, nil): return detail
        }
    }
}

/// One step of a path into a parsed document: a mapping key or a list index.
package enum DocumentPathElement: Sendable, Hashable {
    case key(String)
    case index(Int)
}
