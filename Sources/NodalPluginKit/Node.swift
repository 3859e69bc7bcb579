/// A node declared with a closure.
///
/// ```swift
/// Node(name: "shout", flags: .pure) { input, context in
///     .string((input["text"]?.stringValue ?? "").uppercased())
/// }
/// ```
public struct Node: PluginNode {
    public let name: String
    public let id: String?
    public let version: String?
    public let description: String?
    public let flags: NodeFlags
    public let inputSchema: JSON?
    public let outputSchema: JSON?
    public let configSchema: JSON?
    private let body: @Sendable (JSON, NodeContext) throws -> JSON

    /// A node whose `body` takes and returns JSON. See `PluginNode` for what each field means.
    public init(
        name: String, id: String? = nil, version: String? = nil, description: String? = nil, flags: NodeFlags = [],
        inputSchema: JSON? = nil, outputSchema: JSON? = nil, configSchema: JSON? = nil,
        run body: @escaping @Sendable (_ input: JSON, _ context: NodeContext) throws -> JSON
    ) {
        self.name = name
        self.id = id
        self.version = version
        self.description = description
        self.flags = flags
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.configSchema = configSchema
        self.body = body
    }

    /// A node whose `body` takes a decoded input and returns an encodable output, as a
    /// `CodableNode` does.
    public init<Input: Decodable & SendableMetatype, Output: Encodable & SendableMetatype>(
        name: String, id: String? = nil, version: String? = nil, description: String? = nil, flags: NodeFlags = [],
        inputSchema: JSON? = nil, outputSchema: JSON? = nil, configSchema: JSON? = nil,
        decoding: Input.Type, run body: @escaping @Sendable (_ input: Input, _ context: NodeContext) throws -> Output
    ) {
        self.init(
            name: name, id: id, version: version, description: description, flags: flags,
            inputSchema: inputSchema, outputSchema: outputSchema, configSchema: configSchema
        ) { input, context in
            try JSONValueEncoder.encode(body(try JSONValueDecoder.decode(Input.self, from: input), context))
        }
    }

    public func run(_ input: JSON, context: NodeContext) throws -> JSON { try body(input, context) }
}
