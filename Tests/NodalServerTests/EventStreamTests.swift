import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import NodalService
import NodalTestSupport
import Synchronization
import Testing

/// `GET /api/v1/runs/{runId}/events`: framing, resuming, filters, keepalive and ending.
@Suite struct EventStreamTests {
    static let script = [
        ServiceEvent(sequence: 1, name: "run_created", data: ["sequenceNumber": "1", "runCreated": ["runId": "r1", "itemCount": 1]]),
        ServiceEvent(sequence: 2, name: "item_completed", data: ["sequenceNumber": "2", "itemCompleted": ["runId": "r1", "itemIndex": 0, "result": ["text": "a\nb"]]]),
        ServiceEvent(sequence: 3, name: "run_completed", data: ["sequenceNumber": "3", "runCompleted": ["runId": "r1", "status": "EXECUTION_STATUS_COMPLETED"]]),
    ]

    @Test func eachEventIsAnSSEFrameAndTheResponseEndsWithTheStream() async throws {
        let service = FakeRunAPI(script: Self.script)
        let response = try await withRouter(service) { client in try await client.send(.get, "/api/v1/runs/r1/events") }
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/event-stream")
        #expect(response.headers[.cacheControl] == "no-cache")
        #expect(response.text == """
            id: 1
            event: run_created
            data: {"sequenceNumber":"1","runCreated":{"runId":"r1","itemCount":1}}

            id: 2
            event: item_completed
            data: {"sequenceNumber":"2","itemCompleted":{"runId":"r1","itemIndex":0,"result":{"text":"a\\nb"}}}

            id: 3
            event: run_completed
            data: {"sequenceNumber":"3","runCompleted":{"runId":"r1","status":"EXECUTION_STATUS_COMPLETED"}}


            """)
        #expect(service.lastCall?.arguments == ["runID": "r1", "after": nil, "types": [], "includeSubRuns": false, "includeResults": false])
    }

    @Test func lastEventIDWinsOverSinceAndFiltersAreRead() async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            _ = try await client.send(.get, "/api/v1/runs/r1/events?since=5")
            #expect(service.lastCall?.arguments["after"] == 5)

            _ = try await client.send(.get, "/api/v1/runs/r1/events?since=5", headers: [.lastEventID: "12"])
            #expect(service.lastCall?.arguments["after"] == 12)

            // Past 64 bits is no event's number: refused, naming the parameter (hostile review).
            let past = try await client.send(.get, "/api/v1/runs/r1/events?since=0123456789012345678901234567890")
            #expect(past.status == .badRequest)
            #expect(past.json["field"] == "since")

            let uri = "/api/v1/runs/r1/events?eventTypes=STATUS_EVENT_TYPE_RUN_COMPLETED,STATUS_EVENT_TYPE_ITEM_COMPLETED"
                + "&eventTypes=STATUS_EVENT_TYPE_RUN_PAUSED&eventTypes=STATUS_EVENT_TYPE_UNSPECIFIED&includeSubRuns=true&includeResults=true"
            _ = try await client.send(.get, uri)
            #expect(service.lastCall?.arguments == [
                "runID": "r1", "after": nil,
                "types": ["STATUS_EVENT_TYPE_ITEM_COMPLETED", "STATUS_EVENT_TYPE_RUN_COMPLETED", "STATUS_EVENT_TYPE_RUN_PAUSED"],
                "includeSubRuns": true, "includeResults": true,
            ])
        }
    }

    @Test func anUnknownRunIsA404BeforeAnyEvent() async throws {
        let service = FakeRunAPI()
        service.fail("events", with: .notFound("RUN_NOT_FOUND", "no run 'r9'", field: "runId"))
        let response = try await withRouter(service) { client in try await client.send(.get, "/api/v1/runs/r9/events") }
        #expect(response.status == .notFound)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.json["error"] == "RUN_NOT_FOUND")
    }

    @Test func silenceGetsAKeepaliveCommentEveryInterval() async throws {
        let service = FakeRunAPI(script: [Self.script[0]], keepStreamsOpen: true)
        let clock = TestClock()
        let configuration = ServerConfiguration(eventKeepalive: .seconds(15))
        let response = try await withRouter(service, configuration: configuration, clock: clock) { client in
            async let response = client.send(.get, "/api/v1/runs/r1/events")
            // The keepalive task sleeps 15 s past the last write; each time it is woken it writes
            // a comment and sleeps again (waiting for that sleeper orders the comment before
            // the end of the stream).
            await clock.waitForSleepers(count: 1)
            #expect(clock.pendingDelays.allSatisfy { $0 <= .seconds(15) })
            clock.advance(by: .seconds(15))
            await clock.waitForSleepers(count: 1)
            clock.advance(by: .seconds(15))
            await clock.waitForSleepers(count: 1)
            service.finishStreams()
            return try await response
        }
        #expect(response.text.hasPrefix("id: 1\nevent: run_created\n"))
        #expect(response.text.hasSuffix("\n\n: keepalive\n\n: keepalive\n\n"))
    }

    @Test func aClientThatGoesAwayEndsTheSubscription() async throws {
        let service = FakeRunAPI(script: Self.script, keepStreamsOpen: true)
        let events = try await service.events(runID: "r1", EventSubscription())
        var writer: any ResponseBodyWriter = FailingWriter(failAfter: 2)
        await #expect(throws: FailingWriter.Gone.self) {
            try await EventStream.write(events, to: &writer, keepalive: .seconds(15), clock: TestClock())
        }
        // The write failed on the second frame; the stream the service handed out is released.
        await service.waitForTerminatedStreams(1)
        #expect(service.terminatedStreams == 1)
    }

    @Test func aFrameCannotBeBrokenByTheEventName() {
        let frame = EventStream.text(of: .event(ServiceEvent(sequence: 9, name: "odd\nname\r", data: ["a": 1])))
        #expect(frame == "id: 9\nevent: oddname\ndata: {\"a\":1}\n\n")
    }
}

/// A response writer whose connection drops: the `failAfter`th write throws.
struct FailingWriter: ResponseBodyWriter {
    struct Gone: Error {}
    let writes = Counter()
    let failAfter: Int

    final class Counter: Sendable {
        let value = Mutex(0)
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        let count = writes.value.withLock { value in
            value += 1
            return value
        }
        if count >= failAfter { throw Gone() }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
