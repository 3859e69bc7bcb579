import Foundation
import NodalTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `nodal serve` as a user starts it: refused flags, the one line it prints once listening (with
/// the port it was given when it asked for any), and a graceful stop on SIGTERM.
@Suite(.timeLimit(.minutes(2))) struct ServeCLITests {
    struct Refusal: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var code: Int32
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let refusals: [Refusal] = [
        Refusal(arguments: ["--port", "70000"], code: 64, message: "--port must be 0 to 65535"),
        Refusal(arguments: ["--host", "0.0.0.0"], code: 64, message: "without a token"),
        Refusal(arguments: ["--host", "0.0.0.0"], environment: ["NODAL_TOKEN": "  "], code: 64, message: "NODAL_TOKEN is empty"),
        Refusal(arguments: ["--max-body-bytes", "0"], code: 64, message: "--max-body-bytes"),
        Refusal(arguments: ["--max-items", "0"], code: 64, message: "--max-items"),
        Refusal(arguments: ["--max-wait", "-1"], code: 64, message: "--max-wait"),
        Refusal(arguments: ["--drain-timeout", "-5"], code: 64, message: "--drain-timeout"),
        Refusal(arguments: ["--allow-uri-scheme", "1http"], code: 64, message: "--allow-uri-scheme 1http"),
        Refusal(arguments: ["--allow-uri-scheme", "data"], code: 64, message: "no grant is needed"),
        Refusal(arguments: ["--port", "seven"], code: 64, message: "--port"),
        Refusal(arguments: ["--allow-files", "/no/such/folder"], code: 66, message: "--allow-files /no/such/folder"),
        Refusal(arguments: ["--token-file", "/no/such/token"], code: 66, message: "--token-file /no/such/token"),
    ]

    @Test(arguments: refusals)
    func badFlagsAreRefusedBeforeListening(_ refusal: Refusal) throws {
        let folder = try temporaryDirectory()
        let result = try runProcess(Products.nodal, ["serve", "--store", folder + "/runs.db"] + refusal.arguments, environment: refusal.environment)
        #expect(result.status == refusal.code, "\(result.stderr)")
        #expect(result.stderr.contains(refusal.message), "\(result.stderr)")
        #expect(!result.stderr.contains("listening on"))
    }

    @Test func anEmptyTokenFileIsRefused() throws {
        let folder = try temporaryDirectory()
        let tokenFile = folder + "/token"
        try "\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let result = try runProcess(Products.nodal, ["serve", "--store", folder + "/runs.db", "--token-file", tokenFile])
        #expect(result.status == 64)
        #expect(result.stderr.contains("is empty"))
    }

    @Test func listensOnAFreePortAnswersAndStopsOnSIGTERM() throws {
        let folder = try temporaryDirectory()
        let tokenFile = folder + "/token"
        try "s3cret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["serve", "--port", "0", "--store", folder + "/runs.db", "--token-file", tokenFile])
        let line = try server.waitForLine(containing: "listening on")
        let match = try #require(line.wholeMatch(of: /nodal serve: listening on http:\/\/127\.0\.0\.1:(\d+)/))
        let port = try #require(Int(match.1))
        #expect(port > 0 && port != 7837)

        let health = try runProcess("/usr/bin/env", ["curl", "-s", "-i", "http://127.0.0.1:\(port)/api/v1/health"])
        #expect(health.stdout.hasPrefix("HTTP/1.1 200 OK"))
        let locked = try runProcess("/usr/bin/env", ["curl", "-s", "http://127.0.0.1:\(port)/api/v1/runs"])
        #expect(locked.stdout.contains("\"error\":\"UNAUTHORIZED\""))
        let runs = try runProcess("/usr/bin/env", ["curl", "-s", "-H", "Authorization: Bearer s3cret", "http://127.0.0.1:\(port)/api/v1/runs"])
        #expect(runs.stdout == #"{"runs":[]}"#)
        let document = try runProcess("/usr/bin/env", ["curl", "-s", "-H", "Authorization: Bearer s3cret", "http://127.0.0.1:\(port)/api/v1/openapi.json"])
        #expect(document.stdout.contains("\"openapi\": \"3.0.3\""))

        // A second server cannot have the port: 69, service unavailable.
        let second = try runProcess(Products.nodal, ["serve", "--port", String(port), "--store", folder + "/other.db"])
        #expect(second.status == 69, "\(second.stderr)")
        #expect(second.stderr.contains("cannot serve on http://127.0.0.1:\(port)"))

        let status = server.stop(signal: SIGTERM)
        #expect(status == 0, "\(server.standardError)")
        // One line, and only that one, however the server's own logging is set up.
        #expect(server.standardError == line + "\n")
    }

    @Test func aRunCutShortBySIGTERMResumesWhenTheServerStartsAgain() throws {
        let folder = try temporaryDirectory()
        let lines = folder + "/lines.txt"
        // Each line is written once: a step run twice would show as a repeated line.
        let steps = (0..<3).map { index -> String in
            let after = index == 0 ? "" : #", "after": {"$step": "pause\#(index - 1)"}"#
            return #"{"id": "line\#(index)", "component": "/std/append_line", "input": {"path": "\#(lines)", "line": "\#(index)"\#(after)}}, "#
                + #"{"id": "pause\#(index)", "component": "/std/sleep", "input": {"ms": 300, "value": {"$step": "line\#(index)", "path": "appended"}}}"#
        }
        let flow = #"{"flow": {"name": "lines", "steps": [\#(steps.joined(separator: ", "))], "output": {"$step": "pause2", "path": "value"}}}"#
        let arguments = ["serve", "--port", "0", "--store", folder + "/runs.db"]

        let first = try ServerProcess(arguments)
        let base = try Self.url(first)
        let stored = try Self.post(base + "/flows", flow)
        let flowID = try #require(stored["flowId"] as? String, "\(stored)")
        let created = try Self.post(base + "/runs", #"{"flowId": "\#(flowID)", "input": [{}]}"#)
        let runID = try #require((created["summary"] as? [String: Any])?["runId"] as? String, "\(created)")
        // SIGTERM once the first line is written: the run is under way.
        while (try? String(contentsOfFile: lines, encoding: .utf8))?.isEmpty ?? true { usleep(10_000) }
        #expect(first.stop(signal: SIGTERM) == 0, "\(first.standardError)")
        // Draining let the running step finish and started no other.
        let afterFirst = try String(contentsOfFile: lines, encoding: .utf8)
        #expect(afterFirst == "0\n", "\(afterFirst.debugDescription) \(first.standardError)")

        let second = try ServerProcess(arguments)
        let again = try Self.url(second)
        // The service picks the run up while the server already answers: a wait that comes
        // before it did returns the stored record at once (still running), so wait again.
        var finished: [String: Any] = [:]
        for _ in 0..<50 {
            finished = try Self.get(again + "/runs/\(runID)?wait=true&timeoutSecs=60")
            guard (finished["summary"] as? [String: Any])?["status"] as? String == "EXECUTION_STATUS_RUNNING" else { break }
            usleep(20_000)
        }
        #expect((finished["summary"] as? [String: Any])?["status"] as? String == "EXECUTION_STATUS_COMPLETED", "\(finished)")
        let afterSecond = try String(contentsOfFile: lines, encoding: .utf8)
        #expect(afterSecond == "0\n1\n2\n", "\(afterSecond.debugDescription) \(finished)")
        #expect(second.stop(signal: SIGTERM) == 0)
    }

    static func url(_ server: ServerProcess) throws -> String {
        let line = try server.waitForLine(containing: "listening on")
        return String(line.dropFirst("nodal serve: listening on ".count)) + "/api/v1"
    }

    static func post(_ url: String, _ body: String) throws -> [String: Any] {
        try json(runProcess("/usr/bin/env", ["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", body, url]).stdout)
    }

    static func get(_ url: String) throws -> [String: Any] {
        try json(runProcess("/usr/bin/env", ["curl", "-s", url]).stdout)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }
}

/// `nodal` started in the background, its standard error read line by line as it comes.
final class ServerProcess: Sendable {
    private let process: Process
    private let lines = Mutex<[String]>([])
    private let partial = Mutex("")
    private let closed = Mutex(false)
    private let arrived = DispatchSemaphore(value: 0)

    init(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Products.nodal)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        try process.run()
        // A thread of its own blocks on the pipe (a readability handler's dispatch source has
        // crashed in libdispatch here when the pipe closed).
        let handle = errors.fileHandleForReading
        DispatchQueue.global().async { [self] in
            while true {
                let data = handle.availableData
                let complete = partial.withLock { partial -> [String] in
                    partial += String(decoding: data, as: UTF8.self)
                    var parts = partial.components(separatedBy: "\n")
                    partial = parts.removeLast()
                    return parts
                }
                lines.withLock { $0 += complete }
                if data.isEmpty { closed.withLock { $0 = true } }
                arrived.signal()
                if data.isEmpty { return }
            }
        }
    }

    /// Blocks until a line containing `text` came, or standard error closed without one.
    func waitForLine(containing text: String) throws -> String {
        while true {
            if let line = lines.withLock({ $0.first { $0.contains(text) } }) { return line }
            if closed.withLock({ $0 }) { throw SetupError("nodal closed standard error without '\(text)': \(standardError)") }
            arrived.wait()
        }
    }

    var standardError: String { lines.withLock { $0.map { $0 + "\n" }.joined() } + partial.withLock { $0 } }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    func stop(signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        // What it wrote last has been read once the pipe reports its end.
        while !closed.withLock({ $0 }) { arrived.wait() }
        return process.terminationStatus
    }
}
