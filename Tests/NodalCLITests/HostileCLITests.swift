import Foundation
import NodalTestSupport
import Testing

// Found by the hostile review, through `nodal` as a user runs it.

/// Runs blocking work (child processes) on a thread of its own, so that waiting for them does not
/// hold a thread of the cooperative pool other tests' tasks (IsolationTests' heartbeat) need.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Runs `nodal` with no configuration of the user's own, off the cooperative pool.
func hostileNodal(_ arguments: [String], in directory: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await offThePool {
        let config = try temporaryDirectory()
        return try runProcess(Products.nodal, arguments, environment: ["XDG_CONFIG_HOME": config, "NODAL_CONFIG": ""], currentDirectory: directory)
    }
}

@Suite struct HostileCLITests {
    func nodal(_ arguments: [String], in directory: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await hostileNodal(arguments, in: directory)
    }

    static let quitter = """
        #include "nodal.h"
        #include <stdlib.h>
        static nodal_status quit(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; (void)h; (void)c; (void)in; (void)len;
            exit(0);
        }
        static const nodal_node pooled = { sizeof(nodal_node), 0, "org.test.quitter.quit", "quit", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, quit };
        static const nodal_node inline_ = { sizeof(nodal_node), 0, "org.test.quitter.quit_inline", "quit_inline", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, quit };
        static const nodal_node *const nodes[] = { &pooled, &inline_ };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 2, .id = "org.test.quitter", .name = "quitter", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t x, uint32_t y) { (void)x; (void)y; return &plugin; }
        """

    /// Used to exit 0, printing nothing, as if the run had succeeded.
    @Test(arguments: ["quit", "quit_inline"])
    func aPluginThatCallsExitZeroDoesNotLookLikeASuccess(node: String) async throws {
        let directory = try temporaryDirectory()
        let plugin = try await offThePool { try buildCPlugin(Self.quitter, name: "quitter", in: directory) }
        try "steps: [{ id: s, component: /quitter/\(node), input: {} }]\noutput: { $step: s }\n"
            .write(toFile: directory + "/quit.yaml", atomically: true, encoding: .utf8)
        let result = try await nodal(["run", directory + "/quit.yaml", "--plugin-path", plugin, "--store", directory + "/runs.db", "--no-progress"])
        #expect(result.status == 70, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("exit()"), "\(result.stderr)")
        // nodal's own exits are unchanged.
        let ok = try await nodal(["run", Products.repositoryRoot + "/examples/hello/flow.yaml", "--input-file", Products.repositoryRoot + "/examples/hello/input.json", "--store", directory + "/runs.db"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try await nodal(["validate", directory + "/nope.yaml"]).status == 66)
        #expect(try await nodal(["--version"]).status == 0)
    }

    /// Used to make the whole store unreadable: `nodal runs list` ended with exit 74 ("damaged
    /// record ... nesting deeper than 512") after one run whose input was within the limit.
    @Test func aRunWithAnInputNearTheLimitLeavesTheStoreReadable() async throws {
        let directory = try temporaryDirectory()
        try "steps: [{ id: s, component: /std/echo, input: { x: { $input: x } } }]\noutput: { $step: s }\n"
            .write(toFile: directory + "/echo.yaml", atomically: true, encoding: .utf8)
        let input = "{\"x\":" + String(repeating: "[", count: 510) + String(repeating: "]", count: 510) + "}"
        try input.write(toFile: directory + "/input.json", atomically: true, encoding: .utf8)
        let store = directory + "/runs.db"
        let run = try await nodal(["run", directory + "/echo.yaml", "--input-file", directory + "/input.json", "--store", store, "--run-id", "deep"])
        #expect(run.status == 0, "\(run.stderr)")
        let list = try await nodal(["runs", "list", "--store", store])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("deep"))
        #expect(try await nodal(["runs", "show", "deep", "--store", store]).status == 0)
    }

    /// A run whose store is locked by another process for longer than SQLite waits (5 s) fails
    /// before anything is recorded; it used to say "go on with `nodal resume ID`", which then
    /// found no such run.
    @Test func aRunThatCouldNotBeRecordedDoesNotOfferAResume() async throws {
        let directory = try temporaryDirectory()
        let store = directory + "/runs.db"
        let hello = Products.repositoryRoot + "/examples/hello"
        #expect(try await nodal(["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--store", store]).status == 0)
        let result = try await offThePool {
            let locker = Process()
            locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            locker.arguments = ["sqlite3", store]
            let commands = Pipe()
            locker.standardInput = commands
            locker.standardOutput = Pipe()
            try locker.run()
            commands.fileHandleForWriting.write(Data("BEGIN EXCLUSIVE;\nSELECT 'locked';\n".utf8))
            usleep(500_000)
            let config = try temporaryDirectory()
            let result = try runProcess(
                Products.nodal, ["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--store", store, "--run-id", "locked"],
                environment: ["XDG_CONFIG_HOME": config, "NODAL_CONFIG": ""])
            commands.fileHandleForWriting.write(Data("COMMIT;\n".utf8))
            try commands.fileHandleForWriting.close()
            locker.waitUntilExit()
            return result
        }
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("database is locked"), "\(result.stderr)")
        #expect(!result.stderr.contains("nodal resume"), "\(result.stderr)")
    }

    /// Used to print the whole cycle: 2 MB of step ids for a cycle through 200,000 steps.
    @Test func aLongCycleIsNamedByItsEnds() async throws {
        let directory = try temporaryDirectory()
        var text = "steps:\n"
        for index in 0..<2000 { text += "  - { id: s\(index), component: /std/echo, input: { $step: s\((index + 1999) % 2000) } }\n" }
        text += "output: { $step: s0 }\n"
        try text.write(toFile: directory + "/cycle.yaml", atomically: true, encoding: .utf8)
        let result = try await nodal(["validate", directory + "/cycle.yaml"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("steps form a cycle"))
        #expect(result.stderr.contains("more steps"))
        #expect(result.stderr.utf8.count < 1000, "\(result.stderr.utf8.count) bytes")
    }

    /// Used to record a run whose id is empty (a blank row in `nodal runs list`).
    @Test func anEmptyRunIDIsAUsageError() async throws {
        let directory = try temporaryDirectory()
        let hello = Products.repositoryRoot + "/examples/hello"
        for id in ["", "  "] {
            let result = try await nodal(["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--store", directory + "/runs.db", "--run-id", id])
            #expect(result.status == 64, "\(result.stderr)")
        }
        #expect(try await nodal(["runs", "list", "--store", directory + "/runs.db"]).stdout.contains("no runs"))
    }

    /// A configuration beside the flow putting the store outside its folder is refused and
    /// creates nothing.
    @Test func aConfigBesideTheFlowCannotPlaceTheStoreElsewhere() async throws {
        let root = try temporaryDirectory()
        let flows = root + "/flows"
        try FileManager.default.createDirectory(atPath: flows, withIntermediateDirectories: true)
        try "steps: []\noutput: 1\n".write(toFile: flows + "/f.yaml", atomically: true, encoding: .utf8)
        try "storageConfig: { type: sqlite, databaseUrl: \"sqlite:../victim/deep/created.db\" }\n"
            .write(toFile: flows + "/nodal-config.yml", atomically: true, encoding: .utf8)
        let result = try await nodal(["run", flows + "/f.yaml"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("storageConfig.databaseUrl"))
        #expect(!FileManager.default.fileExists(atPath: root + "/victim"))
    }
}
