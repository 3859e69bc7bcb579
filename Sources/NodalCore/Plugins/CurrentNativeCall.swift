import NodalJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The native call the current thread is inside, if any: a thread-local pointer to the call's
/// `CallContext`, set by `NativeNode.call` around `invoke`.
///
/// It is what lets the CLI say which step's plugin called `exit()`: the process's exit handlers
/// run on the thread that called it, still inside the plugin's `invoke`, so the pointer (and the
/// context in `NativeNode.call`'s frame) is still valid there.
package enum CurrentNativeCall {
    /// Created once per process, never deleted.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    static func enter(_ context: UnsafePointer<CallContext>) {
        pthread_setspecific(key, UnsafeRawPointer(context))
    }

    static func leave() {
        pthread_setspecific(key, nil)
    }

    /// The step and node of the call this thread is inside; nil outside native calls.
    package static var current: (step: String, node: String)? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        let context = pointer.assumingMemoryBound(to: CallContext.self).pointee
        return (context.stepID, context.nodeID)
    }
}
