/// Something about a flow worth saying that does not make it invalid (`Engine.warnings(for:)`;
/// `nodal validate` prints each as `warning: ...` on standard error): a flow without an output,
/// a node whose declared schema cannot be used.
public struct FlowWarning: Sendable, CustomStringConvertible {
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

    /// `flow.yaml, field 'output': the flow has no 'output', ...`, as `FlowError` reads.
    public var description: String {
        FlowError(file: file, step: step, field: field, message).description
    }
}
