internal import CNodal

/// Promises a node makes that the engine acts on (the `NODAL_NODE_*` flags of include/nodal.h).
public struct NodeFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The node may be called from several threads at once; without it, calls are serialized.
    public static let threadSafe = NodeFlags(rawValue: UInt64(NODAL_NODE_THREAD_SAFE))
    /// Cheap and never blocks (no I/O, no sleeping, bounded work): called inline, without a
    /// thread hop. Without it, calls run on the engine's pool of threads for blocking work.
    public static let nonBlocking = NodeFlags(rawValue: UInt64(NODAL_NODE_NON_BLOCKING))
    /// Same input, same output, no side effects: results may be cached.
    public static let deterministic = NodeFlags(rawValue: UInt64(NODAL_NODE_DETERMINISTIC))
    /// The node checks `context.isCancelled` during long work and stops promptly.
    public static let cancellable = NodeFlags(rawValue: UInt64(NODAL_NODE_CANCELLABLE))

    /// A pure computation: thread-safe, non-blocking and deterministic.
    public static let pure: NodeFlags = [.threadSafe, .nonBlocking, .deterministic]
}
