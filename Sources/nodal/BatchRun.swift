import ArgumentParser
import Nodal
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `--order` of `nodal run --inputs-file`: the order of the result lines.
enum BatchOrderOption: String, CaseIterable, ExpressibleByArgument {
    case input, completion

    var order: BatchOptions.Order {
        switch self {
        case .input: .input
        case .completion: .completion
        }
    }
}

/// `nodal run FLOW --inputs-file FILE`: runs the flow once per line of a JSON-lines file.
///
/// The file is read incrementally and results are written as they come, so memory stays bounded
/// however long the file is. Standard output gets one compact JSON line per item (the shape of
/// `BatchItemResult.json`: `index`, `line`, `runId`, `status`, `output`, `error`, `durationMs`),
/// in input or completion order; standard error gets a one-line summary. A malformed line is that
/// item's failure (`INVALID_INPUT`, naming the line), not the end of the batch. `path` `-` reads
/// standard input.
///
/// - Returns: the exit status: 0 if every item succeeded (or the file had none), 130 after
/// Ctrl-C, else 1.
/// On a terminal (unless `showProgress` is false), standard error shows a live line: items done
/// / total (the file's non-blank lines, counted first; `?` for standard input), and how they
/// ended so far.
///
/// - Throws: `CLIError.notFound` (66) if the file cannot be opened.
func runBatchFromFile(
    engine: Engine, flow: Flow, path: String, maxConcurrency: Int? = nil, order: BatchOrderOption = .input,
    runOptions: RunOptions = RunOptions(), showProgress: Bool = true
) async throws -> Int32 {
    let reader: JSONLinesReader
    do {
        reader = try JSONLinesReader(path: path)
    } catch {
        throw CLIError.notFound("--inputs-file: \(error)")
    }
    let options = BatchOptions(
        maxConcurrency: maxConcurrency ?? BatchOptions.defaultMaxConcurrency, order: order.order, run: runOptions)
    let output = LineWriter(descriptor: 1)
    // Lines are written in 64 KiB blocks; this task writes out a partial block after a short
    // pause, so results of a slow batch still appear as they come.
    let flusher = Task.detached {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            output.flush()
        }
    }
    let clock = ContinuousClock()
    let started = clock.now
    var status: Int32 = 0
    var counts = BatchCounts()
    let progress = showProgress && Console.hasTerminal ? BatchProgress(total: countItems(path)) : nil
    do {
        counts = try await engine.runBatch(flow, inputs: reader, options: options) { item in
            output.append(item.json)
            progress?.finished(item.status)
        }
    } catch {
        printError("error: \(error)")
        status = 1
    }
    flusher.cancel()
    output.flush()
    progress?.stop()
    let elapsed = clock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = seconds > 0 ? Int((Double(counts.total) / seconds).rounded()) : 0
    var summary = "batch: \(counts) in \(formatSeconds(seconds)) s (\(rate) items/s)"
    if runOptions.cancellation?.isCancelled == true { summary += "; canceled: the rest of \(path) was not run" }
    printError(summary)
    if !counts.allSucceeded { status = 1 }
    // Ctrl-C ends a batch as it ends one run: 130, the exit code table's "canceled" (it was 1,
    // "an item failed", though every item was canceled and none failed).
    if runOptions.cancellation?.isCancelled == true { status = ExitStatus.canceled.rawValue }
    return status
}

/// The live line of a batch on a terminal: `[37/100] items done: 35 succeeded, 2 failed`.
final class BatchProgress: Sendable {
    private let counts = Mutex(BatchCounts())
    private let status = Mutex<LiveStatus?>(nil)

    init(total: Int?) {
        let live = LiveStatus { [weak self] in
            guard let done = self?.counts.withLock({ $0 }) else { return "" }
            var line = "[\(done.total)/\(total.map(String.init) ?? "?")] items done: \(done.succeeded) succeeded, \(done.failed) failed"
            if done.canceled > 0 { line += ", \(done.canceled) canceled" }
            if done.paused > 0 { line += ", \(done.paused) paused" }
            return line
        }
        status.withLock { $0 = live }
    }

    func finished(_ status: RunStatus) {
        counts.withLock { counts in
            counts.total += 1
            switch status {
            case .success: counts.succeeded += 1
            case .failed: counts.failed += 1
            case .canceled: counts.canceled += 1
            case .paused: counts.paused += 1
            }
        }
    }

    func stop() { status.withLock { $0?.stop() } }
}

/// How many items a JSON-lines file holds (its lines that are not blank, as `JSONLinesReader`
/// counts them), read once in 64 KiB blocks; nil for standard input or a file that cannot be read.
func countItems(_ path: String) -> Int? {
    guard path != "-", FileSystem.isFile(path) else { return nil }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var block = [UInt8](repeating: 0, count: 1 << 16)
    var items = 0
    var lineHasContent = false
    var offset = 0
    while true {
        let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count < 0 { return nil }
        if count == 0 { break }
        // A byte order mark opening the file is not content (a first block is at least 3 bytes
        // unless the file is shorter).
        let first = offset == 0 && count >= 3 && block[0] == 0xEF && block[1] == 0xBB && block[2] == 0xBF ? 3 : 0
        for byte in block[first..<count] {
            switch byte {
            case 0x0A:
                if lineHasContent { items += 1 }
                lineHasContent = false
            case 0x20, 0x09, 0x0D: break
            default: lineHasContent = true
            }
        }
        offset += count
    }
    return lineHasContent ? items + 1 : items
}

private func formatSeconds(_ seconds: Double) -> String {
    let hundredths = Int((seconds * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

/// Buffers compact JSON lines and writes them to a file descriptor in large blocks.
final class LineWriter: Sendable {
    static let blockSize = 1 << 16
    private let descriptor: Int32
    private let buffer = Mutex<[UInt8]>([])

    private let isTerminal: Bool

    init(descriptor: Int32) {
        self.descriptor = descriptor
        isTerminal = isatty(descriptor) != 0
    }

    func append(_ json: JSON) {
        let line = json.serializedBytes()
        buffer.withLock { buffer in
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
            if buffer.count >= Self.blockSize { drain(&buffer) }
        }
    }

    func flush() {
        buffer.withLock { drain(&$0) }
    }

    /// Writes everything out (the lock is held, so blocks never interleave) and empties `bytes`.
    /// On a terminal the lines go through `Console`, so they never land inside the progress line.
    private func drain(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        if isTerminal {
            Console.write(String(decoding: bytes, as: UTF8.self), to: descriptor)
            bytes.removeAll(keepingCapacity: true)
            return
        }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
