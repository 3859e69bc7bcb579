import Foundation
import NodalClient
import NodalJSON
import NodalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `nodal serve` as a user runs it: the built binary on a free port over an SQLite store, driven
/// by the Swift client, curl and the `nodal` CLI, stopped (SIGTERM, SIGKILL) and started again
/// mid-run. Nothing here measures time: tests wait for lines and files, with generous limits.
@Suite(.timeLimit(.minutes(3))) struct ServeEndToEndTests {
    /// A plugin with side effects the test can count, its files fixed at build time:
    /// - `/e2e/append` appends `ran` to `side.log` (the step that must not run twice).
    /// - `/e2e/hold` appends `held` to `held.log`, then holds until `release` exists (or the
    ///   call is cancelled).
    static func buildPlugin(in directory: String) throws -> String {
        let source = """
            #define _POSIX_C_SOURCE 199309L
            #include "nodal.h"
            #include <stdio.h>
            #include <time.h>
            #include <unistd.h>

            static void append_line(const char *path, const char *line) {
                FILE *file = fopen(path, "a");
                if (file == NULL) return;
                fputs(line, file);
                fflush(file);
                fsync(fileno(file));
                fclose(file);
            }

            static nodal_status append(const nodal_node *node, const nodal_host *host, nodal_call *call, const char *input, size_t input_len) {
                (void)node; (void)input; (void)input_len;
                append_line("\(directory)/side.log", "ran\\n");
                return host->write_output(call, "{\\"appended\\":true}", 17);
            }

            static nodal_status hold(const nodal_node *node, const nodal_host *host, nodal_call *call, const char *input, size_t input_len) {
                (void)node; (void)input; (void)input_len;
                struct timespec pause = { 0, 5000000 };
                append_line("\(directory)/held.log", "held\\n");
                while (access("\(directory)/release", F_OK) != 0) {
                    if (host->is_cancelled(call)) return NODAL_CANCELLED;
                    nanosleep(&pause, NULL);
                }
                return host->write_output(call, "{\\"held\\":true}", 13);
            }

            static const nodal_node append_node = {
                .struct_size = sizeof(nodal_node), .id = "org.test.e2e.append", .name = "append", .version = "1.0.0",
                .flags = NODAL_NODE_THREAD_SAFE, .invoke = append
            };
            static const nodal_node hold_node = {
                .struct_size = sizeof(nodal_node), .id = "org.test.e2e.hold", .name = "hold", .version = "1.0.0",
                .flags = NODAL_NODE_THREAD_SAFE | NODAL_NODE_CANCELLABLE, .invoke = hold
            };
            static const nodal_node *const nodes[] = { &append_node, &hold_node };
            static const nodal_plugin plugin = {
                .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
                .node_count = 2, .id = "org.test.e2e", .name = "e2e", .version = "1.0.0", .nodes = nodes
            };
            NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
                (void)major; (void)minor;
                return &plugin;
            }
            """
        return try buildCPlugin(source, name: "e2e", in: directory)
    }

    /// Appends, then holds: the flow the restarts interrupt.
    static let appendThenHold: JSON = [
        "name": "append-then-hold",
        "steps": [
            ["id": "first", "component": "/e2e/append", "input": [:]],
            ["id": "second", "component": "/e2e/hold", "input": ["after": ["$step": "first"]]],
        ],
        "output": ["$step": "second"],
    ]

    static let shout: JSON = ["name": "shout", "steps": [["id": "up", "component": "/std/upper", "input": ["text": ["$input": "name"]]]], "output": ["$step": "up"]]

    static let asking: JSON = [
        "name": "ask",
        "steps": [
            ["id": "ask", "component": "/builtin/interrupt", "input": ["question": ["$input": "q"]]],
            ["id": "after", "component": "/builtin/noop", "input": ["answer": ["$step": "ask"]]],
        ],
        "output": ["$step": "after"],
    ]

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func curl(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess("/usr/bin/env", ["curl", "-sS", "--max-time", "60"] + arguments)
    }

    @Test func aFlowRunsThroughTheClientCurlAndTheCLI() async throws {
        let directory = try temporaryDirectory()
        let server = try await ServeProcess(store: directory + "/runs.db", pluginPaths: [Products.directory])
        defer { server.stop() }
        let client = NodalClient(baseURL: server.url)

        let flowID = try await client.storeFlow(Self.shout)
        let run = try await client.startRun(flowID: flowID, inputs: [["name": "ada"], ["name": "bob"]], options: RunStartOptions(wait: true))
        #expect(run.status?.status == .completed)
        #expect(run.lastResults?.map(\.output) == [["text": "ADA"], ["text": "BOB"]])

        // The same through curl: store, run and wait, read the items.
        let stored = try Self.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", JSON.object(["flow": Self.shout]).serialized(), server.url + "/api/v1/flows"])
        #expect(stored.status == 0, "\(stored.stderr)")
        #expect(try JSON(parsing: stored.stdout)["flowId"]?.stringValue == flowID)
        let body: JSON = ["flowId": .string(flowID), "input": [["name": "cy"]], "wait": true]
        let created = try Self.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", body.serialized(), server.url + "/api/v1/runs"])
        let createdReply = try JSON(parsing: created.stdout)
        #expect(createdReply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(created.stdout)")
        let curlRunID = try #require(createdReply["summary"]?["runId"]?.stringValue)
        let items = try JSON(parsing: try Self.curl([server.url + "/api/v1/runs/\(curlRunID)/items"]).stdout)
        #expect(items["results"]?[0]?["output"] == ["text": "CY"])

        // Its events, as curl -N and `nodal runs watch` read them: the journal to run_completed.
        let stream = try Self.curl(["-N", server.url + "/api/v1/runs/\(run.id)/events"])
        #expect(stream.status == 0, "\(stream.stderr)")
        #expect(stream.stdout.contains("event: run_created"))
        #expect(stream.stdout.contains("event: run_completed"))
        #expect(stream.stdout.contains("id: 1\n"))
        let watched = try runProcess(Products.nodal, ["runs", "watch", run.id, "--server", server.url, "--format", "json"])
        #expect(watched.status == 0, "\(watched.stderr)")
        let events = try watched.stdout.split(separator: "\n").map { try JSON(parsing: String($0)) }
        #expect(events.count > 3)
        #expect(events.last?["event"] == "run_completed", "\(watched.stdout)")

        // `nodal submit` stores the flow file and waits on the server.
        let flowFile = directory + "/shout.json"
        try Self.shout.serialized().write(toFile: flowFile, atomically: true, encoding: .utf8)
        let submitted = try runProcess(Products.nodal, ["submit", flowFile, "--server", server.url, "--input", #"{"name":"dee"}"#, "--wait"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.contains("DEE"), "\(submitted.stdout)")
    }

    @Test func aRunIsCancelledAndAnInterruptAnsweredFromTheCLI() async throws {
        let directory = try temporaryDirectory()
        let plugin = try Self.buildPlugin(in: directory)
        let server = try await ServeProcess(store: directory + "/runs.db", pluginPaths: [plugin, Products.directory])
        defer { server.stop() }
        let client = NodalClient(baseURL: server.url)

        let held = try await client.startRun(flowID: try await client.storeFlow(Self.appendThenHold), inputs: [[:]])
        try await eventually("the second step holds") { Self.lines(directory + "/held.log").count == 1 }
        let cancelled = try runProcess(Products.nodal, ["runs", "cancel", held.id, "--server", server.url])
        #expect(cancelled.status == 0, "\(cancelled.stderr)")
        #expect(try await held.wait(interval: .milliseconds(50)).status == .cancelled)

        let asked = try await client.startRun(flowID: try await client.storeFlow(Self.asking), inputs: [["q": "ship?"]], options: RunStartOptions(wait: true))
        #expect(asked.status?.status == .paused)
        let resumed = try runProcess(Products.nodal, ["runs", "resume", asked.id, "--server", server.url, "--value", #""yes""#])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try await asked.wait(interval: .milliseconds(50)).status == .completed)
        #expect(try await asked.results().first?.output == ["answer": "yes"])
    }

    /// Stops the server (`signal`) while the second step holds, starts it again on the same store
    /// and checks the run completes. The first step was checkpointed before the second started,
    /// so it never runs again: `side.log` has one line. Only the step in flight may run twice.
    func restartMidRun(with signal: Int32) async throws -> (firstExit: Process.TerminationReason, status: Int32, heldRuns: Int) {
        let directory = try temporaryDirectory()
        let plugin = try Self.buildPlugin(in: directory)
        let store = directory + "/runs.db"
        let first = try await ServeProcess(store: store, pluginPaths: [plugin], extra: ["--drain-timeout", "1"])
        let runID: String
        do {
            defer { first.stop() }
            let client = NodalClient(baseURL: first.url)
            let run = try await client.startRun(flowID: try await client.storeFlow(Self.appendThenHold), inputs: [[:]])
            runID = run.id
            try await eventually("the second step holds") { Self.lines(directory + "/held.log").count == 1 }
            #expect(Self.lines(directory + "/side.log") == ["ran"])
            kill(first.process.processIdentifier, signal)
            try await eventually("the server exits") { !first.process.isRunning }
        }
        // Released before the restart, so the step in flight, run again, finishes.
        _ = FileManager.default.createFile(atPath: directory + "/release", contents: nil)
        let second = try await ServeProcess(store: store, pluginPaths: [plugin])
        defer { second.stop() }
        let run = NodalClient(baseURL: second.url).run(id: runID)
        let ended = try await run.wait(interval: .milliseconds(50), timeout: .seconds(120))
        #expect(ended.status == .completed, "\(ended.json)")
        #expect(try await run.results().first?.output == ["held": true])
        #expect(Self.lines(directory + "/side.log") == ["ran"], "the checkpointed first step ran again")
        return (first.process.terminationReason, first.process.terminationStatus, Self.lines(directory + "/held.log").count)
    }

    @Test func aRunGoesOnAfterSIGTERMAndARestart() async throws {
        let (reason, status, heldRuns) = try await restartMidRun(with: SIGTERM)
        #expect(reason == .exit)
        #expect(status == 0)
        // The held step was cancelled after the drain, so it ran again on restart.
        #expect(heldRuns == 2)
    }

    @Test func aRunGoesOnAfterSIGKILLAndARestart() async throws {
        let (reason, status, heldRuns) = try await restartMidRun(with: SIGKILL)
        #expect(reason == .uncaughtSignal)
        #expect(status == SIGKILL)
        #expect(heldRuns == 2)
    }
}

/// Polls `condition` until it holds; fails after `limit` (generous: a loaded machine is slow,
/// and nothing here measures how long things take).
func eventually(_ what: String, limit: Duration = .seconds(90), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: limit)
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw SetupError("gave up waiting: \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// `nodal serve --port 0` running in the background, its standard error in a file the test
/// reads the `listening on` line from.
final class ServeProcess {
    let process = Process()
    let stderrPath: String
    private(set) var url = ""

    init(store: String, pluginPaths: [String], extra: [String] = []) async throws {
        stderrPath = try temporaryDirectory() + "/serve.err"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Products.nodal)
        process.arguments = ["serve", "--port", "0", "--store", store] + pluginPaths.flatMap { ["--plugin-path", $0] } + extra
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let prefix = "nodal serve: listening on "
        var found: String?
        try await eventually("the server's listening line") {
            guard process.isRunning else { throw SetupError("nodal serve exited: \(stderr)") }
            found = stderr.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            return found != nil
        }
        url = found ?? ""
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Kills the server if it still runs and waits for it (a test that failed midway).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
