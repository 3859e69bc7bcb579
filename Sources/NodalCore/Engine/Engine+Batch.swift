public import NodalJSON
import FoundationEssentials

/// Batches: one flow over many inputs, as Stepflow's `runs/submit` with an `inputs` array.
///
/// Every item is one `run` of the flow, at most `BatchOptions.maxConcurrency` at once in a sliding
/// window: a new item starts as soon as one finishes. Item `i` runs with run id
/// `"<batchID>-<i>"`. A batch never throws because items failed; each item's `RunResult` says
/// what happened to it and `BatchCounts` sums them up.
///
/// Cancelling `BatchOptions.run.cancellation`, or the task that awaits the batch, cancels the runs
/// in flight (they end `canceled`) and starts no more items.
extension Engine {
    /// Runs `flow` once per input and returns every result, in input or completion order.
    ///
    /// Items not started because the batch was canceled are returned with status `canceled`
    /// (error code `CANCELED`), after the others.
    public func runBatch(_ flow: Flow, inputs: [JSON], options: BatchOptions = BatchOptions()) async -> BatchResult {
        let clockStart = ContinuousClock.now
        let batchID = options.batchID ?? options.run.runID ?? UUID().uuidString.lowercased()
        var items: [BatchItemResult] = []
        items.reserveCapacity(inputs.count)
        var remaining = inputs[...]
        // Results are kept as they finish; input order is restored at the end, so no reorder
        // window holds back the next item.
        let run = await runItems(
            flow, batchID: batchID, options: options, inputOrder: false,
            next: { () async throws(Never) -> BatchInput? in remaining.popFirst().map { BatchInput($0) } },
            deliver: { items.append($0) })
        var counts = run.counts
        for index in run.started..<inputs.count {
            let result = notStarted(flow, input: inputs[index], runID: "\(batchID)-\(index)", options: options.run)
            counts.add(result.status)
            items.append(BatchItemResult(index: index, result: result))
        }
        if options.order == .input {
            var ordered = [BatchItemResult?](repeating: nil, count: items.count)
            for item in items { ordered[item.index] = item }
            items = ordered.map { $0! }
        }
        return BatchResult(batchID: batchID, items: items, counts: counts, duration: ContinuousClock.now - clockStart)
    }

    /// Runs `flow` once per input as the inputs arrive, handing each result to `onResult` and
    /// keeping none: memory stays bounded however many inputs there are.
    ///
    /// At most `maxConcurrency` inputs are taken from the sequence ahead of their results; in
    /// input order, also at most `reorderBuffer` finished results wait for an earlier item.
    /// `onResult` is called one result at a time, from the task running the batch, in the order
    /// asked; no new item starts while it runs, so a slow consumer slows the batch instead of
    /// filling memory.
    ///
    /// If the sequence throws, no more items start, the runs in flight finish and are reported,
    /// then the error is rethrown. On cancellation the sequence is not read further, and items not
    /// yet taken from it are not reported. Returns the counts of the items reported.
    @discardableResult
    public func runBatch<Inputs: AsyncSequence>(
        _ flow: Flow, inputs: Inputs, options: BatchOptions = BatchOptions(),
        onResult: @Sendable (BatchItemResult) async -> Void
    ) async throws(Inputs.Failure) -> BatchCounts where Inputs.Element == JSON {
        try await runBatch(flow, inputs: inputs.map { BatchInput($0) }, options: options, onResult: onResult)
    }

    /// The streaming form for items that may carry their own error, such as the lines of a
    /// `JSONLinesReader`: an item whose input is a `BatchInputError` is not run, and its result
    /// is `failed` with code `INVALID_INPUT` and the error's message (which names the line).
    @discardableResult
    public func runBatch<Inputs: AsyncSequence>(
        _ flow: Flow, inputs: Inputs, options: BatchOptions = BatchOptions(),
        onResult: @Sendable (BatchItemResult) async -> Void
    ) async throws(Inputs.Failure) -> BatchCounts where Inputs.Element == BatchInput {
        var iterator = inputs.makeAsyncIterator()
        let batchID = options.batchID ?? options.run.runID ?? UUID().uuidString.lowercased()
        let run = await runItems(
            flow, batchID: batchID, options: options, inputOrder: options.order == .input,
            next: { () async throws(Inputs.Failure) -> BatchInput? in try await iterator.next(isolation: nil) },
            deliver: onResult)
        if let failure = run.failure { throw failure }
        return run.counts
    }

    // MARK: The sliding window

    /// Takes items from `next` and runs them, at most `maxConcurrency` in flight, handing each
    /// result to `deliver` (in input order when `inputOrder`, through a bounded reorder buffer).
    /// Stops taking items on cancellation or when `next` throws. Returns the counts of delivered
    /// items, how many items were taken, and `next`'s error if any.
    func runItems<Failure: Error>(
        _ flow: Flow, batchID: String, options: BatchOptions, inputOrder: Bool,
        next: () async throws(Failure) -> BatchInput?,
        deliver: (BatchItemResult) async -> Void
    ) async -> (counts: BatchCounts, started: Int, failure: Failure?) {
        let maxInFlight = options.effectiveConcurrency
        // In input order, item i starts only once every item before i - window has been delivered:
        // in flight plus waiting in the reorder buffer never exceed the window.
        let (sum, overflow) = maxInFlight.addingReportingOverflow(options.effectiveReorderBuffer)
        let window = inputOrder && !overflow ? sum : Int.max
        // One token for the batch: the caller's token is its parent, and cancelling the task that
        // awaits the batch raises it, so runs in flight see either.
        let token = CancellationToken(parent: options.run.cancellation)
        var counts = BatchCounts()
        var taken = 0
        var failure: Failure?

        await withTaskCancellationHandler {
            await withTaskGroup(of: BatchItemResult.self) { group in
                var reorder = ReorderBuffer()
                var inFlight = 0
                var exhausted = false

                func accept(_ item: BatchItemResult) async {
                    counts.add(item.result.status)
                    guard inputOrder else {
                        await deliver(item)
                        return
                    }
                    reorder.insert(item)
                    while let ready = reorder.popReady() { await deliver(ready) }
                }

                while true {
                    while !exhausted && inFlight < maxInFlight && taken - reorder.delivered < window {
                        // A drained batch starts no more items, as a drained run starts no more steps.
                        if token.isCancelled || Task.isCancelled || options.run.drain?.isCancelled == true {
                            exhausted = true
                            break
                        }
                        let input: BatchInput?
                        do throws(Failure) {
                            input = try await next()
                        } catch {
                            failure = error
                            exhausted = true
                            break
                        }
                        guard let input else {
                            exhausted = true
                            break
                        }
                        let index = taken
                        taken += 1
                        let runOptions = itemOptions(options.run, runID: "\(batchID)-\(index)", cancellation: token)
                        switch input.value {
                        case .success(let json):
                            inFlight += 1
                            let line = input.line
                            group.addTask {
                                BatchItemResult(index: index, line: line, result: await self.run(flow, input: json, options: runOptions))
                            }
                        case .failure(let error):
                            await accept(BatchItemResult(index: index, line: input.line, result: invalidInput(flow, error: error, options: runOptions)))
                        }
                    }
                    if inFlight == 0 && exhausted { break }
                    guard let item = await group.next() else { break }
                    inFlight -= 1
                    // The token cannot wake this loop, so runs still in flight learn of it here
                    // too, through task cancellation (an async node's sleep ends at once).
                    if token.isCancelled { group.cancelAll() }
                    await accept(item)
                }
            }
        } onCancel: {
            token.cancel()
        }
        return (counts, taken, failure)
    }

    private func itemOptions(_ template: RunOptions, runID: String, cancellation: CancellationToken) -> RunOptions {
        var options = template
        options.runID = runID
        // A batch item cannot be resumed on its own, so it cannot pause either.
        options.allowsInterrupts = false
        options.cancellation = cancellation
        return options
    }

    /// The result of an item that was not run because its input could not be read.
    private func invalidInput(_ flow: Flow, error: BatchInputError, options: RunOptions) -> RunResult {
        var result = RunResult.invalid(flow: flow, input: .null, options: options, error: error)
        result.status = .failed
        result.error?.code = "INVALID_INPUT"
        result.error?.message = error.description
        return result
    }

    /// The result of an item the batch never started because it was canceled first.
    private func notStarted(_ flow: Flow, input: JSON, runID: String, options: RunOptions) -> RunResult {
        var options = options
        options.runID = runID
        var result = RunResult.invalid(flow: flow, input: input, options: options, error: CancellationError())
        result.status = .canceled
        result.error?.code = "CANCELED"
        result.error?.message = "the batch was canceled before this item started"
        return result
    }
}

/// Results that finished ahead of an earlier item, held until every earlier one is out.
/// The batch's window bounds how many can be here at once.
struct ReorderBuffer {
    private var waiting: [Int: BatchItemResult] = [:]
    /// Items handed out so far: the index of the next one to hand out.
    private(set) var delivered = 0

    mutating func insert(_ item: BatchItemResult) { waiting[item.index] = item }

    mutating func popReady() -> BatchItemResult? {
        guard let item = waiting.removeValue(forKey: delivered) else { return nil }
        delivered += 1
        return item
    }

    var count: Int { waiting.count }
}
