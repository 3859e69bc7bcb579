import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import NodalService
import Testing

/// Issue 14, hostile review of `nodal serve` at the HTTP level. Each test is one finding: it
/// fails until the server does what README ("The run service") promises.
@Suite(.timeLimit(.minutes(2))) struct HostileServeTests {
    /// Finding: a request line longer than the HTTP parser takes (a 100,000-character run id or
    /// query value) was answered `400` with an empty body (Hummingbird's), where README says every
    /// refusal is JSON `{code, message, error, field}`. Below the parser's limit (80 KiB of head)
    /// a long id or value reaches the routes; past it the answer is a JSON 431, the connection
    /// closes, and the server goes on serving others.
    @Test func anOverlongRequestLineIsRefusedAndTheServerGoesOn() async throws {
        try await LiveServerTests().withLiveServer(FakeRunAPI()) { port, _ in
            func get(_ target: String) async throws -> (head: String, body: String) {
                let connection = try await LoopbackConnection(port: port)
                defer { connection.close() }
                try await connection.send("GET \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                let response = try await connection.read(until: nil)
                let split = response.firstRange(of: "\r\n\r\n")
                return (split.map { String(response[..<$0.lowerBound]) } ?? response, split.map { String(response[$0.upperBound...]) } ?? "")
            }
            for target in ["/api/v1/runs/" + String(repeating: "a", count: 60_000), "/api/v1/runs?flowName=" + String(repeating: "a", count: 60_000)] {
                let (head, body) = try await get(target)
                #expect(head.lowercased().contains("content-type: application/json"), "\(head)")
                #expect((try? JSON(parsing: body)) != nil, "\(target.prefix(40))...: body \(body.prefix(200).debugDescription)")
            }
            for target in ["/api/v1/runs/" + String(repeating: "a", count: 100_000), "/api/v1/runs?flowName=" + String(repeating: "a", count: 100_000)] {
                let (head, body) = try await get(target)
                #expect(head.hasPrefix("HTTP/1.1 431"), "\(head)")
                #expect(head.lowercased().contains("content-type: application/json"), "\(head)")
                let json = (try? JSON(parsing: body)) ?? .null
                #expect(json["error"] == "REQUEST_HEAD_TOO_LARGE", "\(body)")
                #expect(json["field"] == "request", "\(body)")
            }
            // A request line that is not HTTP: the same JSON shape.
            let (head, body) = try await get("/api/v1/health HTTP/1.1 trailing\r\nX")
            #expect(head.hasPrefix("HTTP/1.1 400"), "\(head)")
            #expect(((try? JSON(parsing: body)) ?? .null)["error"] == "MALFORMED_REQUEST", "\(body)")
            let health = try await get("/api/v1/health")
            #expect(health.head.hasPrefix("HTTP/1.1 200"), "\(health.head)")
            #expect(health.body.contains("healthy"), "\(health.body)")
        }
    }

    /// Finding: a JSON-RPC `id` that is an integer past 64 bits came back as a rounded double
    /// (`18446744073709551616` -> `1.8446744073709552e+19`), so a client matching answers to calls
    /// by id (JSON-RPC 2.0: the answer's id MUST be the request's) could not find its answer. An
    /// id within 64 bits comes back exactly; a larger one is refused (Invalid Request, id null,
    /// as the spec says when the id cannot be told) with a message saying to send it as a string.
    @Test func aJSONRPCIdComesBackExactlyOrIsRefused() async throws {
        for id in ["9007199254740993", "-9223372036854775808", "9223372036854775807", "\"18446744073709551616\""] {
            let response = try await withRouter { client in
                try await client.send(.post, "/api/v1/jsonrpc", json: #"{"jsonrpc": "2.0", "id": \#(id), "method": "nope"}"#)
            }
            #expect(response.status == .ok)
            #expect(response.text.hasSuffix(#""id":\#(id)}"#), "\(response.text)")
        }
        for id in ["18446744073709551616", "12345678901234567890123", "1e300"] {
            let response = try await withRouter { client in
                try await client.send(.post, "/api/v1/jsonrpc", json: #"{"jsonrpc": "2.0", "id": \#(id), "method": "nope"}"#)
            }
            #expect(response.json["error"]?["code"] == -32600, "\(response.text)")
            #expect(response.json["error"]?["data"]?["field"] == "id", "\(response.text)")
            #expect(response.json["id"] == .null, "\(response.text)")
            #expect(response.text.contains("as a string"), "\(response.text)")
        }
    }

    /// Finding: a JSON-RPC batch has no bound: a batch of 100,000 `runs/get` calls (about 9 MiB,
    /// under the body limit) held the server for 45 s, and 3,000 `runs/submit` calls in one batch
    /// started 3,000 runs past `--max-items`. A batch longer than the run service's item limit
    /// should be refused as a whole (-32600 naming the batch size), not executed.
    @Test func aJSONRPCBatchPastTheItemLimitIsRefusedAsAWhole() async throws {
        let service = FakeRunAPI()
        let count = ServiceLimits.default.maxItemsPerRun + 1
        let call = #"{"jsonrpc": "2.0", "id": 1, "method": "runs/get", "params": {"runId": "r1"}}"#
        let body = "[" + Array(repeating: call, count: count).joined(separator: ",") + "]"
        let response = try await withRouter(service) { client in try await client.send(.post, "/api/v1/jsonrpc", json: body) }
        #expect(response.status == .ok)
        #expect(response.json["error"]?["code"] == -32600, "\(response.text.prefix(300))")
        #expect(service.calls.isEmpty, "\(service.calls.count) calls reached the service")
    }

    /// Finding: `Last-Event-ID: -1` is refused (400 naming the header) but
    /// `Last-Event-ID: 99999999999999999999999` (past UInt64) was taken (200, an empty stream):
    /// a value that is no event's id should be refused the same way whatever its size.
    @Test func aLastEventIdPastUInt64IsRefusedNamingTheHeader() async throws {
        for value in ["99999999999999999999999", "18446744073709551616"] {
            let response = try await withRouter { client in
                try await client.send(.get, "/api/v1/runs/r1/events", headers: [.lastEventID: value])
            }
            #expect(response.status == .badRequest, "\(value): \(response.status) \(response.text.prefix(200))")
            #expect(response.json["field"] == "Last-Event-ID", "\(response.text.prefix(200))")
        }
        let since = try await withRouter { client in try await client.send(.get, "/api/v1/runs/r1/events?since=99999999999999999999999") }
        #expect(since.status == .badRequest, "\(since.status) \(since.text.prefix(200))")
    }

    /// Finding: a connection that sends half a request head and then nothing (slowloris) was
    /// kept forever, so enough of them used up the server. After `idleTimeout` with nothing
    /// read, the server closes it; a connection between requests the same. (Real time: the
    /// timeout is NIO's; the test waits for the close, however long a loaded machine takes.)
    @Test func aConnectionThatStopsSendingIsClosed() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.idleTimeout = .milliseconds(200)
        try await LiveServerTests().withLiveServer(FakeRunAPI(), configuration: configuration) { port, _ in
            let halfHead = try await LoopbackConnection(port: port)
            defer { halfHead.close() }
            try await halfHead.send("GET /api/v1/health HTTP/1.1\r\nHost: local")
            // Reading to the end returns only once the server closed the connection.
            let text = try await halfHead.read(until: nil)
            #expect(!text.contains("healthy"), "\(text)")
            let idle = try await LoopbackConnection(port: port)
            defer { idle.close() }
            #expect(try await idle.read(until: nil) == "")
        }
    }
}
