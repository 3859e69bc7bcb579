import Foundation
import NodalTestSupport
import Synchronization
import Testing

/// One `nodal serve` process, its standard error collected as it comes, for the process-level
/// findings of issue 14's hostile review. (Unchecked: Process is only started, signalled and
/// waited for here; the text and the exit flag are behind mutexes.)
private final class ServeProcess: @unchecked Sendable {
    let process: Process
    private let errorText = Mutex("")
    private let exited = Mutex(false)

    init(store: String, extra: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Products.nodal)
        process.arguments = ["serve", "--port", "0", "--store", store, "--plugin-path", Products.directory] + extra
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if !data.isEmpty { self.errorText.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
        process.terminationHandler = { [self] _ in self.exited.withLock { $0 = true } }
        try process.run()
    }

    var stderr: String { errorText.withLock { $0 } }

    /// Waits until the server listens (its URL) or exits (nil); the deadline only bounds a hang.
    func listening() async throws -> String? {
        for _ in 0..<600 {
            if let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("nodal serve: listening on ") }) {
                return String(line.dropFirst("nodal serve: listening on ".count)) + "/api/v1"
            }
            if exited.withLock({ $0 }) { return nil }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CancellationError()
    }

    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileServeProcessTests {
    func curl(_ arguments: [String]) throws -> String {
        try runProcess("/usr/bin/env", ["curl", "-s", "--max-time", "90"] + arguments).stdout
    }

    func storeFile() throws -> String {
        try temporaryDirectory(containing: [:]) + "/serve.db"
    }

    /// Finding (high): a second `nodal serve` on the store file of a running one started, took
    /// over the first one's runs when their leases looked stale, and the first then marked them
    /// FAILED (`LEASE_LOST`, "taken over by another process") while the second still reported
    /// them RUNNING: runs lost and two servers disagreeing about one run. Reproduction: start
    /// `nodal serve --store S`, submit 500 `wait: true` runs of a `/std/sleep` flow (2 s), start a
    /// second `nodal serve --store S`: `sqlite3 S "select status, count(*) from service_runs group
    /// by status"` shows `failed`. The second server should refuse the store in use (as a lock).
    @Test func aSecondServerOnTheSameStoreRefusesToStart() async throws {
        let store = try storeFile()
        let first = try ServeProcess(store: store)
        defer { _ = first.stop() }
        #expect(try await first.listening() != nil, "\(first.stderr)")
        let second = try ServeProcess(store: store)
        let url = try await second.listening()
        let status = second.stop()
        #expect(url == nil, "the second server listened at \(url ?? "")")
        #expect(status != 0)
        #expect(second.stderr.contains(store), "\(second.stderr)")
    }

    /// README: SIGTERM stops the server gracefully and it exits 0; the next start resumes the runs
    /// that did not end. Checked with a run in flight and with kill -9, where nothing may be lost.
    @Test(arguments: [SIGTERM, SIGKILL]) func aRunInFlightSurvivesTheServerStopping(signal: Int32) async throws {
        let store = try storeFile()
        let first = try ServeProcess(store: store, extra: ["--drain-timeout", "0"])
        let url = try #require(try await first.listening(), "\(first.stderr)")
        let flow = #"{"flow": {"name": "nap", "steps": [{"id": "s", "component": "/std/sleep", "input": {"ms": {"$input": "ms"}, "value": {"$input": "v"}}}], "output": {"$step": "s"}}}"#
        let stored = try curl(["-X", "POST", url + "/flows", "-H", "Content-Type: application/json", "-d", flow])
        let flowID = try #require(stored.firstMatch(of: /"flowId":"([0-9a-f]{64})"/)?.1, "\(stored)")
        let started = try curl(["-X", "POST", url + "/runs", "-H", "Content-Type: application/json", "-d",
                                #"{"flowId": "\#(flowID)", "input": [{"ms": 3000, "v": 1}, {"ms": 3000, "v": 2}]}"#])
        let runID = try #require(started.firstMatch(of: /"runId":"([^"]+)"/)?.1, "\(started)")
        let status = first.stop(signal: signal)
        if signal == SIGTERM { #expect(status == 0, "\(first.stderr)") }
        let second = try ServeProcess(store: store)
        defer { _ = second.stop() }
        let again = try #require(try await second.listening(), "\(second.stderr)")
        let ended = try curl([again + "/runs/\(runID)?wait=true&timeoutSecs=60"])
        #expect(ended.contains(#""status":"EXECUTION_STATUS_COMPLETED""#), "\(ended.prefix(600))")
        let items = try curl([again + "/runs/\(runID)/items"])
        #expect(items.contains(#""output":1"#) && items.contains(#""output":2"#), "\(items.prefix(600))")
    }
}
