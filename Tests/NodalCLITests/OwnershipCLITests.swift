import Foundation
import NodalTestSupport
import Testing

/// One owner per run, end to end: a run killed with SIGKILL, then resumed by two `nodal resume`
/// processes at once. Exactly one resume runs the rest; every step that was checkpointed before
/// the kill runs exactly once, and only the step in flight at the kill may run twice.
@Suite struct OwnershipCLITests {
    /// A node that appends its step name to a log file, then sleeps a little (so a run can be
    /// killed half way), and outputs `{"step": NAME}`.
    static let tickPlugin = """
        #define _POSIX_C_SOURCE 200809L
        #include "nodal.h"
        #include <stdio.h>
        #include <string.h>
        #include <time.h>

        /* Copies the string value of "key" in a flat JSON object into out (no escapes needed). */
        static int field(const char *json, size_t len, const char *key, char *out, size_t cap) {
            char pattern[64];
            snprintf(pattern, sizeof pattern, "\\"%s\\":\\"", key);
            const char *at = strstr(json, pattern);
            if (!at || at >= json + len) return 0;
            at += strlen(pattern);
            size_t n = 0;
            while (at[n] && at[n] != '"' && n + 1 < cap) { out[n] = at[n]; n++; }
            out[n] = 0;
            return 1;
        }

        static nodal_status tick(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                 const char *input, size_t input_len) {
            (void)node;
            char log[1024], step[64], out[128], text[2048] = {0};
            memcpy(text, input, input_len < sizeof text - 1 ? input_len : sizeof text - 1);  /* not NUL-terminated */
            if (!field(text, strlen(text), "log", log, sizeof log) || !field(text, strlen(text), "step", step, sizeof step)) {
                host->set_error(call, "BAD_INPUT", "needs log and step", NULL, 0);
                return NODAL_ERROR;
            }
            FILE *file = fopen(log, "a");
            if (!file) { host->set_error(call, "IO", "cannot open the log", NULL, 0); return NODAL_ERROR; }
            fprintf(file, "%s\\n", step);
            fclose(file);
            struct timespec pause = { 0, 150 * 1000 * 1000 };
            nanosleep(&pause, NULL);
            int n = snprintf(out, sizeof out, "{\\"step\\":\\"%s\\"}", step);
            return host->write_output(call, out, (size_t)n);
        }

        static const nodal_node tick_node = {
            sizeof(nodal_node), 0, "org.test.tick.tick", "tick", "1.0.0", "logs and sleeps",
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, tick
        };
        static const nodal_node *const nodes[] = { &tick_node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.test.tick", .name = "tick", .version = "1.0.0", .vendor = "Tests",
            .description = "logs steps", .nodes = nodes
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """

    /// A chain of `count` tick steps, each reading the one before.
    static func chain(_ count: Int) -> String {
        var text = "name: ticks\nsteps:\n"
        for index in 1...count {
            let previous = index == 1 ? "start: true" : "after: { $step: s\(index - 1), path: step }"
            text += "  - { id: s\(index), component: /tick/tick, input: { log: { $input: log }, step: s\(index), \(previous) } }\n"
        }
        return text + "output: { $step: s\(count) }\n"
    }

    @Test func twoResumesOfAKilledRunRunEachRemainingStepOnce() throws {
        let directory = try temporaryDirectory()
        let plugin = try buildCPlugin(Self.tickPlugin, name: "tick", in: directory)
        let steps = 12
        try Self.chain(steps).write(toFile: directory + "/ticks.yaml", atomically: true, encoding: .utf8)
        let log = directory + "/log.txt"
        let store = directory + "/runs.db"
        let common = ["--plugin-path", plugin, "--store", store]

        // Start the run and kill it with SIGKILL once three steps have logged.
        let run = Process()
        run.executableURL = URL(fileURLWithPath: Products.nodal)
        run.arguments = ["run", directory + "/ticks.yaml", "--input", #"{"log": "\#(log)"}"#, "--run-id", "killed", "--no-progress"] + common
        run.standardOutput = FileHandle.nullDevice
        run.standardError = FileHandle.nullDevice
        try run.run()
        func logged() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        while logged().count < 3 && run.isRunning { usleep(10_000) }
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        #expect(run.terminationReason == .uncaughtSignal)
        let beforeKill = logged()

        // The dead run shows as abandoned, not running forever.
        let list = try runProcess(Products.nodal, ["runs", "list", "--store", store])
        #expect(list.stdout.contains("abandoned"), "\(list.stdout)")

        // Two resumes at once.
        let resumes = (0..<2).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Products.nodal)
            process.arguments = ["resume", "killed"] + common
            process.standardOutput = Pipe()
            process.standardError = Pipe()
            return process
        }
        for process in resumes { try process.run() }
        for process in resumes { process.waitUntilExit() }
        let statuses = resumes.map(\.terminationStatus)
        let stderrs = resumes.map { String(decoding: ($0.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        #expect(statuses.filter { $0 == 0 }.count == 1, "\(statuses) \(stderrs)")
        let loser = statuses[0] == 0 ? 1 : 0
        // The loser either found the run owned by the winner, or (if it came late) already done.
        #expect(statuses[loser] == 73 || stderrs[loser].contains("already succeeded"), "\(statuses) \(stderrs)")
        if statuses[loser] == 73 { #expect(stderrs[loser].contains("is being run by another process")) }

        // Every step ran; steps logged before the kill ran once more at most when in flight.
        let counts = Dictionary(logged().map { ($0, 1) }, uniquingKeysWith: +)
        for index in 1...steps { #expect(counts["s\(index)", default: 0] >= 1, "s\(index) never ran") }
        let repeated = counts.filter { $0.value > 1 }.map(\.key)
        #expect(repeated.count <= 1, "steps run twice: \(repeated)")
        if let again = repeated.first { #expect(again == beforeKill.last, "only the step in flight at the kill may run again") }
        #expect(counts.values.allSatisfy { $0 <= 2 })
    }
}

/// The CLI on a damaged store: exit 74 naming the file, and the file left as it was.
@Suite struct DamagedStoreCLITests {
    @Test func damagedStoresEndCommandsWithExit74() throws {
        let directory = try temporaryDirectory()
        let store = directory + "/runs.db"
        let hello = Products.repositoryRoot + "/examples/hello"
        let run = try runProcess(Products.nodal, ["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--store", store, "--run-id", "r1"])
        #expect(run.status == 0, "\(run.stderr)")
        let broken = try runProcess("/usr/bin/env", ["sqlite3", store, "UPDATE runs SET input = '{bad' WHERE id = 'r1'"])
        #expect(broken.status == 0, "\(broken.stderr)")
        for arguments in [["runs", "list"], ["runs", "show", "r1"], ["resume", "r1"]] {
            let result = try runProcess(Products.nodal, arguments + ["--store", store])
            #expect(result.status == 74, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(store) && result.stderr.contains("run 'r1'"), "\(arguments): \(result.stderr)")
        }
    }
}
