public import NodalJSON
/// A flow read from a file or string: steps, their inputs, the output, and its test cases.
///
/// Read with `Flow(contentsOfFile:)` or `Flow(yaml:)` / `Flow(json:)`. The format is Stepflow's
/// v1 flow format (https://stepflow.org/schemas/v1/flow.json) with Nodal's extensions.
public struct Flow: Sendable {
    public var name: String?
    public var description: String?
    /// The file the flow was read from, for errors and relative paths.
    public var file: String?
    public var inputSchema: JSON? { didSet { compiledSchemas = compilingSchemas() } }
    public var outputSchema: JSON? { didSet { compiledSchemas = compilingSchemas() } }
    public var testCases: [FlowTestCase]
    /// SHA-256 (hex) of the text the flow was read from: a resumed run compares it to refuse a
    /// flow that changed since. Nil for flows built from a document.
    public internal(set) var sourceHash: String?
    /// What reading the flow noticed but let pass, its sub-flows' included: keys Nodal does not
    /// know, which it ignores as Stepflow does (reading with `strict: true` refuses them instead).
    public internal(set) var warnings: [FlowWarning] = []

    /// Set only by the loader and by `withStepInputs(_:)`, which rewrites step inputs for a run.
    package internal(set) var steps: [FlowStep]
    package let output: Expression
    package let stepIndexes: [String: Int]
    /// The flows this one is nested in when it was read (sub-flow steps, `eval`, `map` and
    /// `iterate` steps), outermost first; empty for a top-level flow. Bounded by `Limits.nesting`.
    package var nesting: [String] = []
    /// The flow's `schemas` object (Stepflow's consolidated schemas), when it has one: its input
    /// and output schemas may refer to its shared definitions as `#/schemas/$defs/NAME`, a pointer
    /// from the flow's root, so they are compiled inside it (`FlowSchemas.swift`).
    package var schemasDocument: JSON? { didSet { compiledSchemas = compilingSchemas() } }
    /// `inputSchema` and `outputSchema` compiled, once when read and again when either changes.
    var compiledSchemas = CompiledFlowSchemas()

    public var stepIDs: [String] { steps.map(\.id) }
}

/// One step of a flow.
package struct FlowStep: Sendable {
    package var id: String
    package var component: String
    package var input: Expression
    package var onError: ErrorPolicy
    package var mustExecute: Bool
    /// Nodal's `timeout` key, in seconds: how long a pooled or async call may run.
    package var timeout: Double?
    /// Nodal's `cache` key: reuse a result stored for the same node and input.
    package var cache: Bool = false
    /// The schemas the step declares itself (`inputSchema`, `outputSchema`), which take the place
    /// of its component's; nil when it declares none.
    package var schemas: StepSchemas?
    /// Nodal's `flow` key: the step runs another flow file (its `component` reads `flow:PATH`).
    package var subflow: Subflow?
    /// Steps the input needs before it can be evaluated at all (outside lazy branches), unique.
    package var eagerDependencies: [Int]
}

/// A step's sub-flow: the path as written in the parent and the flow read from it.
package struct Subflow: Sendable {
    package var path: String
    package var flow: Flow
}

/// What a step does when its node fails (Stepflow's `onError`, plus Nodal's `continue`).
public enum ErrorPolicy: Sendable, Hashable {
    /// The run fails (the default); steps in flight are canceled; steps not started are `notRun`.
    case fail
    /// The step's output becomes the given value (null when none) and the run goes on.
    case useDefault(JSON)
    /// Try again, up to `maxRetries` more times, waiting between attempts.
    case retry(RetryPolicy)
    /// The step is recorded `failed`, the steps that read it are `skipped`, and independent steps
    /// run to the end. The run's status is then `failed`, with whatever output could be built.
    case `continue`
}

/// How a step retries: `maxRetries` more attempts, waiting `initialInterval` before the first
/// retry and `multiplier` times longer before each next one, capped at `maxInterval`, each wait
/// varied by up to `jitter` (a fraction: 0.1 is plus or minus 10%).
public struct RetryPolicy: Sendable, Hashable {
    public var maxRetries: Int
    public var initialInterval: Duration
    public var multiplier: Double
    public var maxInterval: Duration
    public var jitter: Double

    public init(
        maxRetries: Int, initialInterval: Duration = .zero, multiplier: Double = 2, maxInterval: Duration = .seconds(30),
        jitter: Double = 0
    ) {
        self.maxRetries = maxRetries
        self.initialInterval = initialInterval
        self.multiplier = multiplier
        self.maxInterval = maxInterval
        self.jitter = jitter
    }

    /// The wait before retry number `retry` (1 for the first retry). Never negative, never more
    /// than `maxInterval` plus its jitter, whatever the policy's values (a policy built in code is
    /// not range-checked as a flow's is).
    public func delay(beforeRetry retry: Int) -> Duration {
        let initial = initialInterval.inSeconds, cap = maxInterval.inSeconds
        guard initial > 0, cap > 0 else { return .zero }
        var delay = min(initial, cap)
        var step = 1
        // Ends after at most about 2,100 steps whatever `retry` is: the delay reaches
        // `maxInterval`, or underflows to 0, or (multiplier 1) stays as it is.
        while step < retry, delay < cap, delay > 0, multiplier != 1 {
            delay *= multiplier
            step += 1
        }
        guard delay > 0 else { return .zero }  // NaN from 0 * infinity, or a multiplier of 0
        delay = min(delay, cap)
        if jitter > 0, jitter.isFinite { delay *= 1 + Double.random(in: -min(jitter, 1)...min(jitter, 1)) }
        return .clampedSeconds(delay)
    }
}

/// A test case from a flow's `test: cases:`.
public struct FlowTestCase: Sendable {
    public var name: String
    public var description: String?
    public var input: JSON
    /// `{outcome: success, result: ...}` or `{outcome: failed, error: ...}`.
    public var expected: JSON?
}
