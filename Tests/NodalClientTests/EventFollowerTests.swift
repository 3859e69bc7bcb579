@testable import NodalClient
import NodalJSON
import Testing

/// The event stream's reconnections against scripted streams.
@Suite struct EventFollowerTests {
    static func collect(_ stream: AsyncThrowingStream<RunStatusEvent, any Error>) async throws -> [RunStatusEvent] {
        var events: [RunStatusEvent] = []
        for try await event in stream { events.append(event) }
        return events
    }

    static func follower(_ transport: ScriptedTransport, after: UInt64? = nil, maxReconnects: Int = 3) -> EventFollower {
        let client = NodalClient(baseURL: "http://h", transport: transport)
        return EventFollower(runID: "r1", connection: client.connection, query: [], after: after, maxReconnects: maxReconnects, firstDelay: .milliseconds(1))
    }

    @Test func aDroppedStreamIsOpenedAgainFromTheLastEventAndNoEventComesTwice() async throws {
        let transport = ScriptedTransport(stream: { _, index in
            switch index {
            case 0:
                return .sending([frame(1, "run_created", ["runId": "r1", "itemCount": 1]), frame(2, "step_started", ["runId": "r1", "stepId": "a"])],
                                thenFailing: TestFailure("connection reset"))
            case 1:
                // This server starts over from the journal's start: the client skips what it saw.
                return .sending([frame(1, "run_created", ["runId": "r1"]), frame(2, "step_started", ["stepId": "a"]), frame(3, "step_completed", ["stepId": "a"])])
            default:
                return .sending([": keep-alive\n\n", frame(4, "run_completed", ["runId": "r1", "status": "EXECUTION_STATUS_COMPLETED"]), frame(5, "after_the_end", [:])])
            }
        })
        let events = try await Self.collect(Self.follower(transport).start())
        #expect(events.map(\.sequence) == [1, 2, 3, 4])
        #expect(events.map(\.name) == ["run_created", "step_started", "step_completed", "run_completed"])
        #expect(events.last?.completedStatus == .completed)
        #expect(events[1].payload?["stepId"] == "a")
        let requests = transport.streamRequests
        #expect(requests.count == 3)
        #expect(requests[0].header("Last-Event-ID") == nil)
        #expect(requests[1].header("Last-Event-ID") == "2")
        #expect(requests[2].header("Last-Event-ID") == "3")
        #expect(requests.allSatisfy { $0.header("Accept") == "text/event-stream" && $0.url == "http://h/api/v1/runs/r1/events" })
    }

    @Test func aStartAfterASequenceAsksForItWithSince() async throws {
        let transport = ScriptedTransport(stream: { _, _ in .sending([frame(8, "run_completed", ["runId": "r1", "status": "EXECUTION_STATUS_FAILED"])]) })
        let events = try await Self.collect(Self.follower(transport, after: 7).start())
        #expect(events.map(\.sequence) == [8])
        #expect(transport.streamRequests.first?.url == "http://h/api/v1/runs/r1/events?since=7")
    }

    @Test func attemptsThatBringNothingAreBounded() async throws {
        let transport = ScriptedTransport(stream: { _, _ in throw TestFailure("connection refused") })
        let error = await #expect(throws: NodalClientError.self) { try await Self.collect(Self.follower(transport, maxReconnects: 2).start()) }
        #expect(error?.kind == .transport)
        #expect(error?.message.contains("connection refused") == true)
        #expect(transport.streamRequests.count == 3)
    }

    @Test func aRefusalIsNotRetried() async throws {
        let transport = ScriptedTransport(stream: { _, _ in
            let (chunks, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
            let body: JSON = ["code": 404, "message": "no run 'r1'", "error": "RUN_NOT_FOUND"]
            continuation.yield(body.serializedBytes())
            continuation.finish()
            return TransportStream(status: 404, chunks: chunks)
        })
        let error = await #expect(throws: NodalClientError.self) { try await Self.collect(Self.follower(transport).start()) }
        #expect(error?.kind == .server(status: 404))
        #expect(error?.body?["error"] == "RUN_NOT_FOUND")
        #expect(transport.streamRequests.count == 1)
    }

    @Test func eventsWithoutASequenceAreAnInvalidReply() async throws {
        let transport = ScriptedTransport(stream: { _, _ in .sending(["event: step_started\ndata: {\"stepStarted\": {}}\n\n"]) })
        let error = await #expect(throws: NodalClientError.self) { try await Self.collect(Self.follower(transport).start()) }
        #expect(error?.kind == .invalidReply)
    }

    @Test func theNameAndSequenceMayComeFromTheData() throws {
        let event = try RunStatusEvent(ServerSentEvent(data: #"{"sequenceNumber": "12", "timestamp": "t", "itemCompleted": {"itemIndex": 3}}"#))
        #expect(event.sequence == 12)
        #expect(event.name == "item_completed")
        #expect(event.payload?["itemIndex"] == 3)
    }

    @Test func aSubRunsCompletionDoesNotEndTheStream() throws {
        let sub = try RunStatusEvent(ServerSentEvent(id: "3", name: "run_completed", data: #"{"runCompleted": {"runId": "child"}}"#))
        #expect(!sub.completes("r1"))
        #expect(sub.completes("child"))
    }
}

extension EventFollowerTests {
    @Test func aQuietStreamTimingOutIsNotAFailedAttempt() async throws {
        // Five idle timeouts in a row with one reconnect allowed: each is the server being there.
        let transport = ScriptedTransport(stream: { _, index in
            index < 5 ? .sending([], thenFailing: StreamIdle()) : .sending([frame(1, "run_completed", ["runId": "r1", "status": 2])])
        })
        let events = try await Self.collect(Self.follower(transport, maxReconnects: 1).start())
        #expect(events.map(\.completedStatus) == [.completed])
        #expect(transport.streamRequests.count == 6)
    }
}
