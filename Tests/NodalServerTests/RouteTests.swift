import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import NodalService
import Testing

/// Each route's happy path: the service is called with what the request said, parsed to the
/// spec's types, and its answer is the response body.
@Suite struct RouteTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var called: String
        var with: JSON
        var testDescription: String { "\(method) \(uri)" }
    }

    static let cases: [Case] = [
        Case(method: .post, uri: "/api/v1/flows", body: #"{"flow": {"steps": []}, "dryRun": true}"#, called: "storeFlow", with: ["flow": ["steps": []], "dryRun": true]),
        Case(method: .get, uri: "/api/v1/flows/abc", called: "flow", with: ["id": "abc"]),
        Case(method: .delete, uri: "/api/v1/flows/abc", called: "deleteFlow", with: ["id": "abc"]),
        Case(method: .get, uri: "/api/v1/flows/abc/variables", called: "flowVariables", with: ["id": "abc"]),
        Case(method: .post, uri: "/api/v1/runs", body: #"{"flowId": "f", "input": [1, 2]}"#, called: "createRun", with: ["flowId": "f", "input": [1, 2]]),
        Case(method: .get, uri: "/api/v1/runs/r1", called: "run", with: ["id": "r1", "wait": false, "timeoutSeconds": nil]),
        Case(method: .get, uri: "/api/v1/runs/r1?wait=true&timeoutSecs=30", called: "run", with: ["id": "r1", "wait": true, "timeoutSeconds": 30]),
        Case(method: .delete, uri: "/api/v1/runs/r1", called: "deleteRun", with: ["id": "r1"]),
        Case(method: .post, uri: "/api/v1/runs/r1/cancel", called: "cancelRun", with: ["id": "r1"]),
        Case(method: .post, uri: "/api/v1/runs/r1/resume", body: #"{"values": {"ok": true}}"#, called: "resumeRun", with: ["id": "r1", "body": ["values": ["ok": true]]]),
        Case(method: .get, uri: "/api/v1/runs/r1/items", called: "items", with: ["runID": "r1", "order": nil]),
        Case(method: .get, uri: "/api/v1/runs/r1/items?resultOrder=RESULT_ORDER_BY_COMPLETION", called: "items", with: ["runID": "r1", "order": "RESULT_ORDER_BY_COMPLETION"]),
        Case(method: .get, uri: "/api/v1/runs/r1/items?resultOrder=RESULT_ORDER_UNSPECIFIED", called: "items", with: ["runID": "r1", "order": nil]),
        Case(method: .get, uri: "/api/v1/runs/r1/steps", called: "steps", with: ["runID": "r1", "itemIndex": nil]),
        Case(method: .get, uri: "/api/v1/runs/r1/steps?itemIndex=4294967295", called: "steps", with: ["runID": "r1", "itemIndex": 4_294_967_295]),
        Case(method: .get, uri: "/api/v1/runs/r1/steps/say%20hi?itemIndex=2&asof=17", called: "step", with: ["runID": "r1", "stepID": "say hi", "itemIndex": 2]),
        Case(method: .get, uri: "/api/v1/runs/r1/flow", called: "runFlow", with: ["runID": "r1"]),
        Case(method: .post, uri: "/api/v1/blobs", body: #"{"jsonData": [1]}"#, called: "putBlob", with: ["jsonData": [1]]),
        Case(method: .get, uri: "/api/v1/components", called: "components", with: ["excludeSchemas": false]),
        Case(method: .get, uri: "/api/v1/components?excludeSchemas=true", called: "components", with: ["excludeSchemas": true]),
        Case(
            method: .get, uri: "/api/v1/runs", called: "listRuns",
            with: ["status": nil, "flowName": nil, "rootRunID": nil, "parentRunID": nil, "rootsOnly": nil, "maxDepth": nil, "limit": nil, "offset": nil]),
        Case(
            method: .get,
            uri: "/api/v1/runs?status=EXECUTION_STATUS_PAUSED&flowName=my+flow%21&rootRunId=a&parentRunId=b&rootsOnly=false&maxDepth=0&limit=10&offset=20&unknown=ignored",
            called: "listRuns",
            with: ["status": "EXECUTION_STATUS_PAUSED", "flowName": "my flow!", "rootRunID": "a", "parentRunID": "b", "rootsOnly": false, "maxDepth": 0, "limit": 10, "offset": 20]),
        Case(
            method: .get, uri: "/api/v1/runs?status=EXECUTION_STATUS_UNSPECIFIED", called: "listRuns",
            with: ["status": nil, "flowName": nil, "rootRunID": nil, "parentRunID": nil, "rootsOnly": nil, "maxDepth": nil, "limit": nil, "offset": nil]),
    ]

    @Test(arguments: cases)
    func callsTheServiceWithWhatTheRequestSaid(_ testCase: Case) async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            let response = try await client.send(testCase.method, testCase.uri, json: testCase.body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.json == ["called": .string(testCase.called), "with": testCase.with])
        }
        #expect(service.calls == [FakeRunAPI.Call(method: testCase.called, arguments: testCase.with)])
    }

    @Test func healthAnswersTheServicesBody() async throws {
        try await withRouter { client in
            let response = try await client.send(.get, "/api/v1/health")
            #expect(response.status == .ok)
            #expect(response.json == ["status": "healthy"])
        }
    }

    @Test func blobIsJSONUnlessRawBytesArePreferred() async throws {
        try await withRouter { client in
            let json = try await client.send(.get, "/api/v1/blobs/binary")
            #expect(json.json["rawData"] == "aGVsbG8=")

            let raw = try await client.send(.get, "/api/v1/blobs/binary", headers: [.accept: "application/octet-stream"])
            #expect(raw.status == .ok)
            #expect(raw.text == "hello")
            #expect(raw.headers[.contentType] == "text/plain")
            #expect(raw.headers[.blobFilename] == "hello.txt")

            // A JSON blob's raw content is its JSON text.
            let data = try await client.send(.get, "/api/v1/blobs/d1", headers: [.accept: "application/octet-stream"])
            #expect(data.json == ["answer": 42])

            let prefersJSON = try await client.send(.get, "/api/v1/blobs/binary", headers: [.accept: "application/octet-stream;q=0.5, application/json"])
            #expect(prefersJSON.json["blobType"] == "binary")
        }
    }

    @Test func servesTheOpenAPIDocument() async throws {
        try await withRouter { client in
            let response = try await client.send(.get, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.json["openapi"] == "3.0.3")
        }
    }

    @Test func serviceErrorsKeepTheirStatusAndBody() async throws {
        let service = FakeRunAPI()
        service.fail("run", with: .notFound("RUN_NOT_FOUND", "no run 'r9'", field: "runId"))
        service.fail("deleteRun", with: ServiceError(status: 409, code: "RUN_ACTIVE", "the run is still going"))
        service.fail("createRun", with: .invalidField("input[1].name", "must be a string"))
        // A status no HTTP client expects from a refusal is answered as 500, not passed on.
        service.fail("cancelRun", with: ServiceError(status: 200, code: "ODD", "a bug"))
        try await withRouter(service) { client in
            let missing = try await client.send(.get, "/api/v1/runs/r9")
            #expect(missing.status == .notFound)
            #expect(missing.json == ["code": 404, "message": "no run 'r9'", "error": "RUN_NOT_FOUND", "field": "runId"])

            let conflict = try await client.send(.delete, "/api/v1/runs/r9")
            #expect(conflict.status == .conflict)
            #expect(conflict.json == ["code": 409, "message": "the run is still going", "error": "RUN_ACTIVE"])

            let invalid = try await client.send(.post, "/api/v1/runs", json: #"{"input": [1, 2]}"#)
            #expect(invalid.status == .badRequest)
            #expect(invalid.json["field"] == "input[1].name")

            let odd = try await client.send(.post, "/api/v1/runs/r9/cancel")
            #expect(odd.status == .internalServerError)
        }
    }
}
