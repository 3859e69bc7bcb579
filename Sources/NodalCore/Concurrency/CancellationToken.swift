import NodalJSON
import Synchronization
import CNodalShims

/// A flag any thread can raise to cancel the runs that share it. Plugins see it through the ABI's
/// `is_cancelled` (one atomic load, one more per parent).
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    private let parent: CancellationToken?
    private let handlers = Mutex<[Int: @Sendable () -> Void]>([:])
    private let nextHandler = Atomic<Int>(0)

    /// In a plugin host: the call's cancel flag in memory shared with the engine, which raises
    /// it (PluginHostProcess.setCancelFlag). Read with one atomic load, no round trip.
    nonisolated(unsafe) private let sharedFlag: UnsafePointer<UInt32>?

    public init() {
        parent = nil
        sharedFlag = nil
    }

    /// A token that is also cancelled whenever `parent` is.
    init(parent: CancellationToken?) {
        self.parent = parent
        sharedFlag = nil
    }

    /// A token that is also cancelled when the word at `sharedFlag` is not zero. The memory must
    /// outlive the token.
    package init(sharedFlag: UnsafePointer<UInt32>) {
        parent = nil
        self.sharedFlag = sharedFlag
    }

    public func cancel() {
        guard !flag.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let pending = handlers.withLock { handlers in
            defer { handlers.removeAll() }
            return Array(handlers.values)
        }
        for handler in pending { handler() }
    }

    public var isCancelled: Bool {
        flag.load(ordering: .acquiring) || parent?.isCancelled == true || sharedFlag.map { nodal_atomic_load_u32($0) != 0 } == true
    }

    /// Calls `handler` once when this token is cancelled (at once if it already is). Returns a
    /// key for `removeHandler`.
    @discardableResult
    package func onCancel(_ handler: @escaping @Sendable () -> Void) -> Int {
        let key = nextHandler.add(1, ordering: .relaxed).newValue
        handlers.withLock { $0[key] = handler }
        if flag.load(ordering: .acquiring) {
            if let handler = handlers.withLock({ $0.removeValue(forKey: key) }) { handler() }
        }
        return key
    }

    package func removeHandler(_ key: Int) {
        _ = handlers.withLock { $0.removeValue(forKey: key) }
    }
}
