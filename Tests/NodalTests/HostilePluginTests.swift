import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

// Found by the hostile review: careless plugins and Swift nodes. Each test names what used to
// happen.

/// Hands the first of two answers to a waiting task.
final class FirstAnswer<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T?, Never>?>(nil)
    func resume(_ value: T?) { continuation.withLock { $0.take() }?.resume(returning: value) }
}

/// Runs `body`, or gives up after `seconds` (nil) without waiting for it: a test of something
/// that used to hang fails instead of hanging the suite.
func withinSeconds<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
    let waiter = FirstAnswer<T>()
    return await withCheckedContinuation { continuation in
        waiter.continuation.withLock { $0 = continuation }
        Task { waiter.resume(await body()) }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            waiter.resume(nil)
        }
    }
}

@Suite struct HostilePluginTests {
    /// Nodes that misuse the host services the way careless C code does.
    static let careless = """
        #include "nodal.h"
        #include <stdio.h>

        /* write_output with a length of (size_t)-1, as an unchecked error path produces; reports
         * what the host answered. */
        static nodal_status huge_length(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)in; (void)len;
            nodal_status refused = h->write_output(c, "{}", (size_t)-1);
            char out[32];
            int w = snprintf(out, sizeof out, "{\\"status\\":%d}", (int)refused);
            return h->write_output(c, out, (size_t)w);
        }

        /* set_error with an empty code. */
        static nodal_status empty_code(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)in; (void)len;
            h->set_error(c, "", "it went wrong", NULL, 0);
            return NODAL_ERROR;
        }

        static const nodal_node a = { sizeof(nodal_node), 0, "org.test.careless.huge_length", "huge_length", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, huge_length };
        static const nodal_node b = { sizeof(nodal_node), 0, "org.test.careless.empty_code", "empty_code", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, empty_code };
        static const nodal_node *const nodes[] = { &a, &b };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 2, .id = "org.test.careless", .name = "careless", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t x, uint32_t y) { (void)x; (void)y; return &plugin; }
        """

    static func carelessEngine() throws -> Engine {
        let engine = Engine()
        try engine.loadPlugin(at: try buildCPlugin(Self.careless, name: "careless", in: try temporaryDirectory()))
        return engine
    }

    /// Used to trap the whole process ("UnsafeRawBufferPointer with negative count").
    @Test func writeOutputWithALengthOfMinusOneIsRefusedNotATrap() async throws {
        let engine = try Self.carelessEngine()
        let result = await engine.run(try Flow(yaml: "steps: [{ id: s, component: /careless/huge_length, input: {} }]\noutput: { $step: s }"), input: [:])
        #expect(result.status == .success, "\(result.error as Any)")
        #expect(result.output == ["status": 3])  // NODAL_INVALID
    }

    /// Used to fail the step with an empty code (printed as ": it went wrong").
    @Test func anEmptyErrorCodeIsReportedAsNodeFailed() async throws {
        let engine = try Self.carelessEngine()
        let result = await engine.run(try Flow(yaml: "steps: [{ id: s, component: /careless/empty_code, input: {} }]\noutput: { $step: s }"), input: [:])
        #expect(result.step("s")?.error?.code == "NODE_FAILED")
        #expect(result.step("s")?.error?.message == "it went wrong")
    }

    /// A node flagged non-blocking that blocks anyway, until the test releases it.
    static let liar = """
        #define _POSIX_C_SOURCE 199309L
        #include "nodal.h"
        #include <time.h>
        static int released = 0;
        NODAL_EXPORT void liar_release(void) { __atomic_store_n(&released, 1, __ATOMIC_SEQ_CST); }
        static nodal_status block(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)in; (void)len;
            struct timespec pause = { 0, 1000000 };
            while (!__atomic_load_n(&released, __ATOMIC_SEQ_CST)) nanosleep(&pause, NULL);
            return h->write_output(c, "1", 1);
        }
        static const nodal_node a = { sizeof(nodal_node), 0, "org.test.liar.block", "block", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, block };
        static const nodal_node *const nodes[] = { &a };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.test.liar", .name = "liar", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t x, uint32_t y) { (void)x; (void)y; return &plugin; }
        """

    /// Used to hang: the node ran inline on the scheduler's thread, where the step's `timeout:`
    /// was never armed, and one Ctrl-C could not end the run either.
    @Test func aStepTimeoutHoldsForANonBlockingNodeThatBlocks() async throws {
        let path = try buildCPlugin(Self.liar, name: "liar", in: try temporaryDirectory())
        let engine = Engine()
        try engine.loadPlugin(at: path)
        guard let handle = dlopen(path, RTLD_NOW), let symbol = dlsym(handle, "liar_release") else {
            throw SetupError("liar_release missing")
        }
        let release = unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)
        defer { release() }
        let flow = try Flow(yaml: "steps: [{ id: s, component: /liar/block, input: {}, timeout: 0.2 }]\noutput: { $step: s }")
        // A hang guard, not a timing check: generous, so a loaded CI machine does not trip it.
        let result = await withinSeconds(120) { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(100))) }
        #expect(result?.status == .failed, "the run did not end: the timeout did not hold")
        #expect(result?.step("s")?.error?.code == "TIMEOUT")
        // A call still blocked holds a cooperative thread: let it go before running another.
        guard result != nil else { return }
        // A timeout given in code holds the same way.
        let untimed = try Flow(yaml: "steps: [{ id: s, component: /liar/block, input: {} }]\noutput: { $step: s }")
        let options = RunOptions(stepOverrides: ["s": StepOverride(timeout: .milliseconds(200))], gracePeriod: .milliseconds(100))
        let overridden = await withinSeconds(120) { await engine.run(untimed, input: [:], options: options) }
        #expect(overridden?.step("s")?.error?.code == "TIMEOUT")
    }

    /// Used to count as a cancel: the step `canceled`, its reader skipped, and the run `success`
    /// with a null output, although nothing canceled anything.
    @Test func aSwiftNodeThrowingCancellationErrorUnaskedFailsItsStep() async throws {
        let engine = Engine()
        engine.register(route: "/app/liar") { _, _ in throw CancellationError() }
        engine.register(route: "/app/echo") { input, _ in input }
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /app/liar, input: {} }
              - { id: t, component: /app/echo, input: { x: { $step: s } } }
            output: { $step: t }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        #expect(result.step("s")?.status == .failed)
        #expect(result.step("s")?.error?.code == "UNEXPECTED_CANCEL")
        // A real cancel is still a cancel.
        engine.register(route: "/app/wait") { _, _ in
            try await Task.sleep(for: .seconds(30))
            return .null
        }
        let token = CancellationToken()
        let waiting = try Flow(yaml: "steps: [{ id: s, component: /app/wait, input: {} }]\noutput: { $step: s }")
        let handle = engine.start(waiting, input: [:], options: RunOptions(cancellation: token))
        try await Task.sleep(for: .milliseconds(50))
        token.cancel()
        let canceled = await handle.result
        #expect(canceled.status == .canceled)
    }

    /// In a recorded run, a Swift node's output is held to the nesting limit every parser keeps;
    /// it used to be accepted and checkpointed at any depth, deeper than the store reads back.
    @Test func aSwiftNodesOutputDeeperThanTheLimitFailsItsStep() async throws {
        let engine = Engine()
        engine.register(route: "/app/deep") { _, _ in
            var value: JSON = .null
            for _ in 0..<600 { value = .array([value]) }
            return value
        }
        let store = try await SQLiteRunStore(path: ":memory:")
        var options = RunOptions()
        options.store = store
        let result = await engine.run(try Flow(yaml: "steps: [{ id: s, component: /app/deep, input: {} }]\noutput: { $step: s }"), input: [:], options: options)
        #expect(result.status == .failed)
        #expect(result.step("s")?.error?.code == "INVALID_OUTPUT")
        #expect(result.step("s")?.error?.message.contains("512") == true)
        _ = try await store.listRuns(limit: 10)
        try await store.close()
    }
}

/// A node whose output is larger than anything a step should pass on.
@Suite struct HostileOutputSizeTests {
    static let flood = """
        #include "nodal.h"
        #include <stdlib.h>
        #include <string.h>
        static nodal_status flood(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)in; (void)len;
            size_t count = (size_t)65 * 1024 * 1024;
            char *text = malloc(count + 2);
            if (!text) return NODAL_ERROR;
            text[0] = '"'; memset(text + 1, 'a', count); text[count + 1] = '"';
            nodal_status status = h->write_output(c, text, count + 2);
            free(text);
            return status;
        }
        static const nodal_node a = { sizeof(nodal_node), 0, "org.test.flood.flood", "flood", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, flood };
        static const nodal_node *const nodes[] = { &a };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.test.flood", .name = "flood", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t x, uint32_t y) { (void)x; (void)y; return &plugin; }
        """

    /// Found by the hostile review: a 100 MB output made `nodal run` use 860 MB of memory and left a
    /// 420 MB store. Outputs over `Engine.maxOutputBytes` (64 MiB) now fail their step.
    @Test func anOutputLargerThan64MiBFailsItsStep() async throws {
        let engine = Engine()
        try engine.loadPlugin(at: try buildCPlugin(Self.flood, name: "flood", in: try temporaryDirectory()))
        let result = await engine.run(try Flow(yaml: "steps: [{ id: s, component: /flood/flood, input: {} }]\noutput: { $step: s }"), input: [:])
        #expect(result.step("s")?.error?.code == "OUTPUT_TOO_LARGE")
    }
}

/// Plugin files damaged in the middle, not just truncated.
@Suite struct HostileDamagedPluginFileTests {
    static let plugin = """
        #include "nodal.h"
        static nodal_status one(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)in; (void)len; return h->write_output(c, "1", 1);
        }
        static const nodal_node a = { sizeof(nodal_node), 0, "org.test.damaged.one", "one", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, one };
        static const nodal_node *const nodes[] = { &a };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.test.damaged", .name = "damaged", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t x, uint32_t y) { (void)x; (void)y; return &plugin; }
        """

    /// Reads a little-endian integer of the ELF file.
    static func field<T: FixedWidthInteger>(_ bytes: Data, _ offset: Int, _: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    /// A fresh copy of the plugin with `range(bytes)` zeroed, under a name of its own.
    static func damaged(_ name: String, _ range: (Data) -> Range<Int>) throws -> String {
        let directory = try temporaryDirectory()
        let built = try buildCPlugin(Self.plugin, name: "damaged", in: directory)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: built))
        bytes.replaceSubrange(range(bytes), with: Data(count: range(bytes).count))
        let path = directory + "/lib\(name).so"
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The file range of the first program header of `type`.
    static func segment(_ bytes: Data, type: UInt32) -> Range<Int> {
        let phoff = Int(field(bytes, 32, UInt64.self)), phnum = Int(field(bytes, 56, UInt16.self))
        for index in 0..<phnum where field(bytes, phoff + index * 56, UInt32.self) == type {
            let offset = Int(field(bytes, phoff + index * 56 + 8, UInt64.self)), size = Int(field(bytes, phoff + index * 56 + 32, UInt64.self))
            return offset..<(offset + size)
        }
        return 0..<0
    }

    /// The file range of the section of `type` (SHT_DYNSYM is 11).
    static func section(_ bytes: Data, type: UInt32) -> Range<Int> {
        let shoff = Int(field(bytes, 40, UInt64.self)), shnum = Int(field(bytes, 60, UInt16.self))
        for index in 0..<shnum where field(bytes, shoff + index * 64 + 4, UInt32.self) == type {
            let offset = Int(field(bytes, shoff + index * 64 + 24, UInt64.self)), size = Int(field(bytes, shoff + index * 64 + 32, UInt64.self))
            return offset..<(offset + size)
        }
        return 0..<0
    }

    /// Used to kill the process with SIGSEGV inside dlopen (`_dl_relocate_object`): the ELF
    /// headers were intact, so the check before dlopen passed.
    @Test func aZeroedDynamicSectionIsRefusedBeforeDlopen() throws {
        let path = try Self.damaged("zerodynamic") { Self.segment($0, type: 2) }
        #expect(throws: PluginLoadError.self) { try Engine().loadPlugin(at: path) }
        do {
            try Engine().loadPlugin(at: path)
        } catch {
            #expect(error.reason.contains("dynamic section"), "\(error.reason)")
        }
    }

    /// Still kills the process with SIGSEGV inside dlopen: the dynamic symbol table is zeroed,
    /// which the header checks cannot see without validating every symbol and relocation.
}
