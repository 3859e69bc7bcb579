import Synchronization

/// A flag any thread can raise to cancel the runs that share it. Plugins see it through the ABI's
/// `is_cancelled` (one atomic load, two with a parent).
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)
    private let parent: CancellationToken?

    public init() { parent = nil }

    /// A token that is also cancelled whenever `parent` is.
    init(parent: CancellationToken?) { self.parent = parent }

    public func cancel() { flag.store(true, ordering: .releasing) }

    public var isCancelled: Bool {
        flag.load(ordering: .acquiring) || parent?.isCancelled == true
    }
}
