import CNodal
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// NODAL_CANCELLED means "I stopped because the host cancelled me". When nothing did, the step
/// fails (UNEXPECTED_CANCEL, naming the node) instead of ending canceled and silently skipping
/// its readers.
@Suite struct ABICancelTests {
    static let plugin = #"""
        #define _POSIX_C_SOURCE 200809L
        #include <time.h>
        #include "nodal.h"

        /* Returns NODAL_CANCELLED without being asked to. */
        static nodal_status liar_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            (void)node; (void)host; (void)call; (void)input; (void)input_len;
            return NODAL_CANCELLED;
        }

        /* Waits (up to 20 s) for is_cancelled, then returns NODAL_CANCELLED as it should. */
        static nodal_status waiter_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                          const char *input, size_t input_len) {
            struct timespec pause = { 0, 1000000 };
            int i;
            (void)node; (void)input; (void)input_len;
            for (i = 0; i < 20000; i++) {
                if (host->is_cancelled(call)) return NODAL_CANCELLED;
                nanosleep(&pause, NULL);
            }
            host->set_error(call, "NOT_CANCELLED", "waited 20 s and nothing cancelled the call", NULL, 0);
            return NODAL_ERROR;
        }

        static nodal_status echo_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            (void)node;
            return host->write_output(call, input, input_len);
        }

        #define NODE(var, nm, fl, fn) static const nodal_node var = { sizeof(nodal_node), 0, "org.test.cancel." nm, nm, \
            "1.0.0", NULL, (fl), NULL, NULL, NULL, NULL, fn }
        NODE(liar_inline, "liar_inline", NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, liar_invoke);
        NODE(liar_pooled, "liar_pooled", NODAL_NODE_THREAD_SAFE, liar_invoke);
        NODE(waiter, "waiter", NODAL_NODE_THREAD_SAFE | NODAL_NODE_CANCELLABLE, waiter_invoke);
        NODE(echo, "echo", NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, echo_invoke);
        static const nodal_node *const nodes[] = { &liar_inline, &liar_pooled, &waiter, &echo };
        static const nodal_plugin plugin = {
            sizeof(nodal_plugin), NODAL_ABI_MAJOR, NODAL_ABI_MINOR, 4, "org.test.cancel", "cancel", "1.0.0",
            NULL, NULL, NULL, nodes, NULL, NULL, NULL
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """#

    static func engine() throws -> Engine {
        let directory = try temporaryDirectory()
        let engine = Engine()
        try engine.loadPlugin(at: try buildCPlugin(plugin, name: "cancel", in: directory))
        return engine
    }

    @Test(arguments: ["liar_inline", "liar_pooled"])
    func cancelledWithoutACancelFailsTheStep(node: String) async throws {
        let engine = try Self.engine()
        let flow = try Flow(yaml: """
            steps:
              - { id: liar, component: /cancel/\(node) }
              - { id: reader, component: /cancel/echo, input: { got: { $step: liar } } }
            output: { $step: reader }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        let liar = try #require(result.step("liar"))
        #expect(liar.status == .failed)
        #expect(liar.error?.code == "UNEXPECTED_CANCEL")
        #expect(liar.error?.message.contains("org.test.cancel.\(node)") == true)
        #expect(liar.error?.message.contains("NODAL_CANCELLED") == true)
        #expect(result.step("reader")?.status != .success)
        #expect(result.output == nil)
    }

    @Test func cancelledAfterTheRunWasCanceledIsACancel() async throws {
        let engine = try Self.engine()
        let token = CancellationToken()
        let flow = try Flow(yaml: """
            steps:
              - { id: wait, component: /cancel/waiter }
              - { id: reader, component: /cancel/echo, input: { got: { $step: wait } } }
            output: { $step: reader }
            """)
        // Cancel once the node is running: it then sees is_cancelled and returns NODAL_CANCELLED.
        let options = RunOptions(cancellation: token, onEvent: { event in
            if case .stepStarted(step: "wait", attempt: _) = event.kind { token.cancel() }
        })
        let result = await engine.run(flow, input: [:], options: options)
        #expect(result.status == .canceled)
        #expect(result.step("wait")?.status == .canceled)
        #expect(result.step("wait")?.error?.code == "CANCELED")
    }

    @Test func cancelledAfterATimeoutIsATimeout() async throws {
        // The timeout runs on a test clock, so a loaded machine cannot reorder it with the call.
        let clock = TestClock()
        let engine = Engine(clock: clock)
        try engine.loadPlugin(at: try buildCPlugin(Self.plugin, name: "cancel", in: try temporaryDirectory()))
        let flow = try Flow(yaml: "steps: [{id: wait, component: /cancel/waiter, timeout: 0.05}]\noutput: {$step: wait}")
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .seconds(30))) }
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays == [.milliseconds(50)])
        clock.advance(by: .milliseconds(50))
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.step("wait")?.error?.code == "TIMEOUT")
    }
}
