import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// A plugin call's output is bounded (`Engine(maxOutputBytes:)`, 64 MiB by default): a larger one
/// fails its step with OUTPUT_TOO_LARGE, before the host copies it, and the run goes on.
@Suite struct OutputLimitTests {
    /// `/big/write` writes a JSON string of `{"bytes": N}` bytes in all.
    static let plugin = """
        #include "nodal.h"
        #include <stdlib.h>
        #include <string.h>

        static nodal_status write_big(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                      const char *input, size_t input_len) {
            (void)node;
            char text[256] = {0};  /* the input is not NUL-terminated */
            memcpy(text, input, input_len < sizeof text - 1 ? input_len : sizeof text - 1);
            const char *at = strstr(text, "\\"bytes\\":");
            size_t n = at ? (size_t)strtoull(at + 8, NULL, 10) : 2;
            if (n < 2) n = 2;
            char *out = malloc(n);
            if (!out) return NODAL_ERROR;
            memset(out, 'a', n);
            out[0] = '"';
            out[n - 1] = '"';
            nodal_status status = host->write_output(call, out, n);
            free(out);
            return status;
        }

        static const nodal_node node = {
            .struct_size = sizeof(nodal_node), .id = "org.test.big.write", .name = "write", .version = "1.0.0",
            .flags = NODAL_NODE_THREAD_SAFE, .invoke = write_big
        };
        static const nodal_node *const nodes[] = { &node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.test.big", .name = "big", .version = "1.0.0", .nodes = nodes
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """

    static let flow = """
        steps:
          - { id: big, component: /big/write, input: { bytes: { $input: bytes } }, mustExecute: true, onError: { action: continue } }
          - { id: other, component: /big/write, input: { bytes: 10 } }
        output: { other: { $step: other } }
        """

    func engine(maxOutputBytes: Int = Engine.defaultMaxOutputBytes) throws -> Engine {
        let engine = Engine(maxOutputBytes: maxOutputBytes)
        try engine.loadPlugin(at: try buildCPlugin(Self.plugin, name: "big", in: try temporaryDirectory()))
        return engine
    }

    @Test func anOutputOverTheLimitFailsItsStepAndTheRestRuns() async throws {
        let engine = try engine(maxOutputBytes: 1000)
        let result = await engine.run(try Flow(yaml: Self.flow), input: ["bytes": 1001])
        #expect(result.step("big")?.error?.code == "OUTPUT_TOO_LARGE")
        #expect(result.step("big")?.error?.message.contains("1001 bytes") == true)
        #expect(result.step("other")?.status == .success)
        let within = await engine.run(try Flow(yaml: Self.flow), input: ["bytes": 1000])
        #expect(within.step("big")?.status == .success)
        #expect(within.step("big")?.output?.stringValue?.count == 998)
    }

    @Test func a100MBOutputIsRefusedByTheDefaultLimit() async throws {
        let engine = try engine()
        let result = await engine.run(try Flow(yaml: Self.flow), input: ["bytes": 100_000_000])
        #expect(result.step("big")?.error?.code == "OUTPUT_TOO_LARGE")
        #expect(result.step("other")?.status == .success)
    }
}
