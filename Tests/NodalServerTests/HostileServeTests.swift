import Hummingbird
import NodalJSON
import NodalServer
import NodalService
import Testing

/// Issue 14, hostile review of `nodal serve` at the HTTP level. Each test is one finding: it
/// fails until the server does what README ("The run service") promises.
@Suite(.timeLimit(.minutes(2))) struct HostileServeTests {
    /// Finding: a request line longer than the HTTP parser takes (a 100,000-character run id or
    /// query value) was answered `400` with an empty body and no Content-Type, where README says
    /// every refusal is JSON `{code, message, error, field}`.
    @Test func anOverlongRequestLineIsRefusedWithAJSONError() async throws {
        try await LiveServerTests().withLiveServer(FakeRunAPI()) { port, _ in
            for target in ["/api/v1/runs/" + String(repeating: "a", count: 100_000), "/api/v1/runs?flowName=" + String(repeating: "a", count: 100_000)] {
                let connection = try await LoopbackConnection(port: port)
                defer { connection.close() }
                try await connection.send("GET \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                let response = try await connection.read(until: nil)
                let split = response.firstRange(of: "\r\n\r\n")
                let head = split.map { String(response[..<$0.lowerBound]) } ?? response
                let body = split.map { String(response[$0.upperBound...]) } ?? ""
                #expect(head.hasPrefix("HTTP/1.1 4"), "\(head)")
                #expect(head.lowercased().contains("content-type: application/json"), "\(head)")
                let json = (try? JSON(parsing: body)) ?? .null
                #expect(json["error"]?.stringValue != nil, "\(target.prefix(40))...: body \(body.debugDescription)")
            }
        }
    }

    /// Finding: a JSON-RPC `id` that is an integer past 2^53 came back as a rounded double
    /// (`18446744073709551616` -> `1.8446744073709552e+19`), so a client matching answers to calls
    /// by id (JSON-RPC 2.0: the answer's id MUST be the request's) cannot find its answer.
    @Test func aJSONRPCIdComesBackExactlyAsSent() async throws {
        for id in ["18446744073709551616", "12345678901234567890123", "9007199254740993"] {
            let response = try await withRouter { client in
                try await client.send(.post, "/api/v1/jsonrpc", json: #"{"jsonrpc": "2.0", "id": \#(id), "method": "nope"}"#)
            }
            #expect(response.status == .ok)
            #expect(response.text.hasSuffix(#""id":\#(id)}"#), "\(response.text)")
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
}
