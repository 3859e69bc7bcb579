import NodalJSON

/// How the scheduler runs a resolved component.
package enum ComponentExecutor: Sendable {
    /// Cheap, pure Swift work (builtins, mocks): called on the scheduler's own task.
    case inline(@Sendable (Payload, NodeContext) -> NodeOutcome)
    /// A node from a native plugin: inline when flagged non-blocking, else on the blocking pool.
    case native(NativeNode)
    /// Blocking Swift work (an FFI call): run on the blocking pool like a pooled native node, so
    /// timeouts and cancellation can abandon it and the pool replaces the stuck thread.
    case pooled(@Sendable (Payload, NodeContext) -> NodeOutcome)
    /// An async Swift closure: run as a child task on the cooperative executor.
    case async(SwiftNode)
    /// A sub-flow step (`flow: FILE`): the flow runs as part of this run, its components resolved.
    indirect case subflow(Flow, [ResolvedComponent])
}

/// A step's component route resolved to something that can run.
package struct ResolvedComponent: Sendable {
    package var route: String
    /// The node's identity: a plugin node id ("org.nodal.std.upper"), "builtin/NAME", "mock/NAME"
    /// or "swift:ROUTE".
    package var nodeID: String
    package var executor: ComponentExecutor
    /// The node's declared input and output schemas, compiled (nil: it declares none).
    package var schemas: NodeSchemas?

    package init(route: String, nodeID: String, executor: ComponentExecutor, schemas: NodeSchemas? = nil) {
        self.route = route
        self.nodeID = nodeID
        self.executor = executor
        self.schemas = schemas
    }
}
