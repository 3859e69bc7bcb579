public import NodalJSON
/// How a batch runs: how many runs at once, in which order results come back, and the options
/// every run of the batch starts from.
public struct BatchOptions: Sendable {
    /// The order results are returned (or handed to `onResult`) in.
    public enum Order: String, Sendable, CaseIterable {
        /// The order of the inputs: item 0 first. When streaming, a result that finishes ahead of
        /// an earlier item waits in a bounded buffer (see `reorderBuffer`).
        case input
        /// The order runs finish in.
        case completion
    }

    /// The default cap on runs in flight.
    public static let defaultMaxConcurrency = 16

    /// The most runs in flight at once (at least 1). Each run's own cap on steps in flight is
    /// `run.maxConcurrency`.
    public var maxConcurrency: Int
    public var order: Order
    /// The batch's id. Item `i` runs with run id `"<batchID>-<i>"`. When nil: `run.runID` if set,
    /// else a new UUID.
    public var batchID: String?
    /// The options every run starts from: variables, per-run step cap, cancellation token
    /// (cancelling it cancels the whole batch). Its `runID` is replaced by the item's run id.
    public var run: RunOptions
    /// Streaming in input order only: how many finished results may wait for an earlier item
    /// that is still running. While the buffer is full, no new item starts, so a streamed batch
    /// holds at most `maxConcurrency + reorderBuffer` items. Default (nil): `4 × maxConcurrency`.
    /// The array form of `runBatch` holds every result anyway and ignores it.
    public var reorderBuffer: Int?

    public init(
        maxConcurrency: Int = BatchOptions.defaultMaxConcurrency, order: Order = .input,
        batchID: String? = nil, run: RunOptions = RunOptions(), reorderBuffer: Int? = nil
    ) {
        self.maxConcurrency = maxConcurrency
        self.order = order
        self.batchID = batchID
        self.run = run
        self.reorderBuffer = reorderBuffer
    }

    var effectiveConcurrency: Int { max(1, maxConcurrency) }
    // Saturating: `maxConcurrency: .max` (or `nodal run --max-concurrency 9223372036854775807`)
    // means no limit, and must not trap on the arithmetic.
    var effectiveReorderBuffer: Int { max(0, reorderBuffer ?? effectiveConcurrency.multipliedSaturated(by: 4)) }
}

/// How many items of a batch ended each way. `total` is the sum of the others.
public struct BatchCounts: Sendable, Hashable, CustomStringConvertible {
    public var total = 0
    public var succeeded = 0
    public var failed = 0
    public var canceled = 0
    /// Runs that stopped for human input (once interrupts exist).
    public var paused = 0

    public init() {}

    public init(total: Int, succeeded: Int, failed: Int, canceled: Int, paused: Int = 0) {
        self.total = total
        self.succeeded = succeeded
        self.failed = failed
        self.canceled = canceled
        self.paused = paused
    }

    /// Every item succeeded (true for an empty batch).
    public var allSucceeded: Bool { succeeded == total }

    mutating func add(_ status: RunStatus) {
        total += 1
        switch status {
        case .success: succeeded += 1
        case .failed: failed += 1
        case .canceled: canceled += 1
        case .paused: paused += 1
        }
    }

    public var description: String {
        var text = "\(total) items: \(succeeded) succeeded, \(failed) failed, \(canceled) canceled"
        if paused > 0 { text += ", \(paused) paused" }
        return text
    }

    public var json: JSON {
        ["total": .int(total), "succeeded": .int(succeeded), "failed": .int(failed), "canceled": .int(canceled), "paused": .int(paused)]
    }
}

/// The result of one item of a batch.
public struct BatchItemResult: Sendable {
    /// The item's position in the inputs, from 0.
    public var index: Int
    /// Where the item came from, when it was read from a JSON-lines file (1-based line number).
    public var line: Int?
    public var result: RunResult

    public init(index: Int, line: Int? = nil, result: RunResult) {
        self.index = index
        self.line = line
        self.result = result
    }

    public var status: RunStatus { result.status }

    /// One compact line of `nodal run --inputs-file`, with the keys always in this order:
    /// `{"index":0,"line":1,"runId":"…","status":"success","output":…,"error":null,"durationMs":0.1}`.
    /// `line` is null when the item did not come from a file; `output` is null unless the run
    /// succeeded; `error` is null on success, else `{"code","message","steps":[{"id","component",
    /// "code","message"}]}` as in `RunResult.json`.
    public var json: JSON {
        var error = JSON.null
        if let failure = result.error {
            error = [
                "code": .string(failure.code),
                "message": .string(failure.message),
                "steps": .array(failure.steps.map {
                    ["id": .string($0.id), "component": .string($0.component), "code": .string($0.code), "message": .string($0.message)]
                }),
            ]
        }
        return [
            "index": .int(index),
            "line": line.map(JSON.int) ?? .null,
            "runId": .string(result.runID),
            "status": .string(result.status.rawValue),
            "output": result.output ?? .null,
            "error": error,
            "durationMs": .double(result.duration.milliseconds),
        ]
    }
}

/// The results of a batch run from an array of inputs.
public struct BatchResult: Sendable {
    public let batchID: String
    /// One result per input, in input order or completion order as `BatchOptions.order` asked.
    /// Items the batch never started (it was canceled first) come last, in input order, with
    /// status `canceled`.
    public let items: [BatchItemResult]
    public let counts: BatchCounts
    /// From the first run's start to the last run's end.
    public let duration: Duration

    /// Where each input's result is in `items`: `items[positions[i]].index == i`.
    let positions: [Int]

    init(batchID: String, items: [BatchItemResult], counts: BatchCounts, duration: Duration) {
        self.batchID = batchID
        self.items = items
        self.counts = counts
        self.duration = duration
        var positions = [Int](repeating: 0, count: items.count)
        for (position, item) in items.enumerated() { positions[item.index] = position }
        self.positions = positions
    }

    /// The result of the input at `index`, whatever the order of `items`.
    public func result(forInput index: Int) -> RunResult? {
        guard index >= 0, index < positions.count else { return nil }
        return items[positions[index]].result
    }
}
