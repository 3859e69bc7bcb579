import Foundation
import NodalTestSupport
import Testing

/// The `nodal` command end to end: the conformance flows, output formats and exit codes.
@Suite struct CLITests {
    func nodal(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(Products.nodal, arguments)
    }

    func write(_ text: String, to name: String, in directory: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func conformanceFlowsPassUnchanged() throws {
        let c = Products.conformance
        let result = try runProcess(Products.nodal, ["test", c + "/basic.yaml", c + "/empty/empty_flow.yaml", c + "/builtins/map_test.yaml"] + [
            "basic", "error_fail", "error_retry", "error_use_default", "error_use_default_value", "lazy_evaluation",
        ].map { c + "/mock/\($0).yaml" })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.last == "19 passed, 0 failed")
        #expect(lines.filter { $0.hasPrefix("PASS") }.count == 19)
    }

    @Test func examplesPassTheirOwnTestCases() throws {
        let examples = ["hello/flow.yaml", "route/route.yaml", "map/map.yaml", "loop/sum.yaml", "interrupt/publish.yaml"]
        let result = try runProcess(Products.nodal, ["test"] + examples.map { Products.repositoryRoot + "/examples/" + $0 })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("10 passed, 0 failed\n"))
        // The FFI example's allowlist is a grant: it applies only when named.
        let ffi = Products.repositoryRoot + "/examples/ffi"
        let named = try runProcess(Products.nodal, ["test", ffi + "/pow.yaml", "--config", ffi + "/nodal-config.yml"])
        #expect(named.stdout.hasSuffix("1 passed, 0 failed\n"), "\(named.stdout)\(named.stderr)")
    }

    @Test func resumeIsOnlySuggestedForRunsAnotherProcessCanFind() throws {
        let example = Products.repositoryRoot + "/examples/interrupt"
        let id = "twice-\(UUID().uuidString.prefix(8))"
        let first = try nodal("run", example + "/publish.yaml", "--input-file", example + "/input.json", "--run-id", id)
        #expect(first.stderr.contains("nodal resume \(id)"))
        let again = try nodal("run", example + "/publish.yaml", "--input-file", example + "/input.json", "--run-id", id)
        #expect(again.status == 73)  // the run id is taken
        #expect(again.stderr.contains("already has a run '\(id)'"))
        #expect(!again.stderr.contains("nodal resume"))
        let inMemory = try nodal("run", example + "/publish.yaml", "--input-file", example + "/input.json", "--store", "inMemory")
        #expect(inMemory.status == 75)
        #expect(!inMemory.stderr.contains("nodal resume"))
    }

    /// The README's interrupt walk-through, as written there.
    @Test func theInterruptExamplePausesAndResumesWithTheAnswer() throws {
        let example = Products.repositoryRoot + "/examples/interrupt"
        let id = "publish-\(UUID().uuidString.prefix(8))"
        let run = try nodal("run", example + "/publish.yaml", "--input-file", example + "/input.json", "--run-id", id, "--no-progress")
        #expect(run.status == 75, "\(run.stderr)")
        #expect(run.stdout.contains("\"question\": \"Publish this announcement?\""))
        #expect(run.stderr.contains("run paused at step 'review.decision', waiting for a value for 'review.decision'"))
        #expect(run.stderr.contains("nodal resume \(id) --value review.decision=JSON"))

        let wrong = try nodal("resume", id, "--value", "decision=true")
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("waits for a value for 'review.decision'"))
        let missing = try nodal("resume", id)
        #expect(missing.status == 64)

        let resumed = try nodal("resume", id, "--value", "review.decision={\"approved\": true, \"note\": \"ship it\"}", "--format", "json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any]
        let output = result?["output"] as? [String: Any]
        #expect(output?["status"] as? String == "published")
        #expect(output?["text"] as? String == "NODAL 0.2 IS OUT: SUB-FLOWS, LOOPS AND INTERRUPTS")
        #expect(output?["note"] as? String == "ship it")
        let steps = result?["steps"] as? [[String: Any]]
        let review = steps?.first { $0["id"] as? String == "review" }
        let inner = review?["steps"] as? [[String: Any]]
        #expect((inner?.first?["output"] as? [String: Any])?["approved"] as? Bool == true)

        let show = try nodal("runs", "show", id)
        #expect(show.stdout.contains("\"status\": \"success\""))
    }

    @Test func failingTestCaseExitsOneAndSaysWhy() throws {
        let directory = try temporaryDirectory()
        let flow = try write("""
            steps: []
            output: { got: { $input: x } }
            test:
              cases:
                - name: wrong
                  input: { x: 1 }
                  output: { outcome: success, result: { got: 2 } }
                - name: right
                  input: { x: 2 }
                  output: { outcome: success, result: { got: 2 } }
            """, to: "flow.yaml", in: directory)
        let result = try nodal("test", flow)
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAIL  \(flow): wrong: $.got: expected 2, got 1"))
        #expect(result.stdout.hasSuffix("1 passed, 1 failed\n"))
    }

    @Test func runPrintsTheOutputAndJSONFormatPrintsTheWholeResult() throws {
        let c = Products.conformance
        let text = try nodal("run", c + "/basic.yaml", "--input", #"{"message": "hi"}"#)
        #expect(text.status == 0)
        #expect(try JSONSerialization.jsonObject(with: Data(text.stdout.utf8)) as? NSDictionary == [
            "result": ["messages": [["role": "user", "content": "hi"]]],
        ])
        let json = try nodal("run", c + "/mock/basic.yaml", "--input", #"{"name": "world"}"#, "--format", "json")
        #expect(json.status == 1)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(result["status"] as? String == "failed")
        let steps = try #require(result["steps"] as? [[String: Any]])
        #expect(steps.map { $0["status"] as? String } == ["failed", "notRun"])
        // A mock with no behaviour for the input fails as Stepflow's does.
        #expect((steps[0]["error"] as? [String: Any])?["code"] as? String == "UNREACHABLE")
        let error = try #require(result["error"] as? [String: Any])
        #expect(error["message"] as? String == #"step "step1" failed"#)
        #expect(error["step"] as? String == "step1")
        // In text, the failure line names the step.
        let failed = try nodal("run", c + "/mock/basic.yaml", "--input", #"{"name": "world"}"#)
        #expect(failed.stderr.contains(#"run failed at step 'step1': step "step1" failed"#), "\(failed.stderr)")
    }

    @Test func nativePluginsRunFromTheCLI() throws {
        let directory = try temporaryDirectory()
        let flow = try write("""
            steps:
              - { id: up, component: /std/upper, input: { text: { $input: name } } }
              - { id: avg, component: /stats/mean, input: { values: [2, 4] } }
              - { id: msg, component: /builtin/create_messages, input: { user_prompt: { $step: up, path: text } } }
            output: { prompt: { $step: msg, path: "$.messages[0].content" }, mean: { $step: avg, path: mean } }
            """, to: "flow.yaml", in: directory)
        let result = try nodal("run", flow, "--input", #"{"name": "ada"}"#, "--plugin-path", Products.plugin("nodal_std"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""prompt": "ADA""#))
        #expect(result.stdout.contains(#""mean": 3"#))
    }

    @Test func relativePluginPathsWork() throws {
        let directory = try temporaryDirectory()
        try FileManager.default.copyItem(atPath: Products.plugin("nodal_std"), toPath: directory + "/libmine.so")
        _ = try write("steps: [{id: s, component: /std/length, input: {text: héllo}}]\noutput: {$step: s, path: length}", to: "f.yaml", in: directory)
        let result = try runProcess(Products.nodal, ["run", "f.yaml", "--plugin-path", "libmine.so"], currentDirectory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "5\n")
    }

    @Test func exitCodes() throws {
        let directory = try temporaryDirectory()
        // 64: usage
        #expect(try nodal("run").status == 64)
        // 65: an input that is not JSON (the flow is there: a missing one is 66)
        #expect(try nodal("run", Products.conformance + "/basic.yaml", "--input", "{not json").status == 65)
        // 65: invalid flow, naming the file
        let malformed = try write("steps: [\n  - id: a\n  bad", to: "malformed.yaml", in: directory)
        let invalid = try nodal("run", malformed)
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains("malformed.yaml"))
        let cycle = try write("""
            steps:
              - { id: a, component: /builtin/create_messages, input: { user_prompt: { $step: b } } }
              - { id: b, component: /builtin/create_messages, input: { user_prompt: { $step: a } } }
            output: { $step: b }
            """, to: "cycle.yaml", in: directory)
        let cycleResult = try nodal("validate", cycle)
        #expect(cycleResult.status == 65)
        #expect(cycleResult.stderr.contains("a -> b -> a") || cycleResult.stderr.contains("b -> a -> b"))
        // 69: a plugin that could not be loaded, when the flow needs it
        let plugins = directory + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try "not a library".write(toFile: plugins + "/libbroken.so", atomically: true, encoding: .utf8)
        let needsIt = try write("steps: [{id: s, component: /broken/node}]\noutput: {$step: s}", to: "needs.yaml", in: directory)
        let refused = try nodal("run", needsIt, "--plugin-path", plugins)
        #expect(refused.status == 69)
        #expect(refused.stderr.contains("libbroken.so"))
        #expect(refused.stderr.contains("not a shared library"))
        // 1: the run failed
        #expect(try nodal("run", Products.conformance + "/mock/error_fail.yaml", "--input", #"{"mode": "error"}"#).status == 1)
        // 0
        #expect(try nodal("validate", Products.conformance + "/basic.yaml").status == 0)
    }

    @Test func helpDocumentsTheExitCodes() throws {
        let help = try nodal("--help")
        #expect(help.status == 0)
        for line in ["64  usage: ", "65  invalid: ", "66  not found: ", "69  a plugin the flow needs could not be loaded"] {
            #expect(help.stdout.contains(line))
        }
    }

    @Test func pluginsListAndInspect() throws {
        let list = try nodal("plugins", "list", "--format", "json")
        #expect(list.status == 0, "\(list.stdout)\(list.stderr)")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let ids = (listed["plugins"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(ids.contains("org.nodal.std"))
        #expect(ids.contains("org.nodal.stats"))

        let node = try nodal("plugins", "inspect", "org.nodal.std.sleep")
        #expect(node.status == 0)
        #expect(node.stdout.contains(#""route": "/std/sleep""#))
        #expect(node.stdout.contains(#""cancellable""#))
        let plugin = try nodal("plugins", "inspect", "stats")
        #expect(plugin.stdout.contains(#""swiftToolchain""#))
        #expect(try nodal("plugins", "inspect", "org.nowhere").status != 0)
    }
}

/// `nodal run`'s observation and control options: events, dry runs, variables and Ctrl-C.
@Suite struct CLIRunOptionTests {
    func write(_ text: String, in directory: String) throws -> String {
        let path = directory + "/flow.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func eventsArePrintedAsJSONLines() throws {
        let flow = try write("steps: [{id: up, component: /std/upper, input: {text: a}}]\noutput: {$step: up, path: text}", in: try temporaryDirectory())
        let result = try runProcess(Products.nodal, ["run", flow, "--events"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let events = lines.compactMap { line -> String? in
            guard let data = line.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return object["event"] as? String
        }
        // Every line is an event; the last one carries the result.
        #expect(events.count == lines.count)
        #expect(events == ["run.started", "step.started", "step.succeeded", "run.succeeded", "run.finished"])
        let finished = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        #expect(finished["output"] as? String == "A")
        #expect(finished["status"] as? String == "success")
        // Not a terminal: no progress line.
        #expect(!result.stderr.contains("running:"))
    }

    /// On a terminal (a pseudo-terminal from util-linux `script`), the live progress line shows
    /// on standard error; `--no-progress` turns it off.
    @Test func progressLineOnATerminal() throws {
        let flow = try write("""
            steps:
              - { id: wait, component: /std/sleep, input: { ms: 300 } }
            output: { $step: wait, path: slept_ms }
            """, in: try temporaryDirectory())
        let shown = try runProcess("/usr/bin/script", ["-qec", "\(Products.nodal) run \(flow)", "/dev/null"])
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("running: wait"))
        #expect(shown.stdout.contains("300"))
        let hidden = try runProcess("/usr/bin/script", ["-qec", "\(Products.nodal) run \(flow) --no-progress", "/dev/null"])
        #expect(hidden.status == 0)
        #expect(!hidden.stdout.contains("running:"))
    }

    @Test func dryRunPrintsThePlanAndRunsNothing() throws {
        let directory = try temporaryDirectory()
        let marker = directory + "/ran.txt"
        let flow = try write("""
            steps:
              - { id: mark, component: /std/append_line, input: { path: "\(marker)", line: ran } }
              - { id: wait, component: /std/sleep, input: { ms: 5000, value: { $step: mark } } }
            output: { $step: wait }
            """, in: directory)
        let result = try runProcess(Products.nodal, ["run", flow, "--dry-run"])
        #expect(result.status == 0)
        #expect(!FileManager.default.fileExists(atPath: marker), "a dry run ran a step")
        #expect(result.stdout.contains(#""execution": "pool""#))
        #expect(result.stdout.contains(#""wait""#) && result.stdout.contains(#""mark""#))
    }

    @Test func variablesFromTheCommandLine() throws {
        let flow = try write("steps: []\noutput: {$variable: greeting}", in: try temporaryDirectory())
        let result = try runProcess(Products.nodal, ["run", flow, "--var", #"greeting="hi""#])
        #expect(result.stdout == "\"hi\"\n")
        #expect(try runProcess(Products.nodal, ["run", flow, "--var", "greeting"]).status == 64)
    }

    @Test func ctrlCCancelsAndPrintsThePartialResult() throws {
        let directory = try temporaryDirectory()
        let marker = directory + "/started.txt"
        let flow = try write("""
            steps:
              - { id: quick, component: /std/append_line, input: { path: "\(marker)", line: started } }
              - { id: slow, component: /std/sleep, input: { ms: 10000, value: { $step: quick } } }
            output: [{ $step: quick }, { $step: slow }]
            """, in: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Products.nodal)
        process.arguments = ["run", flow, "--format", "json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        // Interrupt once the quick step has run (it has written its line).
        while !FileManager.default.fileExists(atPath: marker) && process.isRunning { usleep(10_000) }
        kill(process.processIdentifier, SIGINT)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(result["status"] as? String == "canceled")
        let steps = try #require(result["steps"] as? [[String: Any]])
        #expect(steps.first?["status"] as? String == "success")
        // Interrupted while running, or (on a loaded machine) just before it started.
        #expect(["canceled", "notRun"].contains(steps.last?["status"] as? String ?? ""))
    }
}

/// `nodal run` records runs in the store; `nodal resume` goes on after a crash.
@Suite struct CLIStoreTests {
    /// A chain whose steps append to a file: a step that ran twice would show as a repeated line.
    func appendingFlow(lines: Int, file: String, in directory: String) throws -> String {
        var steps = ""
        for i in 0..<lines {
            let after = i == 0 ? "" : ", after: { $step: pause\(i - 1) }"
            steps += "  - { id: line\(i), component: /std/append_line, input: { path: \"\(file)\", line: \"\(i)\"\(after) } }\n"
            steps += "  - { id: pause\(i), component: /std/sleep, input: { ms: 400, value: { $step: line\(i), path: appended } } }\n"
        }
        let path = directory + "/append.yaml"
        try "steps:\n\(steps)output: { $step: pause\(lines - 1), path: value }\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aRunKilledMidwayResumesWithoutRepeatingSteps() throws {
        let directory = try temporaryDirectory()
        let file = directory + "/lines.txt"
        let store = directory + "/runs.db"
        let flow = try appendingFlow(lines: 8, file: file, in: directory)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Products.nodal)
        process.arguments = ["run", flow, "--store", store, "--run-id", "crashy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once a few steps are done, in the middle of the flow. The deadline only stops a
        // broken run from hanging the test; a loaded machine reaches three lines well before it.
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let done = (try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if done >= 3 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let before = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(before.count >= 3 && before.count < 8, "killed too late: \(before)")

        let resumed = try runProcess(Products.nodal, ["resume", "crashy", "--store", store])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout == "\"7\"\n")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        // Checkpointed steps do not run again. The kill may land between the last line's append and
        // its checkpoint (on a loaded machine it often does): that step was in flight and runs
        // again, at least once as README says; no other may.
        let once = (0..<8).map { Substring("\($0)") }
        let last = before.count - 1
        let inFlightAgain = once[...last] + [once[last]] + once[(last + 1)...]
        #expect(lines == once || lines == Array(inFlightAgain), "every step ran once, in order (the one in flight at the kill perhaps twice): \(lines)")

        let shown = try runProcess(Products.nodal, ["runs", "show", "crashy", "--store", store])
        #expect(shown.stdout.contains(#""status": "success""#))
    }

    @Test func resumeRefusesAChangedFlowUnlessAllowed() throws {
        let directory = try temporaryDirectory()
        let flow = directory + "/flow.yaml"
        let store = directory + "/runs.db"
        try "steps: [{id: f, component: /std/fail}]\noutput: {$step: f}\n".write(toFile: flow, atomically: true, encoding: .utf8)
        let failed = try runProcess(Products.nodal, ["run", flow, "--store", store, "--run-id", "r"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("nodal resume r"))
        try "steps: [{id: f, component: /std/increment, input: {value: 1}}]\noutput: {$step: f, path: value}\n".write(toFile: flow, atomically: true, encoding: .utf8)
        let refused = try runProcess(Products.nodal, ["resume", "r", "--store", store])
        #expect(refused.status == 65)  // invalid: not the flow the run started with
        #expect(refused.stderr.contains("changed since"))
        let allowed = try runProcess(Products.nodal, ["resume", "r", "--store", store, "--allow-changed-flow"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout == "2\n")
        let list = try runProcess(Products.nodal, ["runs", "list", "--store", store, "--format", "json"])
        #expect(list.stdout.contains(#""runId": "r""#))
    }

    @Test func aStoreThatIsNotADatabaseIsAClearError() throws {
        let directory = try temporaryDirectory()
        let bogus = directory + "/notes.txt"
        try "hello".write(toFile: bogus, atomically: true, encoding: .utf8)
        let result = try runProcess(Products.nodal, ["run", Products.conformance + "/basic.yaml", "--input", #"{"message": "x"}"#, "--store", bogus])
        #expect(result.status == 74)
        #expect(result.stderr.contains("notes.txt"))
    }
}

@Suite struct CLICacheTests {
    @Test func aCachedStepIsReusedAcrossProcessesUntilCleared() throws {
        let directory = try temporaryDirectory()
        let store = directory + "/runs.db"
        let flow = directory + "/flow.yaml"
        try "steps: [{id: up, component: /std/upper, cache: true, input: {text: {$input: t}}}]\noutput: {$step: up, path: text}\n"
            .write(toFile: flow, atomically: true, encoding: .utf8)
        func run() throws -> String {
            try runProcess(Products.nodal, ["run", flow, "--input", #"{"t": "abc"}"#, "--store", store, "--events"]).stdout
        }
        #expect(!(try run()).contains("step.cached"))
        let second = try run()
        #expect(second.contains("step.cached"))
        #expect(second.split(separator: "\n").last?.contains(#""event":"run.finished","status":"success","output":"ABC""#) == true)
        let stats = try runProcess(Products.nodal, ["cache", "stats", "--store", store])
        #expect(stats.stdout.hasPrefix("1 cached results"))
        let cleared = try runProcess(Products.nodal, ["cache", "clear", "--store", store])
        #expect(cleared.stdout == "removed 1 cached results\n")
        #expect(!(try run()).contains("step.cached"))
    }
}
