/// A node of a plugin, declared as a Swift type.
///
/// ```swift
/// struct Hello: PluginNode {
///     let name = "hello"
///     let flags: NodeFlags = .pure
///     func run(_ input: JSON, context: NodeContext) throws -> JSON {
///         guard let name = input["name"]?.stringValue else { throw NodeError.invalidInput("field 'name' must be a string") }
///         return ["greeting": .string("Hello, \(name)!")]
///     }
/// }
/// ```
///
/// Only `name` and `run` are required. `run` is called on one of the engine's threads (inline for
/// `.nonBlocking` nodes), concurrently with itself only when the node is `.threadSafe`. What it
/// throws fails the step: a `NodeError` with its code, anything else with `NODE_FAILED`.
public protocol PluginNode: Sendable {
    /// The last part of the node's route: `hello` of plugin `greet` is `/greet/hello`.
    var name: String { get }
    /// A reverse-DNS id unique in the process; nil (the default) for `<plugin id>.<name>`.
    var id: String? { get }
    /// SemVer; nil (the default) for the plugin's version.
    var version: String? { get }
    /// One line for people; shown by `nodal plugins inspect`.
    var description: String? { get }
    var flags: NodeFlags { get }
    /// JSON Schemas of the input (checked before the node is called), the output and the node's
    /// configuration.
    var inputSchema: JSON? { get }
    var outputSchema: JSON? { get }
    var configSchema: JSON? { get }

    /// Computes the output for one input.
    func run(_ input: JSON, context: NodeContext) throws -> JSON
}

extension PluginNode {
    public var id: String? { nil }
    public var version: String? { nil }
    public var description: String? { nil }
    public var flags: NodeFlags { [] }
    public var inputSchema: JSON? { nil }
    public var outputSchema: JSON? { nil }
    public var configSchema: JSON? { nil }
}

/// A node whose input and output are Swift types: the input is decoded before `run` (a field
/// that does not fit fails the step with `INVALID_INPUT`, naming the field) and the output
/// encoded after it.
///
/// ```swift
/// struct Add: CodableNode {
///     struct Input: Decodable { var a: Double; var b: Double }
///     struct Output: Encodable { var sum: Double }
///     let name = "add"
///     func run(_ input: Input, context: NodeContext) throws -> Output { Output(sum: input.a + input.b) }
/// }
/// ```
public protocol CodableNode: PluginNode {
    associatedtype Input: Decodable
    associatedtype Output: Encodable
    func run(_ input: Input, context: NodeContext) throws -> Output
}

extension CodableNode {
    public func run(_ input: JSON, context: NodeContext) throws -> JSON {
        let decoded = try JSONValueDecoder.decode(Input.self, from: input)
        return try JSONValueEncoder.encode(run(decoded, context: context) as Output)
    }
}
