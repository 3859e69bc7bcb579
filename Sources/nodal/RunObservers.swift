import Dispatch
import Nodal
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Prints each event as one JSON line on standard output (`nodal run --events`).
final class EventPrinter: Sendable {
    private let lock = Mutex(())

    func print(_ event: RunEvent) {
        let line = event.json.serialized() + "\n"
        lock.withLock { _ in writeAll(1, line) }
    }
}

/// The live progress line on a terminal: steps done / total and the steps running now.
/// Events only update the counts; a ticker redraws the line ten times a second, so it is never
/// stale and a flow with many quick steps does not flood the terminal.
final class ProgressLine: Sendable {
    private struct State {
        var total = 0
        var done = 0
        var running: [String] = []
        var stopped = false
    }
    private let state = Mutex(State())
    /// The flow's own steps: a sub-flow's steps (`review.draft`) show as running but are not
    /// counted, so the count never passes the total.
    private let counted: Set<String>

    /// Only on a terminal: progress never reaches a file or a pipe.
    static var isAvailable: Bool { isatty(2) != 0 }

    init(steps: [String]) {
        counted = Set(steps)
        state.withLock { $0.total = steps.count }
        Task.detached { [self] in
            while draw() {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func observe(_ event: RunEvent) {
        state.withLock { state in
            switch event.kind {
            case .runStarted(let steps): state.total = steps
            case .stepStarted(let step, _): state.running.append(step)
            case .stepSucceeded(let step, _), .stepFailed(let step, _), .stepCanceled(let step):
                state.running.removeAll { $0 == step }
                if counted.contains(step) { state.done += 1 }
            case .stepPaused(let step, _, _): state.running.removeAll { $0 == step }
            case .stepRetried(let step, _, _, _): state.running.removeAll { $0 == step }
            case .stepSkipped(let step, _): if counted.contains(step) { state.done += 1 }
            default: break
            }
        }
    }

    /// Draws the line; false once the line was cleared.
    private func draw() -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            // Step ids come from the flow: escaped, so that none can drive the terminal.
            let running = state.running.prefix(4).map { DisplayText.escaped($0) }.joined(separator: ", ")
                + (state.running.count > 4 ? ", ..." : "")
            writeAll(2, "\r\u{1B}[K[\(state.done)/\(state.total)] running: \(running.isEmpty ? "-" : running)")
            return true
        }
    }

    func clear() {
        state.withLock { state in
            state.stopped = true
            writeAll(2, "\r\u{1B}[K")
        }
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
