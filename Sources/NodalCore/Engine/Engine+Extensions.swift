import NodalJSON
import FoundationEssentials

/// The engine as the blobs and runs extensions of its plugins' calls reach it (`ExtensionHost`):
/// sub-runs, started by `runs.submit` and kept in `subRuns`.
extension Engine: ExtensionHost {
    /// `options` with this engine as the one its native calls' extensions reach; every run the
    /// engine starts goes through here.
    func withExtensions(_ options: RunOptions) -> RunOptions {
        var options = options
        options.extensionHost = self
        return options
    }

    func submitRun(_ request: JSON, caller: CallerRun) async throws(ExtensionError) -> (runID: String, wait: Bool) {
        let submit = try SubmitRequest(request)
        guard caller.depth < Limits.nesting else {
            throw ExtensionError("SUBRUNS_TOO_DEEP", "submit: run \(caller.runID) is \(caller.depth) sub-runs deep, and sub-runs nest at most \(Limits.nesting) deep (does a flow submit itself?)")
        }
        let flow = try await flowBlob(submit.flowID, caller: caller)
        do {
            _ = try resolve(flow)
        } catch {
            throw ExtensionError("INVALID_FLOW", "submit: the flow in blob \(submit.flowID) cannot run here: \(error)")
        }
        let overrides = try submit.stepOverrides(for: flow)

        let subRun = SubRun(
            id: UUID().uuidString.lowercased(), flowID: submit.flowID, flowName: flow.name,
            parentRunID: caller.runID, rootRunID: caller.rootRunID, total: submit.inputs.count)
        var options = RunOptions(variables: submit.variables, stepOverrides: overrides, store: caller.store)
        options.cancellation = subRun.cancellation
        options.parentRunID = caller.runID
        options.rootRunID = caller.rootRunID
        options.subRunDepth = caller.depth + 1
        let batch = BatchOptions(
            maxConcurrency: submit.maxConcurrency ?? max(1, submit.inputs.count), order: .completion, batchID: subRun.id,
            run: options)
        subRuns.add(subRun)
        let inputs = submit.inputs
        subRun.attach(Task.detached { [self] in await execute(subRun, flow, inputs: inputs, options: batch) })
        subRun.tie(to: caller.cancellation)
        return (subRun.id, submit.wait)
    }

    /// Runs the sub-run's items as a batch, telling it as each starts and finishes.
    private func execute(_ subRun: SubRun, _ flow: Flow, inputs: [JSON], options: BatchOptions) async {
        var remaining = inputs[...]
        _ = await runItems(
            flow, batchID: subRun.id, options: options, inputOrder: false,
            next: { () async throws(Never) -> BatchInput? in
                guard let input = remaining.popFirst() else { return nil }
                subRun.itemStarted()
                return BatchInput(input)
            },
            deliver: { item in subRun.itemFinished(item.index, item.result) })
        subRun.finish()
        subRuns.finished(subRun)
    }

    /// The flow in blob `id`, from the caller's store, else this engine's memory.
    private func flowBlob(_ id: String, caller: CallerRun) async throws(ExtensionError) -> Flow {
        for store in caller.blobStores {
            let blob: StoredBlob?
            do {
                blob = try await store.storedBlob(id: id)
            } catch {
                throw ExtensionError("STORE_ERROR", "submit: could not read blob \(id): \(error)")
            }
            guard let blob else { continue }
            guard case .json(let document) = blob.content else {
                throw ExtensionError("NOT_A_FLOW", "submit: blob \(id) holds bytes (type \"\(DisplayText.escaped(blob.type))\"), not a flow")
            }
            do {
                // Relative paths in it (sub-flow files) are read from the current folder.
                return try Flow(document: document, configuration: configuration)
            } catch {
                throw ExtensionError("NOT_A_FLOW", "submit: blob \(id) is not a flow: \(error)")
            }
        }
        let places = caller.store == nil ? "this engine's memory (the run has no store)" : "the run's store or this engine's memory"
        throw ExtensionError("BLOB_NOT_FOUND", "submit: no blob with id \(id) in \(places); store the flow first (blobs.put_json with type \"flow\", or /builtin/put_blob)")
    }

    func waitForRun(id: String, orUntilCancelled tokens: [CancellationToken]) {
        subRuns.run(id: id)?.wait(orUntilCancelled: tokens)
    }

    func runStatus(id: String, includeResults: Bool, order: ResultOrder) -> JSON? {
        subRuns.run(id: id)?.status(includeResults: includeResults, order: order)
    }

    func cancelRun(id: String) -> Bool {
        guard let run = subRuns.run(id: id) else { return false }
        run.cancel()
        return true
    }
}
