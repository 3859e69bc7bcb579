import NodalJSON

/// The run a native call belongs to, as the blobs and runs extensions need it: where its blobs
/// go, what its sub-runs are tied to, and the engine that runs it. One per run (`FlowRun`), shared
/// by its calls. A run service that hosts sub-runs (`SubRunHost`) reads it too.
package final class CallerRun: Sendable {
    package let runID: String
    /// The top of the chain of parents: `runID` itself for a run started from outside.
    package let rootRunID: String
    /// How many sub-runs deep the run is: 0 for a run started from outside.
    package let depth: Int
    /// The run's store (`RunOptions.store`); nil when it has none (blobs then go to the engine's
    /// memory).
    package let store: (any RunStore)?
    /// The run's own token, raised when the run is canceled or stops on a failure: the run's
    /// sub-runs are canceled with it.
    package let cancellation: CancellationToken
    /// The engine's blocking-call pool: a call that waits on a sub-run has a thread started in
    /// its place there.
    package let pool: BlockingCallPool
    let host: any ExtensionHost

    init(
        runID: String, rootRunID: String, depth: Int, store: (any RunStore)?, cancellation: CancellationToken,
        pool: BlockingCallPool, host: any ExtensionHost
    ) {
        self.runID = runID
        self.rootRunID = rootRunID
        self.depth = depth
        self.store = store
        self.cancellation = cancellation
        self.pool = pool
        self.host = host
    }
}

/// What the blobs and runs extensions reach of the engine running the calling step. The engine
/// conforms (Engine/Engine+Extensions.swift); this folder knows nothing else of it.
protocol ExtensionHost: AnyObject, Sendable {
    /// The configuration flows stored as blobs are read with (its grants).
    var configuration: NodalConfig { get }
    /// Where the blobs of runs that have no store live.
    var memoryStore: InMemoryRunStore { get }
    /// `runs.submit` up to its wait: checks the request, reads its flow and starts the sub-run of
    /// `caller`. Returns the new run's id and whether the request asked to wait.
    func submitRun(_ request: JSON, caller: CallerRun) async throws(ExtensionError) -> (runID: String, wait: Bool)
    /// Parks the calling thread until run `id` finished or one of `tokens` is cancelled; returns
    /// at once for an id no run of `caller`'s chain has.
    @available(*, noasync, message: "parks the calling thread")
    func waitForRun(id: String, caller: CallerRun, orUntilCancelled tokens: [CancellationToken])
    /// The run's status as the runs extension replies it; nil when no run of `caller`'s chain (the
    /// runs under the same root) has this id: a plugin reaches no other run.
    @available(*, noasync, message: "may park the calling thread")
    func runStatus(id: String, caller: CallerRun, includeResults: Bool, order: ResultOrder) -> JSON?
    /// Asks run `id` to stop. False when no run of `caller`'s chain has this id.
    @available(*, noasync, message: "may park the calling thread")
    func cancelRun(id: String, caller: CallerRun) -> Bool
}

/// The order of a run status's `results` (Stepflow's `resultOrder`).
package enum ResultOrder: String, Sendable {
    /// Item 0 first.
    case byIndex
    /// The order the items finished in.
    case byCompletion
}

/// Why an extension refused a request: the `{code, message}` reply of NODAL_ERROR.
package struct ExtensionError: Error, Sendable, Hashable, CustomStringConvertible {
    package var code: String
    package var message: String

    package init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    var json: JSON { ["code": .string(code), "message": .string(message)] }
    package var description: String { "\(code): \(message)" }

    /// The request names a field wrongly (or not at all).
    package static func invalidRequest(_ function: String, _ message: String) -> ExtensionError {
        ExtensionError("INVALID_REQUEST", "\(function): \(message)")
    }
}
