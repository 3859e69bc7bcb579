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
/// - Returns: the exit status: 0 if every item succeeded (or the file had none), else 1.
/// - Throws: `CLIError.usage` if the file cannot be opened.
func runBatchFromFile(
    engine: Engine, flow: Flow, path: String, maxConcurrency: Int? = nil, order: BatchOrderOption = .input,
    runOptions: RunOptions = RunOptions()
) async throws -> Int32 {
    let reader: JSONLinesReader
    do {
        reader = try JSONLinesReader(path: path)
    } catch {
        throw CLIError.usage("--inputs-file: \(error)")
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
    do {
        counts = try await engine.runBatch(flow, inputs: reader, options: options) { item in
            output.append(item.json)
        }
    } catch {
        printError("error: \(error)")
        status = 1
    }
    flusher.cancel()
    output.flush()
    let elapsed = clock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = seconds > 0 ? Int((Double(counts.total) / seconds).rounded()) : 0
    var summary = "batch: \(counts) in \(formatSeconds(seconds)) s (\(rate) items/s)"
    if runOptions.cancellation?.isCancelled == true { summary += "; canceled: the rest of \(path) was not run" }
    printError(summary)
    if !counts.allSucceeded { status = 1 }
    return status
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

    init(descriptor: Int32) { self.descriptor = descriptor }

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
    private func drain(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
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
