import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import NodalService
import Testing

/// `POST /api/v1/jsonrpc`: the seed's two methods and JSON-RPC 2.0's own error objects.
@Suite struct JSONRPCTests {
    func call(_ body: String, _ service: FakeRunAPI = FakeRunAPI()) async throws -> TestResponse {
        try await withRouter(service) { client in try await client.send(.post, "/api/v1/jsonrpc", json: body) }
    }

    @Test func submitAndGetCallTheService() async throws {
        let service = FakeRunAPI()
        let submit = try await call(#"{"jsonrpc": "2.0", "id": "submit-1", "method": "runs/submit", "params": {"flowId": "f", "inputs": [{"a": 1}], "wait": true}}"#, service)
        #expect(submit.status == .ok)
        #expect(submit.json == ["jsonrpc": "2.0", "result": ["called": "submit", "with": ["flowId": "f", "inputs": [["a": 1]], "wait": true]], "id": "submit-1"])

        let get = try await call(#"{"jsonrpc": "2.0", "id": 7, "method": "runs/get", "params": {"runId": "r1", "includeResults": true, "resultOrder": "byCompletion"}}"#, service)
        #expect(get.json == ["jsonrpc": "2.0", "result": ["called": "status", "with": ["runId": "r1", "includeResults": true, "resultOrder": "byCompletion"]], "id": 7])
        #expect(service.calls.map(\.method) == ["submit", "status"])
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var body: String
        var code: Int
        var id: JSON
        var testDescription: String { body }
    }

    static let errors: [ErrorCase] = [
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": "runs/get", "id": 1"#, code: -32700, id: nil),
        ErrorCase(body: "", code: -32700, id: nil),
        ErrorCase(body: "[]", code: -32600, id: nil),
        ErrorCase(body: "42", code: -32600, id: nil),
        ErrorCase(body: #"{"jsonrpc": "1.0", "method": "runs/get", "id": 1}"#, code: -32600, id: 1),
        ErrorCase(body: #"{"method": "runs/get", "id": "a"}"#, code: -32600, id: "a"),
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": "runs/get", "id": {"no": 1}}"#, code: -32600, id: nil),
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": "runs/get", "id": true}"#, code: -32600, id: nil),
        ErrorCase(body: #"{"jsonrpc": "2.0", "id": 3}"#, code: -32600, id: 3),
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": 5, "id": 3}"#, code: -32600, id: 3),
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": "runs/get", "params": "r1", "id": 3}"#, code: -32600, id: 3),
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": "runs/list", "id": null}"#, code: -32601, id: nil),
        ErrorCase(body: #"{"jsonrpc": "2.0", "method": "runs/get", "params": ["r1"], "id": 2.5}"#, code: -32602, id: 2.5),
    ]

    @Test(arguments: errors)
    func protocolErrorsAreErrorObjectsWithStatus200(_ testCase: ErrorCase) async throws {
        let service = FakeRunAPI()
        let response = try await call(testCase.body, service)
        #expect(response.status == .ok)
        #expect(response.json["jsonrpc"] == "2.0")
        #expect(response.json["id"] == testCase.id)
        #expect(response.json["error"]?["code"] == .int(testCase.code))
        #expect(response.json["error"]?["message"]?.stringValue?.isEmpty == false)
        #expect(response.json.objectValue?.keys.contains("result") == false)
        #expect(service.calls.isEmpty)
    }

    @Test func serviceRefusalsBecomeInvalidParamsOrServerErrors() async throws {
        let service = FakeRunAPI()
        service.fail("submit", with: .invalidField("inputs[0].Document", "must be an object"))
        service.fail("status", with: .notFound("RUN_NOT_FOUND", "no run 'r9'", field: "runId"))
        let invalid = try await call(#"{"jsonrpc": "2.0", "id": 1, "method": "runs/submit", "params": {}}"#, service)
        #expect(invalid.json["error"] == ["code": -32602, "message": "must be an object", "data": ["status": 400, "error": "INVALID_FIELD", "field": "inputs[0].Document"]])

        let missing = try await call(#"{"jsonrpc": "2.0", "id": 2, "method": "runs/get", "params": {"runId": "r9"}}"#, service)
        #expect(missing.json["error"] == ["code": -32000, "message": "no run 'r9'", "data": ["status": 404, "error": "RUN_NOT_FOUND", "field": "runId"]])
    }

    @Test func batchesAnswerEachCallInOrderAndLeaveOutNotifications() async throws {
        let service = FakeRunAPI()
        let response = try await call("""
            [
              {"jsonrpc": "2.0", "id": 1, "method": "runs/get", "params": {"runId": "a"}},
              {"jsonrpc": "2.0", "method": "runs/submit", "params": {"flowId": "f", "inputs": []}},
              {"foo": "boo"},
              {"jsonrpc": "2.0", "id": "x", "method": "nope"},
              7
            ]
            """, service)
        #expect(response.status == .ok)
        guard case .array(let replies) = response.json else {
            Issue.record("not an array: \(response.text)")
            return
        }
        #expect(replies.count == 4)
        #expect(replies[0]["id"] == 1)
        #expect(replies[0]["result"]?["with"] == ["runId": "a"])
        #expect(replies[1]["error"]?["code"] == -32600)
        #expect(replies[1]["id"] == .some(.null))
        #expect(replies[2]["id"] == "x")
        #expect(replies[2]["error"]?["code"] == -32601)
        #expect(replies[3]["error"]?["code"] == -32600)
        // The notification ran, unanswered.
        #expect(Set(service.calls.map(\.method)) == ["status", "submit"])
    }

    @Test func aBatchLargerThanTheConcurrencyIsAnsweredWholeAndInOrder() async throws {
        let count = JSONRPC.batchConcurrency * 2 + 7
        let calls = (0..<count).map { #"{"jsonrpc": "2.0", "id": \#($0), "method": "runs/get", "params": {"runId": "r\#($0)"}}"# }
        let service = FakeRunAPI()
        let response = try await call("[" + calls.joined(separator: ",") + "]", service)
        let replies = response.json.arrayValue ?? []
        #expect(replies.map { $0["id"] } == (0..<count).map { JSON?.some(.int($0)) })
        #expect(replies.map { $0["result"]?["with"]?["runId"] } == (0..<count).map { JSON?.some(.string("r\($0)")) })
        #expect(service.calls.count == count)
    }

    /// Found by the hostile review: a batch of 100,000 calls held one request for 46 s.
    @Test func aBatchPastTheCallLimitIsRefusedWholeBeforeAnyCallRuns() async throws {
        let count = JSONRPC.maxBatchCalls + 1
        let calls = (0..<count).map { #"{"jsonrpc": "2.0", "id": \#($0), "method": "runs/get", "params": {"runId": "r"}}"# }
        let service = FakeRunAPI()
        let response = try await call("[" + calls.joined(separator: ",") + "]", service)
        #expect(response.json["error"]?["code"] == -32600)
        #expect(response.json["id"] == .null)
        #expect(service.calls.isEmpty)
    }

    @Test func onlyNotificationsIs204WithNoBody() async throws {
        let service = FakeRunAPI()
        let single = try await call(#"{"jsonrpc": "2.0", "method": "runs/submit", "params": {"flowId": "f", "inputs": []}}"#, service)
        #expect(single.status == .noContent)
        #expect(single.body.readableBytes == 0)
        let batch = try await call(#"[{"jsonrpc": "2.0", "method": "runs/get", "params": {"runId": "a"}}, {"jsonrpc": "2.0", "method": "unknown"}]"#, service)
        #expect(batch.status == .noContent, "\(batch.text)")
        #expect(service.calls.map(\.method) == ["submit", "status"])
    }
}
