import Dispatch
import Nodal
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Prints each event as one JSON line on standard output (`nodal run --events`).
final class EventPrinter: Sendable {
    func print(_ event: RunEvent) {
        Console.write(event.json.serialized() + "\n", to: 1)
    }

    /// The last line: the run's result, as an event (see `finishedEvent`).
    func printFinished(_ result: RunResult, format: OutputFormat) {
        Console.write(finishedEvent(result, format: format).serialized() + "\n", to: 1)
    }
}

/// `run.finished`, the last line of `nodal run --events`: the run's `status`, `output`, `error`
/// (as in `--format json`) and `durationMs`, a paused run's `pause`, a dry run's `plan`, and with
/// `--format json` the whole result under `result`. Standard output then holds JSON lines only.
func finishedEvent(_ result: RunResult, format: OutputFormat) -> JSON {
    let whole = result.json.objectValue ?? JSONObject()
    var object: JSONObject = [
        "runId": .string(result.runID), "time": whole["endedAt"] ?? .null, "event": "run.finished",
        "status": .string(result.status.rawValue), "output": result.output ?? .null, "error": whole["error"] ?? .null,
        "durationMs": whole["durationMs"] ?? .null,
    ]
    if let pause = whole["pause"] { object["pause"] = pause }
    if let plan = result.plan { object["plan"] = plan.json }
    if format == .json { object["result"] = .object(whole) }
    return .object(object)
}

/// The live progress line of one run on a terminal: steps done / total and the steps running now.
final class ProgressLine: Sendable {
    private struct State {
        var total = 0
        var done = 0
        var running: [String] = []
    }
    private let state = Mutex(State())
    /// The flow's own steps: a sub-flow's steps (`review.draft`) show as running but are not
    /// counted, so the count never passes the total.
    private let counted: Set<String>
    private let status = Mutex<LiveStatus?>(nil)

    /// Only on a terminal: progress never reaches a file or a pipe.
    static var isAvailable: Bool { Console.hasTerminal }

    init(steps: [String]) {
        counted = Set(steps)
        state.withLock { $0.total = steps.count }
        let live = LiveStatus { [weak self] in
            self?.state.withLock { state in
                // Step ids come from the flow: escaped, so that none can drive the terminal.
                let running = state.running.prefix(4).map { DisplayText.escaped($0) }.joined(separator: ", ")
                    + (state.running.count > 4 ? ", ..." : "")
                return "[\(state.done)/\(state.total)] running: \(running.isEmpty ? "-" : running)"
            } ?? ""
        }
        status.withLock { $0 = live }
    }

    func observe(_ event: RunEvent) {
        state.withLock { state in
            switch event.kind {
            case .runStarted(let steps): state.total = steps
            case .stepStarted(let step, _): state.running.append(step)
            case .stepSucceeded(let step, _, _, _), .stepFailed(let step, _), .stepCanceled(let step):
                state.running.removeAll { $0 == step }
                if counted.contains(step) { state.done += 1 }
            case .stepPaused(let step, _, _): state.running.removeAll { $0 == step }
            case .stepRetried(let step, _, _, _): state.running.removeAll { $0 == step }
            case .stepSkipped(let step, _): if counted.contains(step) { state.done += 1 }
            default: break
            }
        }
    }

    func clear() {
        status.withLock { $0?.stop() }
    }
}

/// Ctrl-C cancels the run (the partial result is still printed); a second Ctrl-C exits at once.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(token: CancellationToken) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let pressed = Atomic<Int>(0)
        source.setEventHandler {
            if pressed.add(1, ordering: .relaxed).newValue > 1 {
                PluginExitGuard.exitingOnPurpose.store(true, ordering: .releasing)
                NativeExitGuard.disarm()
                exit(130)
            }
            printError("\ninterrupted: canceling the run (Ctrl-C again to quit now)")
            token.cancel()
        }
        source.resume()
        self.source = source
    }

    deinit { source.cancel() }
}

func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
