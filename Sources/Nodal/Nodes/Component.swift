/// A value moving between steps: always parsed (outputs are validated on arrival), plus the
/// JSON bytes when they are already at hand, so a plugin whose input is another step's whole
/// output gets those bytes without re-serializing.
struct Payload: Sendable {
    var json: JSON
    var bytes: [UInt8]?

    init(json: JSON, bytes: [UInt8]? = nil) {
        self.json = json
        self.bytes = bytes
    }

    var encodedBytes: [UInt8] { bytes ?? json.serializedBytes() }
}

/// How one call of a node ended.
enum NodeOutcome: Sendable {
    case success(Payload)
    case failure(StepError)
    case canceled
}

/// A Swift node registered by an embedding app: an async closure from input JSON to output JSON.
/// Throw `StepError` for a structured failure; any other error becomes code `NODE_FAILED`.
public typealias SwiftNode = @Sendable (_ input: JSON, _ context: NodeContext) async throws -> JSON

/// What a Swift node knows about the call it is serving.
public struct NodeContext: Sendable {
    public var runID: String
    public var stepID: String
    public var component: String
    /// The run's store (`RunOptions.store`), for builtins that keep blobs; nil when the run has none.
    var store: (any RunStore)?
    /// The folder relative paths in the flow resolve against: the flow file's, else the current one.
    var flowFile: String?

    init(runID: String, stepID: String, component: String, store: (any RunStore)? = nil, flowFile: String? = nil) {
        self.runID = runID
        self.stepID = stepID
        self.component = component
        self.store = store
        self.flowFile = flowFile
    }
}

/// How the scheduler runs a resolved component.
enum ComponentExecutor: Sendable {
    /// Cheap, pure Swift work (builtins, mocks): called on the scheduler's own task.
    case inline(@Sendable (Payload, NodeContext) -> NodeOutcome)
    /// A node from a native plugin: inline when flagged non-blocking, else on the blocking pool.
    case native(NativeNode)
    /// Blocking Swift work (an FFI call): run on the blocking pool like a pooled native node, so
    /// timeouts and cancellation can abandon it and the pool replaces the stuck thread.
    case pooled(@Sendable (Payload, NodeContext) -> NodeOutcome)
    /// An async Swift closure: run as a child task on the cooperative executor.
    case async(SwiftNode)
}

/// A step's component route resolved to something that can run.
struct ResolvedComponent: Sendable {
    var route: String
    /// The node's identity: a plugin node id ("org.nodal.std.upper"), "builtin/NAME", "mock/NAME"
    /// or "swift:ROUTE".
    var nodeID: String
    var executor: ComponentExecutor
}
