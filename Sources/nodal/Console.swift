import Nodal
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every line `nodal` writes while a live status line (a run's or a batch's progress) may be on
/// the terminal goes through here, so that a line never lands inside the status line: the status
/// line is cleared, the line written, then the status line drawn again below it. One lock orders
/// all of it, so lines from plugin threads, the ticker and the command never interleave.
enum Console {
    private struct State {
        /// The status line's text, while one is shown (nil: none).
        var status: String?
    }
    private static let state = Mutex(State())

    /// Whether standard error is a terminal: the only place a status line is ever drawn.
    static var hasTerminal: Bool { isatty(2) != 0 }

    /// Writes `text` (whole lines) to `fd`. If a status line is shown and `fd` is a terminal too,
    /// the status line is cleared first and drawn again after.
    static func write(_ text: String, to fd: Int32) {
        state.withLock { state in
            let clear = state.status != nil && isatty(fd) != 0
            if clear { writeAll(2, "\r\u{1B}[K") }
            writeAll(fd, text)
            if clear, let status = state.status { writeAll(2, status) }
        }
    }

    /// Draws (or redraws) the status line on standard error.
    static func showStatus(_ text: String) {
        state.withLock { state in
            state.status = text
            writeAll(2, "\r\u{1B}[K" + text)
        }
    }

    /// Clears the status line, if one is shown; lines written after it are ordinary lines.
    static func clearStatus() {
        state.withLock { state in
            guard state.status != nil else { return }
            state.status = nil
            writeAll(2, "\r\u{1B}[K")
        }
    }
}

/// A status line redrawn ten times a second from `render` until `stop()`, so it is never stale
/// and many quick updates do not flood the terminal. It is drawn at once, and once more when it
/// stops (so what was shown last is the final state), then cleared.
final class LiveStatus: Sendable {
    private let render: @Sendable () -> String
    /// Held while drawing, so that no draw of the ticker can follow `stop()`'s clear.
    private let stopped = Mutex(false)

    init(render: @escaping @Sendable () -> String) {
        self.render = render
        _ = draw()
        Task.detached { [self] in
            repeat {
                try? await Task.sleep(for: .milliseconds(100))
            } while draw()
        }
    }

    /// Draws the line; false once stopped.
    private func draw() -> Bool {
        stopped.withLock { stopped in
            if stopped { return false }
            Console.showStatus(render())
            return true
        }
    }

    func stop() {
        stopped.withLock { stopped in
            guard !stopped else { return }
            stopped = true
            Console.showStatus(render())
            Console.clearStatus()
        }
    }
}
