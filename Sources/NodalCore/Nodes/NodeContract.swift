public import NodalJSON
/// A value moving between steps: always parsed (outputs are validated on arrival), plus the
/// JSON bytes when they are already at hand, so a plugin whose input is another step's whole
/// output gets those bytes without re-serializing.
package struct Payload: Sendable {
    package var json: JSON
    package var bytes: [UInt8]?

    package init(json: JSON, bytes: [UInt8]? = nil) {
        self.json = json
        self.bytes = bytes
    }

    package var encodedBytes: [UInt8] { bytes ?? json.serializedBytes() }
}

/// How one call of a node ended.
package enum NodeOutcome: Sendable {
    case success(Payload)
    case failure(StepError)
    case canceled
    /// The node asked for a value from outside (an interrupt); the run pauses at this step.
    case paused(PauseRequest)
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
    package var store: (any RunStore)?
    /// The folder relative paths in the flow resolve against: the flow file's, else the current one.
    package var flowFile: String?
    /// The key a resume names to answer an interrupt of this step: the step's id, after the ids
    /// of the sub-flow steps it is nested in (`review.decision`).
    public var resumeKey: String
    /// The value this step's interrupt was answered with, when the run is resumed with it.
    public var resumeValue: JSON?
    /// False inside runs that cannot be resumed step by step (map items, iterate and eval runs,
    /// batch items): an interrupt there fails the step instead of pausing.
    package var canPause: Bool
    /// The flows the step's flow is nested in (`Flow.nesting`): `eval`, `map` and `iterate` add
    /// one for the flow they run and refuse to go past `Limits.nesting`.
    package var nesting: [String]
    /// The run checks outputs against their schemas (`RunOptions.strictOutputs`): so do the runs
    /// of `eval`, `map` and `iterate` inside it.
    package var strictOutputs: Bool

    package init(
        runID: String, stepID: String, component: String, store: (any RunStore)? = nil, flowFile: String? = nil,
        resumeKey: String? = nil, resumeValue: JSON? = nil, canPause: Bool = true, nesting: [String] = [],
        strictOutputs: Bool = false
    ) {
        self.nesting = nesting
        self.strictOutputs = strictOutputs
        self.runID = runID
        self.stepID = stepID
        self.component = component
        self.store = store
        self.flowFile = flowFile
        self.resumeKey = resumeKey ?? stepID
        self.resumeValue = resumeValue
        self.canPause = canPause
    }

    /// Pauses the run to ask for a value from outside (a person's decision, an approval), showing
    /// `value` to whoever answers. The run returns with status `paused` and a pause record naming
    /// this step and `resumeKey`; when it is resumed with a value for that key, this node is
    /// called again and `interrupt` returns that value instead of throwing.
    ///
    /// ```swift
    /// engine.register(route: "/app/approve") { input, context in
    ///     let answer = try context.interrupt(showing: ["draft": input["draft"] ?? .null])
    ///     return ["approved": .bool(answer["approved"]?.boolValue ?? false)]
    /// }
    /// ```
    /// Throws an `Interrupt` (which the engine turns into the pause: let it propagate), or a
    /// `StepError` with code `INTERRUPT_NOT_ALLOWED` where a run cannot pause (see `canPause`).
    public func interrupt(showing value: JSON) throws -> JSON {
        if let resumeValue { return resumeValue }
        guard canPause else {
            throw StepError(code: "INTERRUPT_NOT_ALLOWED", message: "step '\(stepID)' asks for outside input, but it runs inside map, iterate, eval or a batch, whose runs cannot pause; move the interrupt to the top-level flow or a sub-flow step")
        }
        throw Interrupt(key: resumeKey, value: value)
    }
}

/// Thrown by `NodeContext.interrupt(showing:)`: the run pauses at the throwing step.
public struct Interrupt: Error, Sendable {
    public var key: String
    public var value: JSON
}

/// A step that paused: what to show and the key its answer comes back under.
package struct PauseRequest: Sendable {
    /// Relative to the run that paused: `decision`, or `review.decision` through a sub-flow step.
    package var key: String
    package var value: JSON
}
