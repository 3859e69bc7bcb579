import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// Issue 14's hostile review: what one client can hold of the server, and a wait that came while
/// the server was still recovering.
@Suite struct ServiceBoundsTests {
    /// Event streams are counted server-wide; past `maxEventStreams` a new one is refused with
    /// 503 `TOO_MANY_EVENT_STREAMS`, and a stream that ends (however) gives its place back.
    @Test func eventStreamsPastTheLimitAreRefusedUntilOneEnds() async throws {
        let fixture = try ServiceFixture(limits: ServiceLimits(maxEventStreams: 2))
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let runID = try await fixture.start(flowID, [["hold": true]])
        await fixture.gate.waitUntilEntered(1)
        var first: AsyncStream<ServiceEvent>? = try await fixture.service.events(runID: runID, EventSubscription())
        let second = try await fixture.service.events(runID: runID, EventSubscription())
        let refused = await #expect(throws: ServiceError.self) { _ = try await fixture.service.events(runID: runID, EventSubscription()) }
        #expect(refused?.status == 503)
        #expect(refused?.code == "TOO_MANY_EVENT_STREAMS")
        #expect(fixture.service.openEventStreamCount == 2)
        // A reader that goes away without reading frees its place.
        first = nil
        #expect(first == nil)
        #expect(fixture.service.openEventStreamCount == 1)
        let third = try await fixture.service.events(runID: runID, EventSubscription())
        // The run ends: its streams end and give their places back.
        fixture.gate.open()
        _ = try await fixture.waitFor(runID)
        for stream in [second, third] { for await _ in stream {} }
        #expect(fixture.service.openEventStreamCount == 0)
        // A finished run's stream (read back) counts while it is read, and ends with it.
        for await _ in try await fixture.service.events(runID: runID, EventSubscription()) {}
        #expect(fixture.service.openEventStreamCount == 0)
    }

    /// A reader that never reads holds at most `eventStreamBuffer` events: it is let go, and a
    /// reconnect after the last one it read loses nothing.
    @Test func aReaderThatNeverReadsIsLetGoAndReconnectsLosingNothing() async throws {
        let fixture = try ServiceFixture(limits: ServiceLimits(eventStreamBuffer: 3))
        let flowID = try await fixture.store(ServiceFixture.flow("/test/echo"))
        let stalled = try await fixture.service.events(runID: try await fixture.start(flowID, [[:]]), EventSubscription())
        let runID = try await fixture.start(flowID, Array(repeating: [:], count: 5))
        let idle = try await fixture.service.events(runID: runID, EventSubscription())
        _ = try await fixture.waitFor(runID)
        var seen: [ServiceEvent] = []
        for await event in idle { seen.append(event) }
        #expect(seen.count == 3)
        var after = seen.last?.sequence
        while true {
            var more: [ServiceEvent] = []
            for await event in try await fixture.service.events(runID: runID, EventSubscription(after: after)) { more.append(event) }
            guard let last = more.last else { break }
            seen += more
            after = last.sequence
        }
        #expect(seen.map(\.sequence) == Array(seen.first!.sequence...seen.last!.sequence))
        #expect(seen.last?.name == "run_completed")
        #expect(seen.filter { $0.name == "item_completed" }.count == 5)
        _ = stalled
    }

    /// Hostile review: `GET /runs/{id}?wait=true` for a run the server had not yet picked up
    /// after a restart answered RUNNING at once. It waits for the recovery, then for the run.
    @Test func aWaitDuringRecoveryWaitsForTheRecoveredRun() async throws {
        let store = InMemoryRunStore()
        let tally = Tally()
        let first = try ServiceFixture(limits: ServiceLimits(drainTimeout: .zero), store: store, tally: tally)
        let flowID = try await first.store(ServiceFixture.flow("/test/hold"))
        let runID = try await first.start(flowID, [["hold": true]])
        await first.gate.waitUntilEntered(1)
        await first.service.shutdown()
        #expect(try store.serviceRun(id: runID)?.status == .running)

        let second = try ServiceFixture(store: store, gate: Gate(), tally: tally)
        second.gate.open()
        // Asked before the service runs (the server takes requests while it recovers).
        let waiting = Task { try await second.waitFor(runID) }
        let serving = Task { try await second.service.run() }
        let reply = try await waiting.value
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        serving.cancel()
        await second.service.shutdown()
    }

    /// Hostile review: `timeoutSecs` given as a string took Double's syntax ("0x10" was 16 s,
    /// "0x1p12" 4096 s, "+5", ".5"), where the query parameter takes decimal digits only.
    @Test func timeoutSecsAsAStringIsDecimalDigits() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/echo"))
        for text in ["0x10", "0x1p12", "+5", ".5", "5.", "1e3", "-1", "", "five"] {
            let refused = await refusal { try await fixture.service.createRun(["flowId": .string(flowID), "input": [[:]], "wait": true, "timeoutSecs": .string(text)]) }
            #expect(refused?.field == "timeoutSecs", "\(text)")
        }
        for text in ["30", " 2.5 ", "0"] {
            let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [[:]], "wait": true, "timeoutSecs": .string(text)])
            #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED" || text == "0", "\(text): \(reply)")
        }
    }
}
