import Foundation
import NodalTestSupport
import Testing

/// A plugin that calls `exit()` during a run: `nodal` must not exit 0 as if the run succeeded.
@Suite struct PluginExitCLITests {
    static let plugin = """
        #define _POSIX_C_SOURCE 200809L
        #include "nodal.h"
        #include <pthread.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>

        static nodal_status quits(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                  const char *input, size_t input_len) {
            (void)node; (void)host; (void)call;
            char text[256] = {0};  /* the input is not NUL-terminated */
            memcpy(text, input, input_len < sizeof text - 1 ? input_len : sizeof text - 1);
            exit(strstr(text, "\\"three\\"") != NULL ? 3 : 0);
        }

        static void *quit_later(void *arg) {
            (void)arg;
            exit(0);
            return NULL;
        }

        static nodal_status quits_from_a_thread(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                                const char *input, size_t input_len) {
            (void)node; (void)input; (void)input_len;
            pthread_t thread;
            pthread_create(&thread, NULL, quit_later, NULL);
            struct timespec pause = { 5, 0 };
            nanosleep(&pause, NULL);  /* the thread exits the process meanwhile */
            return host->write_output(call, "1", 1);
        }

        static const nodal_node quit_node = {
            .struct_size = sizeof(nodal_node), .id = "org.test.quit.quit", .name = "quit", .version = "1.0.0",
            .flags = NODAL_NODE_THREAD_SAFE, .invoke = quits
        };
        static const nodal_node thread_node = {
            .struct_size = sizeof(nodal_node), .id = "org.test.quit.thread", .name = "thread", .version = "1.0.0",
            .flags = NODAL_NODE_THREAD_SAFE, .invoke = quits_from_a_thread
        };
        static const nodal_node *const nodes[] = { &quit_node, &thread_node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 2, .id = "org.test.quit", .name = "quit", .version = "1.0.0", .nodes = nodes
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """

    @Test(arguments: ["zero", "three"])
    func anExitInsideANodeIsReportedWithItsStep(code: String) throws {
        let directory = try temporaryDirectory()
        let plugin = try buildCPlugin(Self.plugin, name: "quit", in: directory, flags: ["-pthread"])
        let flow = directory + "/flow.yaml"
        try """
            steps:
              - { id: before, component: /quit/quit, input: { code: \(code) } }
            output: { $step: before }
            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let result = try runProcess(Products.nodal, ["run", flow, "--plugin-path", plugin, "--store", "inMemory"])
        #expect(result.status == 70, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("step 'before'") && result.stderr.contains("org.test.quit.quit"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func anExitFromAPluginsOwnThreadDuringARunIsReported() throws {
        let directory = try temporaryDirectory()
        let plugin = try buildCPlugin(Self.plugin, name: "quit", in: directory, flags: ["-pthread"])
        let flow = directory + "/flow.yaml"
        try "steps:\n  - { id: t, component: /quit/thread }\noutput: { $step: t }\n".write(toFile: flow, atomically: true, encoding: .utf8)
        let result = try runProcess(Products.nodal, ["run", flow, "--plugin-path", plugin, "--store", "inMemory"])
        #expect(result.status == 70, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("from a thread of its own"), "\(result.stderr)")
    }

    /// Run in a child (`isolation: process`, through `nodal plugin-host`), the same exit ends only
    /// the child: the step fails with the exit status named, and `nodal` reports a failed run.
    @Test(arguments: ["zero", "three"])
    func inAChildProcessAnExitIsTheStepsFailure(code: String) throws {
        let directory = try temporaryDirectory()
        _ = try buildCPlugin(Self.plugin, name: "quit", in: directory, flags: ["-pthread"])
        try "plugins:\n  quit: { type: nodal, path: libquit.so, isolation: process }\n".write(
            toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        try "steps:\n  - { id: before, component: /quit/quit, input: { code: \(code) } }\noutput: { $step: before }\n".write(
            toFile: directory + "/flow.yaml", atomically: true, encoding: .utf8)
        // The running nodal is the plugin host: no nodal-plugin-host is looked for.
        let result = try runProcess(
            Products.nodal, ["run", directory + "/flow.yaml", "--config", directory + "/config.yml", "--store", "inMemory"],
            environment: ProcessInfo.processInfo.environment.merging(["PATH": "/usr/bin:/bin"]) { $1 })
        #expect(result.status == 1, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("PLUGIN_CRASHED") && result.stderr.contains("exited with status \(code == "zero" ? 0 : 3)"), "\(result.stderr)")
        #expect(!result.stderr.contains("called exit()"), "the exit guard of the engine fired: \(result.stderr)")
    }
}
