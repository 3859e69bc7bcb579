import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A C plugin whose calls block until the test releases them: a plugin call that is stuck for as
/// long as the test wants, without a real sleep. If the engine waited for such a call, the test
/// would hang (give such tests a time limit) rather than pass slowly.
///
/// - node `/hold/hold` (pooled, thread-safe, ignores cancellation): blocks until `release()`,
///   then returns `{"released": true}`.
/// - node `/hold/hold_inline`: the same, but flagged non-blocking (wrongly, as a careless plugin
///   author might).
/// - C function `nodal_test_hold(void) -> int32` for `/builtin/ffi` steps: the same, returning 0.
///
/// Each instance builds its own copy of the library, so its state is its own.
public final class HoldPlugin: Sendable {
    public let path: String
    private let releaseCalls: @convention(c) () -> Void
    private let enteredCalls: @convention(c) () -> Int32

    static let source = """
        #define _POSIX_C_SOURCE 199309L
        #include "nodal.h"
        #include <time.h>

        static int released = 0;
        static int entered = 0;

        NODAL_EXPORT void nodal_test_release(void) { __atomic_store_n(&released, 1, __ATOMIC_SEQ_CST); }
        NODAL_EXPORT int nodal_test_entered(void) { return __atomic_load_n(&entered, __ATOMIC_SEQ_CST); }

        NODAL_EXPORT int nodal_test_hold(void) {
            struct timespec pause = { 0, 1000000 };
            __atomic_add_fetch(&entered, 1, __ATOMIC_SEQ_CST);
            while (!__atomic_load_n(&released, __ATOMIC_SEQ_CST)) nanosleep(&pause, NULL);
            return 0;
        }

        static nodal_status hold(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)in; (void)len;
            nodal_test_hold();
            static const char out[] = "{\\"released\\":true}";
            return h->write_output(c, out, sizeof out - 1);
        }

        static const nodal_node node = { sizeof(nodal_node), 0, "org.test.hold.hold", "hold", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, hold };
        /* The same, flagged non-blocking (a plugin that says so wrongly). */
        static const nodal_node inline_node = { sizeof(nodal_node), 0, "org.test.hold.hold_inline", "hold_inline", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, hold };
        static const nodal_node *const nodes[] = { &node, &inline_node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 2, .id = "org.test.hold", .name = "hold", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t a, uint32_t b) { (void)a; (void)b; return &plugin; }
        """

    public init() throws {
        path = try buildCPlugin(Self.source, name: "hold", in: try temporaryDirectory())
        // The engine's loader opens the same file; the handle is kept, as the loader keeps its own.
        guard let handle = dlopen(path, RTLD_NOW) else { throw SetupError("dlopen \(path): \(String(cString: dlerror()))") }
        guard let release = dlsym(handle, "nodal_test_release"), let entered = dlsym(handle, "nodal_test_entered") else {
            throw SetupError("the hold plugin lacks its test functions")
        }
        releaseCalls = unsafeBitCast(release, to: (@convention(c) () -> Void).self)
        enteredCalls = unsafeBitCast(entered, to: (@convention(c) () -> Int32).self)
    }

    /// Lets every held call (and every later one) return.
    public func release() { releaseCalls() }

    /// Calls that have entered the hold so far.
    public var entered: Int { Int(enteredCalls()) }

    /// Returns once `count` calls have entered the hold (checking every millisecond).
    public func waitUntilEntered(_ count: Int) async throws {
        while entered < count { try await Task.sleep(for: .milliseconds(1)) }
    }
}
