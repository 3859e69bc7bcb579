import NodalJSON
import Synchronization

/// The sub-runs of one engine, by id: every run in flight, and the last
/// `SubRunLimits.finishedRunsKept` finished ones (older ones are forgotten, so a long-lived engine
/// does not grow without bound; their items stay in the store).
final class SubRunRegistry: Sendable {
    private struct State {
        var runs: [String: SubRun] = [:]
        /// Finished runs' ids, oldest first from `head`.
        var finished: [String] = []
        var head = 0
    }

    private let state = Mutex(State())
    /// Where submitted runs go instead of this registry, when one is installed (a run service).
    private let installedHost = Mutex<(any SubRunHost)?>(nil)

    var host: (any SubRunHost)? { installedHost.withLock { $0 } }

    func install(_ host: (any SubRunHost)?) {
        installedHost.withLock { $0 = host }
    }

    /// Takes `host` out, if it is the one installed.
    func uninstall(_ host: any SubRunHost) {
        installedHost.withLock { installed in
            if installed === host { installed = nil }
        }
    }

    func add(_ run: SubRun) {
        state.withLock { $0.runs[run.id] = run }
    }

    func run(id: String) -> SubRun? {
        state.withLock { $0.runs[id] }
    }

    /// `run` ended: it is kept among the finished ones, and the oldest beyond the limit go.
    func finished(_ run: SubRun) {
        state.withLock { state in
            state.finished.append(run.id)
            while state.finished.count - state.head > SubRunLimits.finishedRunsKept {
                state.runs[state.finished[state.head]] = nil
                state.head += 1
            }
            if state.head > 1024, state.head * 2 > state.finished.count {
                state.finished.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// Runs known now (for tests and diagnostics).
    var count: Int { state.withLock { $0.runs.count } }
    var all: [SubRun] { state.withLock { Array($0.runs.values) } }
}
