import NodalJSON
import FoundationEssentials

/// The engine as the blobs and runs extensions of its plugins' calls reach it (`ExtensionHost`):
/// sub-runs, started by `runs.submit` and kept in `subRuns`, or handed to the run service
/// installed as their host (`installSubRunHost`). Either way a plugin reaches only the runs under
/// its own run's root.
extension Engine: ExtensionHost {
    /// Makes `host` keep the runs plugins submit from now on (a run service does, so they are its
    /// runs). Runs submitted before stay in this engine's memory.
    package func installSubRunHost(_ host: any SubRunHost) {
        subRuns.install(host)
    }

    /// Goes back to keeping submitted runs in memory, if `host` is the one installed.
    package func uninstallSubRunHost(_ host: any SubRunHost) {
        subRuns.uninstall(host)
    }

    /// `options` with this engine as the one its native calls' extensions reach; every run the
    /// engine starts goes through here.
    func withExtensions(_ options: RunOptions) -> RunOptions {
        var options = options
        options.extensionHost = self
        return options
    }

    func submitRun(_ request: JSON, caller: CallerRun) async throws(ExtensionError) -> (runID: String, wait: Bool) {
        if let host = subRuns.host {
            let submitted = try await host.submitRun(request, caller: caller)
            // As a sub-run in memory is, the hosted one is cancelled with the run that submitted it.
            caller.cancellation.onCancel { [weak host] in
                guard let host else { return }
                Task { _ = await host.cancelRun(id: submitted.runID, caller: caller) }
            }
            return submitted
        }
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

    func waitForRun(id: String, caller: CallerRun, orUntilCancelled tokens: [CancellationToken]) {
        if let host = subRuns.host {
            caller.pool.blockingWait {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await host.waitForRun(id: id, caller: caller) }
                    group.addTask { await TokenWait.untilAnyCancelled(tokens) }
                    await group.next()
                    group.cancelAll()
                }
            }
            return
        }
        subRun(id, of: caller)?.wait(orUntilCancelled: tokens)
    }

    func runStatus(id: String, caller: CallerRun, includeResults: Bool, order: ResultOrder) -> JSON? {
        if let host = subRuns.host {
            return caller.pool.blockingWait { await host.runStatus(id: id, caller: caller, includeResults: includeResults, order: order) }
        }
        return subRun(id, of: caller)?.status(includeResults: includeResults, order: order)
    }

    func cancelRun(id: String, caller: CallerRun) -> Bool {
        if let host = subRuns.host {
            return caller.pool.blockingWait { await host.cancelRun(id: id, caller: caller) }
        }
        guard let run = subRun(id, of: caller) else { return false }
        run.cancel()
        return true
    }

    /// The sub-run in memory with this id, if it is under the caller's root: another chain's runs
    /// are not there as far as the caller can tell.
    private func subRun(_ id: String, of caller: CallerRun) -> SubRun? {
        guard let run = subRuns.run(id: id), run.rootRunID == caller.rootRunID else { return nil }
        return run
    }
}
