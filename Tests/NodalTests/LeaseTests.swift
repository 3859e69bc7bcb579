import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

// One owner per run: the lease in the store (every store kind), then the engine refusing to run
// or resume a run another owner holds, and taking over one whose owner is gone.

/// A pid that belonged to a process that has exited (and was reaped), so nothing runs under it.
private func deadPID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}

private func otherOwner(pid: Int32 = getpid()) -> LeaseOwner {
    LeaseOwner(id: "other-" + UUID().uuidString, host: LeaseOwner.currentHost, pid: pid)
}

@Suite struct LeaseStoreTests {
    @Test(arguments: StoreKind.allCases)
    func aLiveLeaseKeepsOtherOwnersOut(kind: StoreKind) async throws {
        try await withStore(kind) { store throws in
            let first = otherOwner(), second = otherOwner()
            #expect(try await store.claim(runID: "r", owner: first, duration: .seconds(30), now: storeEpoch) == .claimed)
            guard case .heldBy(let holder) = try await store.claim(runID: "r", owner: second, duration: .seconds(30), now: storeEpoch) else {
                Issue.record("a second owner claimed a live run")
                return
            }
            #expect(holder.owner == first.id)
            #expect(holder.pid == first.pid)
            // The owner itself may claim again (a renewal).
            #expect(try await store.claim(runID: "r", owner: first, duration: .seconds(30), now: storeEpoch) == .claimed)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anExpiredLeaseCanBeTakenOver(kind: StoreKind) async throws {
        try await withStore(kind) { store throws in
            let first = otherOwner(), second = otherOwner()
            #expect(try await store.claim(runID: "r", owner: first, duration: .seconds(10), now: storeEpoch) == .claimed)
            let later = storeEpoch.addingTimeInterval(11)
            #expect(try await store.claim(runID: "r", owner: second, duration: .seconds(10), now: later) == .claimed)
            #expect(try await store.lease(runID: "r")?.owner == second.id)
            // The first owner's heartbeat now finds it lost the run.
            #expect(try await store.renewLease(runID: "r", owner: first.id, expiresAt: later.addingTimeInterval(10)) == false)
            #expect(try await store.renewLease(runID: "r", owner: second.id, expiresAt: later.addingTimeInterval(10)) == true)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLeaseWhoseProcessIsGoneIsTakenOverAtOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store throws in
            let dead = otherOwner(pid: try deadPID()), alive = otherOwner()
            #expect(try await store.claim(runID: "r", owner: dead, duration: .seconds(3600), now: storeEpoch) == .claimed)
            #expect(try await store.claim(runID: "r", owner: alive, duration: .seconds(30), now: storeEpoch) == .claimed)
            #expect(try await store.lease(runID: "r")?.owner == alive.id)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func releasingAndDeletingTheRunFreeTheLease(kind: StoreKind) async throws {
        try await withStore(kind) { store throws in
            let first = otherOwner(), second = otherOwner()
            _ = try await store.claim(runID: "r", owner: first, duration: .seconds(30), now: storeEpoch)
            try await store.releaseLease(runID: "r", owner: second.id)  // not its lease: no effect
            #expect(try await store.lease(runID: "r")?.owner == first.id)
            try await store.releaseLease(runID: "r", owner: first.id)
            #expect(try await store.lease(runID: "r") == nil)
            try await store.putRun(sampleRun("r"))
            _ = try await store.claim(runID: "r", owner: first, duration: .seconds(30), now: storeEpoch)
            try await store.deleteRun(id: "r")
            #expect(try await store.lease(runID: "r") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRunningRunWithoutALiveOwnerShowsAsAbandoned(kind: StoreKind) async throws {
        try await withStore(kind) { store throws in
            try await store.putRun(sampleRun("gone", status: .running))
            #expect(try await store.shownStatus(of: sampleRun("gone")) == "abandoned")
            _ = try await store.claim(runID: "gone", owner: otherOwner(pid: try deadPID()), duration: .seconds(3600))
            #expect(try await store.shownStatus(of: sampleRun("gone")) == "abandoned")
            _ = try await store.claim(runID: "gone", owner: otherOwner(), duration: .seconds(3600))
            #expect(try await store.shownStatus(of: sampleRun("gone")) == "running")
            #expect(try await store.shownStatus(of: sampleRun("done", status: .success)) == "success")
        }
    }

    /// Two processes claiming one run at once: exactly one wins (SQLite's write lock orders them).
    @Test func concurrentClaimsOnOneFileHaveOneWinner() async throws {
        let path = try temporaryDirectory() + "/leases.db"
        let stores = [try await SQLiteRunStore(path: path), try await SQLiteRunStore(path: path)]
        for round in 0..<20 {
            let runID = "run-\(round)"
            let owners = [otherOwner(), otherOwner()]
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (store, owner) in zip(stores, owners) {
                    group.addTask { try await store.claim(runID: runID, owner: owner, duration: .seconds(30)) == .claimed }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1, "round \(round)")
        }
        for store in stores { try await store.close() }
    }
}

@Suite struct RunOwnershipTests {
    static let flow = """
        steps:
          - { id: a, component: /app/count, input: { n: 1 } }
          - { id: b, component: /app/count, input: { n: { $step: a, path: n } } }
        output: { $step: b }
        """

    final class Counter: Sendable {
        let value = Atomic(0)
        func callAsFunction() -> Int { value.load(ordering: .relaxed) }
    }

    /// An engine whose `/app/count` node counts its calls.
    private func countingEngine() -> (Engine, Counter) {
        let engine = Engine()
        let calls = Counter()
        engine.register(route: "/app/count") { input, _ in
            calls.value.add(1, ordering: .relaxed)
            return input
        }
        return (engine, calls)
    }

    @Test func aRunAnotherOwnerHoldsIsRefusedAndRunsNothing() async throws {
        let (engine, calls) = countingEngine()
        let store: any RunStorage = InMemoryRunStore()
        _ = try await store.claim(runID: "taken", owner: otherOwner(), duration: .seconds(60))
        var options = RunOptions()
        options.store = store
        options.runID = "taken"
        let result = await engine.run(try Flow(yaml: Self.flow), input: [:], options: options)
        #expect(result.status == .failed)
        #expect(result.error?.code == "RUN_OWNED")
        #expect(result.error?.message.contains("pid \(getpid())") == true)
        #expect(calls() == 0)
    }

    @Test func aFinishedRunGivesItsLeaseUp() async throws {
        let (engine, _) = countingEngine()
        let store: any RunStorage = InMemoryRunStore()
        var options = RunOptions()
        options.store = store
        options.runID = "mine"
        let result = await engine.run(try Flow(yaml: Self.flow), input: [:], options: options)
        #expect(result.status == .success)
        #expect(try await store.lease(runID: "mine") == nil)
    }

    @Test func aResumeOfARunAnotherOwnerHoldsIsRefusedNamingTheOwner() async throws {
        let directory = try temporaryDirectory(containing: ["flow.yaml": Self.flow])
        let (engine, calls) = countingEngine()
        let store: any RunStorage = InMemoryRunStore()
        let flow = try Flow(contentsOfFile: directory + "/flow.yaml")
        try await store.putRun(RunRecord(
            id: "busy", flowName: "f", flowPath: flow.file, flowHash: flow.sourceHash, input: [:], status: .running, createdAt: Date()))
        let holder = otherOwner()
        _ = try await store.claim(runID: "busy", owner: holder, duration: .seconds(60))
        await #expect {
            _ = try await engine.resume(runID: "busy", store: store)
        } throws: { error in
            guard let error = error as? ResumeError, error.kind == .owned else { return false }
            return error.message.contains(String(holder.id.prefix(8))) && error.message.contains("lease until")
        }
        #expect(calls() == 0)
        #expect(try await store.lease(runID: "busy")?.owner == holder.id)
    }

    @Test func aResumeTakesOverARunWhoseOwnerDied() async throws {
        let directory = try temporaryDirectory(containing: ["flow.yaml": Self.flow])
        let (engine, calls) = countingEngine()
        let store: any RunStorage = InMemoryRunStore()
        let flow = try Flow(contentsOfFile: directory + "/flow.yaml")
        try await store.putRun(RunRecord(
            id: "orphan", flowName: "f", flowPath: flow.file, flowHash: flow.sourceHash, input: [:], status: .running,
            createdAt: Date()))
        // Step a finished before its process was killed; its lease is still in date.
        try await store.putCheckpoint(StepCheckpoint(runID: "orphan", stepID: "a", status: "success", input: ["n": 1], output: ["n": 1], attempts: 1))
        _ = try await store.claim(runID: "orphan", owner: otherOwner(pid: try deadPID()), duration: .seconds(3600))
        let result = try await engine.resume(runID: "orphan", store: store)
        #expect(result.status == .success)
        #expect(calls() == 1)  // only b: a's checkpoint stands
        #expect(try await store.lease(runID: "orphan") == nil)
    }
}

@Suite struct LostLeaseTests {
    /// An owner that stalled past its lease finds at its next heartbeat that another process took
    /// the run over, and stops running it (the run ends canceled, its step sees the cancel).
    @Test(.timeLimit(.minutes(1))) func anOwnerThatLostItsLeaseStopsTheRun() async throws {
        let clock = TestClock()
        let engine = Engine(leaseDuration: .seconds(30), clock: clock)
        let started = AsyncStream<Void>.makeStream()
        engine.register(route: "/app/wait") { _, _ in
            started.continuation.yield()
            try await Task.sleep(for: .seconds(3600))  // real time: only a cancel ends it
            return nil
        }
        let store: any RunStorage = InMemoryRunStore()
        let flow = try Flow(yaml: "steps: [{ id: w, component: /app/wait }]\noutput: { $step: w }")
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(runID: "stolen", store: store)) }
        var iterator = started.stream.makeAsyncIterator()
        _ = await iterator.next()
        // Another process takes the run over (as if this one had stalled past the expiry).
        let thief = LeaseOwner(id: "thief", host: LeaseOwner.currentHost, pid: getpid())
        #expect(try await store.claimLease(thief.lease(for: "stolen", until: Date().addingTimeInterval(60)), now: Date().addingTimeInterval(31), replacing: nil) == .claimed)
        // The heartbeat (every 10 s of the engine's clock) finds the lease gone.
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays.contains(.seconds(10)))
        clock.advance(by: .seconds(10))
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.error?.code == "LEASE_LOST")
        #expect(try await store.lease(runID: "stolen")?.owner == "thief")  // the thief's lease stands
    }
}
