import NodalJSON

/// What the blobs and runs extensions read of the call they serve, copied out of its slot so that
/// nothing is held locked while they work (a store write, a wait on a sub-run).
struct ExtensionCall {
    /// The call's run, retained here for as long as the extension works.
    let run: CallerRun?
    /// The node promised not to block (`NODAL_NODE_NON_BLOCKING`): it may not wait on a run.
    let nonBlocking: Bool
    let nodeID: String
    /// The call's own token (the run's, or the step's when it has a timeout).
    let cancellation: CancellationToken?

    /// The call `handle` names, if it is in flight.
    static func live(_ handle: OpaquePointer?) -> ExtensionCall? {
        CallTable.withLiveCall(handle) { _, context in
            let context = context.pointee
            return ExtensionCall(
                run: context.run, nonBlocking: context.node?.info.flags.contains(.nonBlocking) ?? false,
                nodeID: context.nodeID, cancellation: context.cancellation)
        }
    }

    /// Copies `bytes` into the call's arena (NUL-terminated, until the call ends); nil when the
    /// call has finished meanwhile.
    static func keep(_ bytes: some Collection<UInt8>, in handle: OpaquePointer?) -> (pointer: UnsafePointer<CChar>, count: Int)? {
        CallTable.withLiveCall(handle) { state, _ in state.arena.keep(bytes) }
    }

    /// The run, or why the extension cannot work without one.
    func requireRun(_ function: String) throws(ExtensionError) -> CallerRun {
        guard let run else {
            throw ExtensionError("NOT_IN_A_RUN", "\(function): node \(nodeID) was called outside a run of an engine, so there is no run to work in")
        }
        return run
    }
}

/// Store operations from a plugin's thread: at once on an in-memory store (its calls do not
/// suspend), else in a task the thread waits for (`BlockingCallPool.blockingWait`).
extension CallerRun {
    @available(*, noasync)
    func putBlob(_ value: JSON, type: BlobType, in store: any RunStore) -> Result<String, any Error> {
        if let memory = store as? InMemoryRunStore { return Result { try memory.putBlob(value, type: type) } }
        return pool.blockingWait { await Result(awaiting: { try await store.putBlob(value, type: type) }) }
    }

    @available(*, noasync)
    func putBytes(_ bytes: [UInt8], type: String, in store: any RunStore) -> Result<String, any Error> {
        if let memory = store as? InMemoryRunStore { return Result { try memory.putBytes(bytes, type: type) } }
        return pool.blockingWait { await Result(awaiting: { try await store.putBytes(bytes, type: type) }) }
    }

    @available(*, noasync)
    func storedBlob(id: String, in store: any RunStore) -> Result<StoredBlob?, any Error> {
        if let memory = store as? InMemoryRunStore { return Result { try memory.storedBlob(id: id) } }
        return pool.blockingWait { await Result(awaiting: { try await store.storedBlob(id: id) }) }
    }

    /// Where this run's blobs are read from: its store, then the engine's memory.
    var blobStores: [any RunStore] { (store.map { [$0] } ?? []) + [host.memoryStore] }
}

extension Result where Failure == any Error {
    /// `Result(catching:)` for an async body.
    init(awaiting body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
