/// A flow read from a file or string: steps, their inputs, the output, and its test cases.
///
/// Read with `Flow(contentsOfFile:)` or `Flow(yaml:)` / `Flow(json:)`. The format is Stepflow's
/// v1 flow format (https://stepflow.org/schemas/v1/flow.json) with Nodal's extensions.
public struct Flow: Sendable {
    public var name: String?
    public var description: String?
    /// The file the flow was read from, for errors and relative paths.
    public var file: String?
    public var inputSchema: JSON?
    public var outputSchema: JSON?
    public var testCases: [FlowTestCase]

    let steps: [FlowStep]
    let output: Expression
    let stepIndexes: [String: Int]

    public var stepIDs: [String] { steps.map(\.id) }
}

/// One step of a flow.
struct FlowStep: Sendable {
    var id: String
    var component: String
    var input: Expression
    var onError: ErrorPolicy
    var mustExecute: Bool
    /// Steps the input needs before it can be evaluated at all (outside lazy branches), unique.
    var eagerDependencies: [Int]
}

/// What a step does when its node fails (Stepflow's `onError`).
enum ErrorPolicy: Sendable {
    /// The run fails (the default).
    case fail
    /// The step's output becomes the given value (null when none).
    case useDefault(JSON)
    /// Try again, up to `maxRetries` more times, waiting between attempts.
    case retry(RetryPolicy)
}

struct RetryPolicy: Sendable {
    var maxRetries: Int
    /// Delay before the first retry, in seconds.
    var initialInterval: Double = 0
    var multiplier: Double = 2
    var maxInterval: Double = 30

    func delay(beforeRetry retry: Int) -> Double {
        guard initialInterval > 0 else { return 0 }
        var delay = initialInterval
        for _ in 1..<max(retry, 1) { delay *= multiplier }
        return min(delay, maxInterval)
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
