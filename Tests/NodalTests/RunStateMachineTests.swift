import FoundationEssentials
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// The run state machine driven directly: events in, actions out, no node called, no task
/// started, no clock read.
@Suite struct RunStateMachineTests {
    /// A machine over a flow, and what it asked for so far, as short strings.
    struct Harness {
        var machine: RunStateMachine
        let flow: Flow

        /// Steps named in `inline` run inline; the others are calls in flight.
        init(_ yaml: String, input: JSON = [:], inline: Set<String> = [], hasStore: Bool = false, maxConcurrency: Int = 64,
             gracePeriod: Duration = .milliseconds(500), answered: Set<String> = []) throws {
            flow = try Flow(yaml: yaml)
            let execution = flow.steps.map { inline.contains($0.id) ? RunStateMachine.Execution.inline : .inFlight }
            machine = RunStateMachine(flow: flow, execution: execution, settings: RunStateMachine.Settings(
                runInput: input, maxConcurrency: maxConcurrency, gracePeriod: gracePeriod, hasStore: hasStore, answeredSteps: answered))
        }

        func index(_ id: String) -> Int { flow.stepIndexes[id]! }
        func state(_ id: String) -> RunStateMachine.State { machine.slots[index(id)].state }
        func generation(_ id: String) -> Int { Int(machine.slots[index(id)].generation) }

        /// Every action queued so far, described.
        mutating func actions() -> [String] {
            var described: [String] = []
            while let action = machine.nextAction() { described.append(describe(action)) }
            return described
        }

        /// Starts what can start; the actions that took, described.
        mutating func startAll() -> [String] {
            var described: [String] = []
            while machine.startNext() { described += actions() }
            return described
        }

        mutating func begin() -> [String] {
            machine.begin()
            return actions() + startAll()
        }

        mutating func finish(_ id: String, _ outcome: NodeOutcome) -> [String] {
            machine.callFinished(step: index(id), generation: generation(id), outcome: outcome)
            return actions() + startAll()
        }

        mutating func succeed(_ id: String, _ output: JSON = "ok") -> [String] { finish(id, .success(Payload(json: output))) }
        mutating func fail(_ id: String, code: String = "BOOM") -> [String] { finish(id, .failure(StepError(code: code, message: "no"))) }

        mutating func fire(_ timer: RunStateMachine.Timer) -> [String] {
            machine.timerFired(timer)
            return actions() + startAll()
        }

        mutating func checkpointWritten(_ id: String) -> [String] {
            machine.checkpointWritten(step: index(id))
            return actions() + startAll()
        }

        func result() -> RunResult {
            RunResultBuilder.result(
                of: machine, times: StepTimes(steps: flow.steps.count), runID: "r", started: Date(), ended: Date(), duration: .zero)
        }

        func describe(_ action: RunStateMachine.Action) -> String {
            func id(_ index: Int) -> String { flow.steps[index].id }
            switch action {
            case .start(let step, _, let execution): return "start \(id(step))\(execution == .inline ? " inline" : "")"
            case .lookUpCache(let step): return "look up \(id(step))"
            case .writeCheckpoint(let step): return "checkpoint \(id(step))"
            case .putInCache(let step): return "cache \(id(step))"
            case .stopCall(let step): return "stop \(id(step))"
            case .abandonCall(let step): return "abandon \(id(step))"
            case .stopRun: return "stop run"
            case .armTimer(let timer, let delay):
                switch timer {
                case .retry(let step): return "timer retry \(id(step)) \(delay)"
                case .timeout(let step, _): return "timer timeout \(id(step)) \(delay)"
                case .stepGrace(let step, _): return "timer grace \(id(step)) \(delay)"
                case .runGrace: return "timer run grace \(delay)"
                }
            case .report(let step, let report):
                switch report {
                case .started(let attempt): return "started \(id(step)) #\(attempt)"
                case .succeeded(let attempt): return "succeeded \(id(step)) #\(attempt)"
                case .failed(let error): return "failed \(id(step)) \(error.code)"
                case .retried(let attempt, let delay, let error): return "retried \(id(step)) #\(attempt) after \(delay.inSeconds)s (\(error.code))"
                case .skipped: return "skipped \(id(step))"
                case .cached: return "cached \(id(step))"
                case .canceled: return "canceled \(id(step))"
                case .paused(let request): return "paused \(id(step)) \(request.key)"
                }
            }
        }
    }

    // MARK: Demand

    @Test func ifDemandsOnlyTheTakenBranchAndItsCondition() throws {
        var run = try Harness("""
            steps:
              - { id: cond, component: /app/x, input: 1 }
              - { id: yes, component: /app/x, input: 2 }
              - { id: no, component: /app/x, input: 3 }
            output: { $if: { $step: cond }, then: { $step: yes }, else: { $step: no } }
            """)
        // Only the condition is needed until it is known.
        #expect(run.begin() == ["started cond #1", "start cond"])
        #expect(run.state("yes") == .idle && run.state("no") == .idle)
        #expect(run.succeed("cond", false) == ["succeeded cond #1", "started no #1", "start no"])
        #expect(!run.machine.isFinished)
        #expect(run.succeed("no", "N") == ["succeeded no #1"])
        #expect(run.machine.isFinished)
        let result = run.result()
        #expect(result.status == .success)
        #expect(result.output == "N")
        #expect(result.step("yes")?.status == .skipped)
        #expect(result.step("yes")?.skipReason == "on a branch not taken")
    }

    @Test func aStepRunsOnceItsInputsHaveSettledAndReceivesTheirValues() throws {
        var run = try Harness("""
            steps:
              - { id: a, component: /app/x, input: 1 }
              - { id: b, component: /app/x, input: 2 }
              - { id: sum, component: /app/x, input: { a: { $step: a, path: v }, b: { $step: b, path: v } } }
            output: { $step: sum }
            """)
        #expect(run.begin().sorted() == ["start a", "start b", "started a #1", "started b #1"])
        #expect(run.succeed("a", ["v": 1]) == ["succeeded a #1"])
        #expect(run.state("sum") == .waiting)
        #expect(run.succeed("b", ["v": 2]) == ["succeeded b #1", "started sum #1", "start sum"])
        #expect(run.machine.records[run.index("sum")].input?.json == ["a": 1, "b": 2])
    }

    @Test func mustExecuteStepsRunAndUnreadStepsDoNot() throws {
        var run = try Harness("""
            steps:
              - { id: side, component: /app/x, mustExecute: true }
              - { id: unused, component: /app/x }
            output: done
            """)
        #expect(run.begin() == ["started side #1", "start side"])
        #expect(!run.machine.isFinished)
        #expect(run.succeed("side") == ["succeeded side #1"])
        #expect(run.machine.isFinished)
        let result = run.result()
        #expect(result.status == .success)
        #expect(result.step("unused")?.status == .skipped)
        #expect(result.step("unused")?.skipReason?.hasPrefix("not needed") == true)
    }

    @Test func callsInFlightStopAtTheCapButInlineStepsDoNot() throws {
        var run = try Harness("""
            steps:
              - { id: a, component: /app/x }
              - { id: b, component: /app/x }
              - { id: c, component: /app/x }
              - { id: quick, component: /app/x }
            output: [{ $step: a }, { $step: b }, { $step: c }, { $step: quick }]
            """, inline: ["quick"], maxConcurrency: 2)
        // The demand stack is last in, first out: the output's last read is demanded first.
        let started = run.begin().filter { $0.hasPrefix("start ") }
        #expect(started == ["start quick inline", "start c", "start b"])
        #expect(run.machine.inFlight == 2)
        #expect(run.succeed("quick") == ["succeeded quick #1"])
        #expect(run.succeed("b") == ["succeeded b #1", "started a #1", "start a"])
    }

    // MARK: Retries, timeouts, grace

    @Test func retryWithADelayAsksForATimerAndStartsAgainWhenItFires() throws {
        var run = try Harness("""
            steps:
              - { id: s, component: /app/x, onError: { action: retry, maxRetries: 2, initialInterval: 0.05, multiplier: 2 } }
            output: { $step: s }
            """)
        _ = run.begin()
        #expect(run.fail("s", code: "FLAKY") == ["retried s #1 after 0.05s (FLAKY)", "timer retry s 0.05 seconds"])
        // Waiting for the timer: nothing to start, and the run is not over.
        #expect(run.state("s") == .waiting)
        #expect(run.startAll() == [])
        #expect(!run.machine.isFinished)
        #expect(run.fire(.retry(step: run.index("s"))) == ["started s #2", "start s"])
        #expect(run.fail("s", code: "FLAKY") == ["retried s #2 after 0.1s (FLAKY)", "timer retry s 0.1 seconds"])
        _ = run.fire(.retry(step: run.index("s")))
        // Out of retries: the step fails, and the run with it.
        #expect(run.fail("s", code: "FLAKY") == ["failed s FLAKY", "stop run"])
        #expect(run.machine.isFinished)
        #expect(run.result().step("s")?.attempts == 3)
        #expect(run.result().error?.code == "FLAKY")
    }

    @Test func retryWithoutADelayStartsAgainAtOnce() throws {
        var run = try Harness("steps: [{id: s, component: /app/x, onError: {action: retry, maxRetries: 1}}]\noutput: {$step: s}")
        _ = run.begin()
        #expect(run.fail("s") == ["retried s #1 after 0.0s (BOOM)", "started s #2", "start s"])
        #expect(run.succeed("s") == ["succeeded s #2"])
        #expect(run.result().status == .success)
    }

    @Test func aRetryDueAfterTheRunStoppedStartsNothing() throws {
        var run = try Harness("""
            steps:
              - { id: s, component: /app/x, onError: { action: retry, maxRetries: 3, initialInterval: 1 } }
              - { id: other, component: /app/x }
            output: [{ $step: s }, { $step: other }]
            """)
        _ = run.begin()
        _ = run.fail("s")
        #expect(run.fail("other") == ["failed other BOOM", "stop run"])
        // Stopping, the pending retry does not hold the run open.
        #expect(run.machine.isFinished)
        #expect(run.fire(.retry(step: run.index("s"))) == [])
        #expect(run.result().step("s")?.status == .notRun)
    }

    @Test func timeoutStopsTheCallAndAbandonsItAfterTheGracePeriod() throws {
        var run = try Harness("""
            steps:
              - { id: s, component: /app/x, timeout: 0.2 }
            output: { $step: s }
            """, gracePeriod: .milliseconds(100))
        #expect(run.begin() == ["started s #1", "start s", "timer timeout s 0.2 seconds"])
        let generation = run.generation("s")
        #expect(run.fire(.timeout(step: run.index("s"), generation: generation)) == ["stop s", "timer grace s 0.1 seconds"])
        #expect(run.state("s") == .running)
        #expect(run.fire(.stepGrace(step: run.index("s"), generation: generation)) == ["abandon s", "failed s TIMEOUT", "stop run"])
        #expect(run.machine.isFinished)
        // The abandoned call's late answer is dropped.
        run.machine.callFinished(step: run.index("s"), generation: generation, outcome: .success(Payload(json: "late")))
        #expect(run.actions() == [])
        #expect(run.result().step("s")?.error?.code == "TIMEOUT")
        #expect(run.result().step("s")?.output == nil)
    }

    @Test func aCallThatStopsForItsTimeoutFailsWithTimeoutAndItsGraceTimerIsIgnored() throws {
        var run = try Harness("steps: [{id: s, component: /app/x, timeout: 1}]\noutput: {$step: s}")
        _ = run.begin()
        let generation = run.generation("s")
        _ = run.fire(.timeout(step: run.index("s"), generation: generation))
        #expect(run.finish("s", .canceled) == ["failed s TIMEOUT", "stop run"])
        #expect(run.fire(.stepGrace(step: run.index("s"), generation: generation)) == [])
        #expect(run.result().step("s")?.error?.message.contains("timeout of 1.0s") == true)
    }

    @Test func inlineStepsGetNoTimeoutTimer() throws {
        var run = try Harness("steps: [{id: s, component: /app/x, timeout: 1}]\noutput: {$step: s}", inline: ["s"])
        #expect(run.begin() == ["started s #1", "start s inline"])
    }

    // MARK: onError

    @Test func onErrorFailStopsTheRunAndLeavesReadersNotRun() throws {
        var run = try Harness("""
            steps:
              - { id: bad, component: /app/x }
              - { id: slow, component: /app/x }
              - { id: reader, component: /app/x, input: { $step: bad } }
            output: [{ $step: reader }, { $step: slow }]
            """)
        _ = run.begin()
        #expect(run.fail("bad") == ["failed bad BOOM", "stop run", "timer run grace 0.5 seconds"])
        // The call still in flight is abandoned once the grace period is over.
        #expect(run.fire(.runGrace) == ["abandon slow", "canceled slow"])
        #expect(run.machine.isFinished)
        let result = run.result()
        #expect(result.status == .failed)
        #expect(result.error?.steps.map(\.id) == ["bad"])
        #expect(result.step("reader")?.status == .notRun)
        #expect(result.step("slow")?.status == .canceled)
    }

    @Test func onErrorContinueSkipsReadersAndRunsIndependentSteps() throws {
        var run = try Harness("""
            steps:
              - { id: bad, component: /app/x, onError: { action: continue } }
              - { id: reader, component: /app/x, input: { $step: bad } }
              - { id: tolerant, component: /app/x, input: { $coalesce: [{ $step: bad }, fallback] } }
            output: { r: { $step: reader }, t: { $step: tolerant } }
            """)
        _ = run.begin()
        #expect(run.fail("bad") == ["failed bad BOOM", "skipped reader", "started tolerant #1", "start tolerant"])
        #expect(run.machine.records[run.index("tolerant")].input?.json == "fallback")
        _ = run.succeed("tolerant", "T")
        let result = run.result()
        #expect(result.status == .failed)
        #expect(result.error?.code == "STEPS_FAILED")
        #expect(result.output == ["r": nil, "t": "T"])
    }

    @Test func onErrorUseDefaultReportsTheFailureAndGoesOnWithTheValue() throws {
        var run = try Harness("""
            steps:
              - { id: s, component: /app/x, onError: { action: useDefault, defaultValue: 7 } }
              - { id: reader, component: /app/x, input: { $step: s } }
            output: { $step: reader }
            """)
        _ = run.begin()
        #expect(run.fail("s") == ["failed s BOOM", "started reader #1", "start reader"])
        #expect(run.machine.records[run.index("reader")].input?.json == 7)
        #expect(run.machine.records[run.index("s")].error?.code == "BOOM")
    }

    @Test func anInputThatCannotBeEvaluatedFailsItsStep() throws {
        var run = try Harness("steps: [{id: s, component: /app/x, input: {$input: name}}]\noutput: {$step: s}")
        #expect(run.begin() == ["failed s INPUT_ERROR", "stop run"])
        #expect(run.machine.isFinished)
        #expect(run.result().step("s")?.error?.message.contains("$.name") == true)
    }

    // MARK: Checkpoints and the cache

    @Test func aFinishedStepIsCheckpointedBeforeItsReadersStart() throws {
        var run = try Harness("""
            steps:
              - { id: a, component: /app/x }
              - { id: b, component: /app/x, input: { $step: a } }
            output: { $step: b }
            """, hasStore: true)
        _ = run.begin()
        #expect(run.succeed("a") == ["succeeded a #1", "checkpoint a"])
        // Not settled until the checkpoint is written: b waits, and the run is not over.
        #expect(run.state("a") == .recording)
        #expect(run.state("b") == .waiting)
        #expect(!run.machine.isFinished)
        #expect(run.checkpointWritten("a") == ["started b #1", "start b"])
        #expect(run.succeed("b") == ["succeeded b #1", "checkpoint b"])
        #expect(!run.machine.isFinished)
        _ = run.checkpointWritten("b")
        #expect(run.machine.isFinished)
        #expect(run.result().status == .success)
    }

    @Test func canceledStepsAreNotCheckpointed() throws {
        var run = try Harness("steps: [{id: s, component: /app/x}]\noutput: {$step: s}", hasStore: true)
        _ = run.begin()
        run.machine.cancel()
        #expect(run.actions() == ["stop run", "timer run grace 0.5 seconds"])
        #expect(run.finish("s", .canceled) == ["canceled s"])
        #expect(run.machine.isFinished)
        #expect(run.result().status == .canceled)
    }

    @Test func aCacheableStepIsLookedUpFirstAndAMissIsCachedAfterItRuns() throws {
        var run = try Harness("""
            steps:
              - { id: hit, component: /app/x, cache: true, input: 1 }
              - { id: miss, component: /app/x, cache: true, input: 2 }
            output: [{ $step: hit }, { $step: miss }]
            """, hasStore: true)
        #expect(run.begin().sorted() == ["look up hit", "look up miss"])
        #expect(!run.machine.isFinished)
        run.machine.cacheLookedUp(step: run.index("hit"), hit: "stored")
        #expect(run.actions() == ["cached hit", "succeeded hit #0", "checkpoint hit"])
        run.machine.cacheLookedUp(step: run.index("miss"), hit: nil)
        #expect(run.startAll() == ["started miss #1", "start miss"])
        #expect(run.succeed("miss") == ["cache miss", "succeeded miss #1", "checkpoint miss"])
        _ = run.checkpointWritten("hit")
        _ = run.checkpointWritten("miss")
        let result = run.result()
        #expect(result.output == ["stored", "ok"])
        #expect(result.step("hit")?.cached == true)
        #expect(result.step("miss")?.cached == false)
    }

    @Test func aStepAnsweredByAResumeIsNeitherLookedUpNorCached() throws {
        var run = try Harness("steps: [{id: ask, component: /app/x, cache: true}]\noutput: {$step: ask}", hasStore: true, answered: ["ask"])
        #expect(run.begin() == ["started ask #1", "start ask"])
        #expect(run.succeed("ask") == ["succeeded ask #1", "checkpoint ask"])
    }

    // MARK: Cancel, pause, resume

    @Test func cancelStartsNothingMoreAndAbandonsCallsAfterTheGracePeriod() throws {
        var run = try Harness("""
            steps:
              - { id: a, component: /app/x }
              - { id: b, component: /app/x }
            output: [{ $step: a }, { $step: b }]
            """, maxConcurrency: 1)
        #expect(run.begin() == ["started b #1", "start b"])
        run.machine.cancel()
        #expect(run.actions() == ["stop run", "timer run grace 0.5 seconds"])
        #expect(run.startAll() == [])
        #expect(!run.machine.isFinished)
        #expect(run.fire(.runGrace) == ["abandon b", "canceled b"])
        #expect(run.machine.isFinished)
        let result = run.result()
        #expect(result.status == .canceled)
        #expect(result.step("a")?.status == .notRun)
        #expect(result.step("b")?.status == .canceled)
    }

    @Test func aPausedStepKeepsItsReadersWaitingAndTheRunEndsPaused() throws {
        var run = try Harness("""
            steps:
              - { id: ask, component: /app/x }
              - { id: after, component: /app/x, input: { $step: ask } }
              - { id: other, component: /app/x }
            output: [{ $step: after }, { $step: other }]
            """)
        _ = run.begin()
        #expect(run.finish("ask", .paused(PauseRequest(key: "ask", value: "why?"))) == ["paused ask ask"])
        #expect(!run.machine.isFinished)
        _ = run.succeed("other")
        #expect(run.machine.isFinished)
        let result = run.result()
        #expect(result.status == .paused)
        #expect(result.pause?.key == "ask")
        #expect(result.step("after")?.status == .notRun)
    }

    @Test func aResumedRunDoesNotStartStepsThatSucceeded() throws {
        var run = try Harness("""
            steps:
              - { id: a, component: /app/x }
              - { id: b, component: /app/x, input: { $step: a } }
            output: { $step: b }
            """)
        run.machine.seed([StepCheckpoint(runID: "r", stepID: "a", status: "success", input: nil, output: "A", error: nil, attempts: 1, startedAt: nil, endedAt: nil)], continuesPausedRun: false)
        #expect(run.begin() == ["started b #1", "start b"])
        #expect(run.machine.records[run.index("b")].input?.json == "A")
    }
}
