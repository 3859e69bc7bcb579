import NodalJSON
import Synchronization

/// Where the runs plugins submit (`runs.submit`) go when something other than the engine keeps
/// them: a run service makes them runs of its own, listed and read like any other
/// (`Engine.installSubRunHost`). Without one, the engine keeps them in memory (`SubRunRegistry`).
///
/// Every method gets the calling run (`CallerRun`); `waitForRun`, `runStatus` and `cancelRun` must
/// answer only for runs under the caller's root (a plugin reaches no other tenant's runs), as if
/// no other run existed.
package protocol SubRunHost: AnyObject, Sendable {
    /// Checks the request, starts the run and returns its id and whether the request asked to wait.
    func submitRun(_ request: JSON, caller: CallerRun) async throws(ExtensionError) -> (runID: String, wait: Bool)
    /// Returns once run `id` ended (or paused), at once for an id the caller cannot reach; returns
    /// early when the task is cancelled.
    func waitForRun(id: String, caller: CallerRun) async
    /// The run's status as the runs extension replies it (the seed's `runs/get` result).
    func runStatus(id: String, caller: CallerRun, includeResults: Bool, order: ResultOrder) async -> JSON?
    /// Asks the run to stop; false when the caller cannot reach it.
    func cancelRun(id: String, caller: CallerRun) async -> Bool
}

/// The deepest a chain of sub-runs may go (`Limits.nesting`), for hosts to check as `submit` does.
package let maxSubRunDepth = Limits.nesting

/// A one-shot wake-up for an async wait that ends when any of some tokens is cancelled, or the
/// waiting task is.
package enum TokenWait {
    /// Returns once one of `tokens` is cancelled (at once if one is), or the task is cancelled.
    package static func untilAnyCancelled(_ tokens: [CancellationToken]) async {
        let box = Box()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                box.set(continuation)
                for token in tokens {
                    let key = token.onCancel { box.fire() }
                    box.keep(token, key)
                }
            }
        } onCancel: {
            box.fire()
        }
        box.removeHandlers()
    }

    private final class Box: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Void, Never>?
            var fired = false
            var handlers: [(CancellationToken, Int)] = []
        }
        private let state = Mutex(State())

        func set(_ continuation: CheckedContinuation<Void, Never>) {
            let resumeNow = state.withLock { state -> Bool in
                if state.fired { return true }
                state.continuation = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }

        func keep(_ token: CancellationToken, _ key: Int) {
            state.withLock { $0.handlers.append((token, key)) }
        }

        func fire() {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.fired = true
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume()
        }

        func removeHandlers() {
            let handlers = state.withLock { state in
                defer { state.handlers = [] }
                return state.handlers
            }
            for (token, key) in handlers { token.removeHandler(key) }
        }
    }
}
