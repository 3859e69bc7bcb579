import CNodal
import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// `org.nodal.runs.v1` from a C plugin (ExtensionPlugin): the run status reply field by field, its
/// counts while items run, result orders, failed and cancelled items, overrides and variables, and
/// every refusal ({code, message} with NODAL_ERROR; NODAL_INVALID for NULL pointers and stale calls).
@Suite struct RunsExtensionTests {
    static let statusKeys = ["runId", "flowId", "flowName", "status", "items", "createdAt", "completedAt", "parentRunId", "rootRunId", "results"]
    static let countKeys = ["total", "pending", "running", "success", "failed", "cancelled"]

    static func date(_ value: JSON?) throws -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let text = try #require(value?.stringValue)
        return try #require(formatter.date(from: text), "not ISO 8601: \(text)")
    }

    static func counts(_ status: JSON?) -> [Int] {
        countKeys.map { status?[path: "items.\($0)"]?.intValue ?? -1 }
    }

    /// Every field of the reply, while the items run (two of three held in the plugin) and after:
    /// submitted with wait: false, read with get, then waited for with get wait: true.
    @Test(.timeLimit(.minutes(1))) func theStatusReplyHasEveryFieldWhileRunningAndAfter() async throws {
        let hold = try HoldPlugin()
        defer { hold.release() }
        let clock = TestClock()
        let engine = try ExtensionPlugin.engine(clock: clock, also: [hold.path])
        let flow = try Flow(yaml: """
            steps:
              - id: put
                component: /ext/put_flow
                input:
                  $literal:
                    name: held items
                    steps:
                      - { id: hold, component: /hold/hold }
                      - { id: echo, component: /ext/echo, input: { item: { $input: $ }, held: { $step: hold, path: released } } }
                    output: { $step: echo }
              - id: submit
                component: /ext/submit
                input: { flowId: { $step: put, path: id }, inputs: [10, 20, 30], maxConcurrency: 2 }
              - id: pause
                component: /builtin/sleep
                input: { duration_ms: 1000, passthrough: { $step: submit, path: runId } }
              - id: during
                component: /ext/get
                input: { runId: { $step: pause, path: passthrough } }
              - id: after
                component: /ext/get
                input: { runId: { $step: during, path: runId }, wait: true, includeResults: true }
            output: { put: { $step: put }, submitted: { $step: submit }, during: { $step: during }, after: { $step: after } }
            """)
        let parentID = "parent-\(UUID().uuidString.prefix(8))"
        // The held items return once `during` has read the counts.
        let options = RunOptions(runID: parentID, onEvent: { event in
            if case .stepSucceeded(step: "during", attempt: _, output: _, duration: _) = event.kind { hold.release() }
        })
        let run = Task { await engine.run(flow, input: [:], options: options) }
        try await hold.waitUntilEntered(2)
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(1))
        let result = await run.value
        #expect(result.status == .success, "\(result.json)")
        let output = try #require(result.output)

        let submitted = try #require(output["submitted"])
        let runID = try #require(submitted["runId"]?.stringValue)
        #expect(UUID(uuidString: runID) != nil && runID == runID.lowercased(), "run ids are lowercase UUIDs: \(runID)")
        #expect(["pending", "running"].contains(submitted["status"]?.stringValue))
        #expect(submitted["completedAt"] == nil && submitted["results"] == nil)

        let during = try #require(output["during"])
        #expect(during.objectValue?.keys == Self.statusKeys.filter { $0 != "completedAt" && $0 != "results" })
        #expect(during["status"] == "running")
        #expect(Self.counts(during) == [3, 1, 2, 0, 0, 0])

        let after = try #require(output["after"])
        #expect(after.objectValue?.keys == Self.statusKeys)
        #expect(after["runId"]?.stringValue == runID)
        #expect(after["flowId"] == output["put"]?["id"])
        #expect(after["flowName"] == "held items")
        #expect(after["status"] == "success")
        #expect(Self.counts(after) == [3, 0, 0, 3, 0, 0])
        #expect(after["parentRunId"]?.stringValue == parentID)
        #expect(after["rootRunId"]?.stringValue == parentID)
        #expect(after["createdAt"] == during["createdAt"])
        let created = try Self.date(after["createdAt"]), completed = try Self.date(after["completedAt"])
        #expect(created <= completed)
        let results = try #require(after["results"]?.arrayValue)
        #expect(results.map { $0["itemIndex"]?.intValue } == [0, 1, 2])
        for (index, item) in results.enumerated() {
            #expect(item.objectValue?.keys == ["itemIndex", "result", "completedAt"])
            #expect(item["result"] == ["outcome": "success", "value": ["item": .int(10 * (index + 1)), "held": true]])
            let finished = try Self.date(item["completedAt"])
            #expect(created <= finished && finished <= completed)
        }
    }

    /// Items finish in another order than their indexes (sleeps on the test clock, released one
    /// at a time): byCompletion lists them as they finished, byIndex (the default) by index.
    @Test(.timeLimit(.minutes(1))) func resultsComeByIndexOrByCompletion() async throws {
        let clock = TestClock()
        let engine = try ExtensionPlugin.engine(clock: clock)
        let flow = try Flow(yaml: """
            steps:
              - id: put
                component: /ext/put_flow
                input:
                  $literal:
                    steps:
                      - { id: nap, component: /builtin/sleep, input: { duration_ms: { $input: delay } } }
                      - { id: echo, component: /ext/echo, input: { i: { $input: i }, slept: { $step: nap, path: duration_ms } } }
                    output: { $step: echo, path: i }
              - id: submit
                component: /ext/submit
                input: { flowId: { $step: put, path: id }, inputs: [{ i: 0, delay: 300 }, { i: 1, delay: 100 }, { i: 2, delay: 200 }] }
              - id: byCompletion
                component: /ext/get
                input: { runId: { $step: submit, path: runId }, wait: true, includeResults: true, resultOrder: byCompletion }
              - id: byIndex
                component: /ext/get
                input: { runId: { $step: byCompletion, path: runId }, includeResults: true, resultOrder: byIndex }
              - id: unordered
                component: /ext/get
                input: { runId: { $step: byIndex, path: runId }, includeResults: true }
            output: { byCompletion: { $step: byCompletion }, byIndex: { $step: byIndex }, unordered: { $step: unordered } }
            """)
        let run = Task { await engine.run(flow, input: [:]) }
        await clock.waitForSleepers(count: 3)
        for finished in 1...3 {
            clock.advanceToNextDeadline()
            // The next item is released only once this one is counted.
            while engine.subRuns.all.first.map({ Self.counts($0.status(includeResults: false, order: .byIndex))[3] }) ?? 0 < finished {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        let result = await run.value
        #expect(result.status == .success, "\(result.json)")
        let byCompletion = try #require(result.output?["byCompletion"]?["results"]?.arrayValue)
        #expect(byCompletion.map { $0["itemIndex"]?.intValue } == [1, 2, 0])
        #expect(byCompletion.map { $0[path: "result.value"]?.intValue } == [1, 2, 0])
        let times = try byCompletion.map { try Self.date($0["completedAt"]) }
        #expect(times == times.sorted())
        #expect(result.output?["byIndex"]?["results"]?.arrayValue?.map { $0["itemIndex"]?.intValue } == [0, 1, 2])
        #expect(result.output?["unordered"]?["results"] == result.output?["byIndex"]?["results"])
    }

    /// A failed item's result carries its step's error as {code, message}; the run is failed and
    /// the other items' results are there.
    @Test func failedItemsCarryTheirErrorAndTheRunIsFailed() async throws {
        let engine = try ExtensionPlugin.engine()
        let result = await engine.run(try Self.submitFlow(
            subflow: "{ steps: [{ id: check, component: /ext/check, input: { $input: $ } }], output: { $step: check } }",
            request: "inputs: [0, 1, 2], wait: true"), input: [:])
        #expect(result.status == .success, "\(result.json)")
        let status = try #require(result.output)
        #expect(status["status"] == "failed")
        #expect(Self.counts(status) == [3, 0, 0, 2, 1, 0])
        let results = try #require(status["results"]?.arrayValue)
        #expect(results.map { $0["result"] } == [
            ["outcome": "success", "value": 0],
            ["outcome": "failed", "error": ["code": "ODD", "message": "item 1 failed"]],
            ["outcome": "success", "value": 2],
        ])
    }

    /// `runs.cancel` stops the items in flight (they end cancelled) and the run ends cancelled.
    @Test(.timeLimit(.minutes(1))) func cancelStopsTheRunsItems() async throws {
        let engine = try ExtensionPlugin.engine()
        let flow = try Flow(yaml: """
            steps:
              - id: put
                component: /ext/put_flow
                input: { $literal: { steps: [{ id: w, component: /ext/waiter }], output: { $step: w } } }
              - id: submit
                component: /ext/submit
                input: { flowId: { $step: put, path: id }, inputs: [1, 2] }
              - id: cancel
                component: /ext/cancel
                input: { runId: { $step: submit, path: runId } }
              - id: final
                component: /ext/get
                input: { runId: { $step: cancel, path: runId }, wait: true, includeResults: true }
            output: { cancel: { $step: cancel }, final: { $step: final } }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success, "\(result.json)")
        #expect(["pending", "running"].contains(result.output?[path: "cancel.status"]?.stringValue))
        let final = try #require(result.output?["final"])
        #expect(final["status"] == "cancelled")
        #expect(Self.counts(final) == [2, 0, 0, 0, 0, 2])
        #expect(final["results"]?.arrayValue?.map { $0[path: "result.outcome"] } == ["cancelled", "cancelled"])
        #expect(final["results"]?.arrayValue?.allSatisfy { $0[path: "result.error.code"] == "CANCELED" } == true)
    }

    /// Overrides change a step's onError and timeout for the sub-run only; variables reach
    /// `$variable`; no inputs is a run with no items that succeeded at once.
    @Test(.timeLimit(.minutes(1))) func overridesAndVariablesApplyToTheSubRun() async throws {
        let clock = TestClock()
        let engine = try ExtensionPlugin.engine(clock: clock)
        let defaults = await engine.run(try Self.submitFlow(
            subflow: "{ steps: [{ id: check, component: /ext/check, input: { $input: $ } }], output: { v: { $step: check }, g: { $variable: greeting } } }",
            request: "inputs: [0, 1], wait: true, variables: { greeting: hi }, overrides: { check: { onError: { action: useDefault, defaultValue: -1 } } }"),
            input: [:])
        #expect(defaults.output?["status"] == "success", "\(defaults.json)")
        #expect(defaults.output?["results"]?.arrayValue?.map { $0[path: "result.value"] } == [["v": 0, "g": "hi"], ["v": -1, "g": "hi"]])

        let timedFlow = try Self.submitFlow(
            subflow: "{ steps: [{ id: w, component: /ext/waiter }], output: { $step: w } }",
            request: "inputs: [1], wait: true, overrides: { w: { timeoutSecs: 5 } }")
        let timed = Task { await engine.run(timedFlow, input: [:]) }
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays == [.seconds(5)])
        clock.advance(by: .seconds(5))
        let result = await timed.value
        #expect(result.output?[path: "results.0.result.error.code"] == "TIMEOUT", "\(result.json)")

        let empty = await engine.run(try Self.submitFlow(subflow: "{ steps: [], output: 1 }", request: "inputs: [], wait: true"), input: [:])
        #expect(empty.output?["status"] == "success")
        #expect(Self.counts(empty.output) == [0, 0, 0, 0, 0, 0])
        #expect(empty.output?["results"] == [])
    }

    /// A flow that stores `subflow` (a flow as a YAML flow mapping) and submits it with `request`
    /// (the request's members but flowId, as YAML); its output is the reply.
    static func submitFlow(subflow: String, request: String, node: String = "submit") throws -> Flow {
        try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_flow, input: { $literal: \(subflow) } }
              - { id: submit, component: /ext/\(node), input: { flowId: { $step: put, path: id }, \(request) } }
            output: { $step: submit }
            """)
    }

    /// What the extension replied to a request it refused: the step fails with code REFUSED and
    /// the reply as details, which must be exactly {code, message}.
    static func refusal(_ engine: Engine, _ flow: Flow, step: String = "submit") async throws -> (code: String, message: String) {
        let result = await engine.run(flow, input: [:])
        let error = try #require(result.step(step)?.error, "\(result.json)")
        #expect(error.code == "REFUSED", "\(error)")
        let details = try #require(error.details)
        #expect(details.objectValue?.keys == ["code", "message"])
        let message = try #require(details["message"]?.stringValue)
        #expect(!message.isEmpty)
        return (try #require(details["code"]?.stringValue), message)
    }

    static func request(_ request: String, node: String = "submit") throws -> Flow {
        try Flow(yaml: "steps: [{ id: submit, component: /ext/\(node), input: \(request) }]\noutput: { $step: submit }")
    }

    @Test func refusedRequestsSayWhyAndStartNothing() async throws {
        let engine = try ExtensionPlugin.engine()
        let zeros = String(repeating: "0", count: 64)
        let quoted = "\"\(zeros)\""
        let cases: [(Flow, String, String)] = [
            (try Self.request("{ flowId: \(quoted), inputs: [1] }"), "BLOB_NOT_FOUND", zeros),
            (try Self.request("not a request"), "INVALID_REQUEST", "must be a JSON object"),
            (try Self.request("{ inputs: [1] }"), "INVALID_REQUEST", "'flowId'"),
            (try Self.request("{ flowId: nope, inputs: [1] }"), "INVALID_REQUEST", "not a blob id"),
            (try Self.request("{ flowId: \(quoted) }"), "INVALID_REQUEST", "'inputs'"),
            (try Self.request("{ flowId: \(quoted), inputs: 3 }"), "INVALID_REQUEST", "'inputs' must be an array"),
            (try Self.request("{ flowId: \(quoted), inputs: [], maxConcurrency: 0 }"), "INVALID_REQUEST", "'maxConcurrency'"),
            (try Self.request("{ flowId: \(quoted), inputs: [], wait: yes }"), "INVALID_REQUEST", "'wait' must be true or false"),
            (try Self.request("{ flowId: \(quoted), inputs: [], waitFor: true }"), "INVALID_REQUEST", "unknown field 'waitFor'"),
            (try Self.request("{ runId: nope }", node: "get"), "RUN_NOT_FOUND", "'nope'"),
            (try Self.request("{ wait: true }", node: "get"), "INVALID_REQUEST", "'runId'"),
            (try Self.request("{ runId: 7 }", node: "cancel"), "INVALID_REQUEST", "'runId' must be a string"),
            (try Self.request("{ runId: nope }", node: "cancel"), "RUN_NOT_FOUND", "'nope'"),
        ]
        for (flow, code, fragment) in cases {
            let refusal = try await Self.refusal(engine, flow)
            #expect(refusal.code == code, "\(refusal)")
            #expect(refusal.message.contains(fragment), "\(refusal)")
        }

        // A blob that is not a flow, a flow whose components do not resolve, overrides Nodal
        // cannot apply.
        let data = try await Self.refusal(engine, try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_data, input: { not: a flow } }
              - { id: submit, component: /ext/submit, input: { flowId: { $step: put, path: id }, inputs: [1] } }
            output: { $step: submit }
            """))
        #expect(data.code == "NOT_A_FLOW", "\(data)")
        let unresolved = try await Self.refusal(engine, try Self.submitFlow(
            subflow: "{ steps: [{ id: x, component: /nowhere/node }], output: { $step: x } }", request: "inputs: [1]"))
        #expect(unresolved.code == "INVALID_FLOW" && unresolved.message.contains("/nowhere/node"), "\(unresolved)")
        let subflow = "{ steps: [{ id: a, component: /ext/echo }], output: { $step: a } }"
        let overrides: [(String, String)] = [
            ("{ b: { timeoutSecs: 1 } }", "the flow has no step 'b' (steps: a)"),
            ("{ a: { input: {} } }", "'overrides.a.input' cannot be overridden"),
            ("{ a: { timeoutSecs: soon } }", "'overrides.a.timeoutSecs'"),
            ("{ a: { onError: { action: shrug } } }", "'overrides.a.onError.action'"),
            ("{ a: 5 }", "'overrides.a' must be an object"),
        ]
        for (override, fragment) in overrides {
            let refusal = try await Self.refusal(engine, try Self.submitFlow(subflow: subflow, request: "inputs: [1], overrides: \(override)"))
            #expect(refusal.code == "INVALID_REQUEST" && refusal.message.contains(fragment), "\(override): \(refusal)")
        }
        #expect(engine.subRuns.count == 0, "a refused request started a run")

        // (This one submits a run first, to read it with a wrong order.)
        let order = try await Self.refusal(engine, try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_flow, input: { $literal: { steps: [], output: 1 } } }
              - { id: submit, component: /ext/submit, input: { flowId: { $step: put, path: id }, inputs: [] } }
              - { id: get, component: /ext/get, input: { runId: { $step: submit, path: runId }, resultOrder: sideways } }
            output: { $step: get }
            """), step: "get")
        #expect(order.code == "INVALID_REQUEST" && order.message.contains("\"byIndex\" or \"byCompletion\""), "\(order)")
    }

    /// A non-blocking node runs on the scheduler's thread: it may submit and read, not wait.
    @Test(.timeLimit(.minutes(1))) func aNonBlockingNodeMaySubmitButNotWait() async throws {
        let engine = try ExtensionPlugin.engine(blockingThreads: 1)
        let subflow = "{ steps: [{ id: a, component: /ext/echo, input: { $input: $ } }], output: { $step: a } }"
        let refused = try await Self.refusal(engine, try Self.submitFlow(subflow: subflow, request: "inputs: [1], wait: true", node: "submit_inline"))
        #expect(refused.code == "WAIT_NOT_ALLOWED", "\(refused)")
        #expect(refused.message.contains("org.test.ext.submit_inline") && refused.message.contains("NODAL_NODE_NON_BLOCKING"))
        #expect(engine.subRuns.count == 0)

        let flow = try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_flow, input: { $literal: \(subflow) } }
              - { id: submit, component: /ext/submit_inline, input: { flowId: { $step: put, path: id }, inputs: [1, 2] } }
              - { id: inlineWait, component: /ext/get_inline, input: { runId: { $step: submit, path: runId }, wait: true }, onError: { action: useDefault, defaultValue: refused } }
              - { id: pooledWait, component: /ext/get, input: { runId: { $step: submit, path: runId }, wait: true, includeResults: true } }
            output: { inlineWait: { $step: inlineWait }, pooledWait: { $step: pooledWait } }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success, "\(result.json)")
        #expect(result.step("inlineWait")?.error?.details?["code"] == "WAIT_NOT_ALLOWED")
        #expect(result.output?[path: "pooledWait.status"] == "success")
        #expect(result.output?[path: "pooledWait.results"]?.arrayValue?.map { $0[path: "result.value"] } == [1, 2])
    }

    /// NULL pointers, a size above PTRDIFF_MAX and calls that are not in flight get NODAL_INVALID
    /// and leave the outputs alone; a request that is not JSON gets NODAL_ERROR and a reply.
    @Test func invalidArgumentsAndStaleCallsAreRefused() async throws {
        let engine = try ExtensionPlugin.engine()
        let abi = await engine.run(try Flow(yaml: "steps: [{ id: abi, component: /ext/abi }]\noutput: { $step: abi }"), input: [:])
        let output = try #require(abi.output, "\(abi.json)")
        let invalid = try #require(output["invalid"]?.arrayValue)
        #expect(invalid.count == 17)
        #expect(invalid.allSatisfy { $0 == .int(Int(NODAL_INVALID)) }, "\(invalid)")
        #expect(output["untouched"] == true)
        #expect(output["unreported"] == .int(Int(NODAL_ERROR)))
        #expect(output["garbage"] == .int(Int(NODAL_ERROR)))
        #expect(output[path: "garbageReply.code"] == "INVALID_REQUEST")
        #expect(output[path: "garbageReply.message"]?.stringValue?.contains("not JSON") == true)

        let stale = await engine.run(try Flow(yaml: """
            steps:
              - { id: first, component: /ext/stale }
              - { id: second, component: /ext/stale, input: { after: { $step: first } } }
            output: { $step: second }
            """), input: [:])
        #expect(stale.output == .array(Array(repeating: .int(Int(NODAL_INVALID)), count: 6)), "\(stale.json)")
    }
}
