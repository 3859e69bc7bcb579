import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import NodalService
import Testing

/// Every kind of bad request gets a 4xx with a JSON body naming what is wrong, and never reaches
/// the service.
@Suite struct BadRequestTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var uri: String
        var field: String
        var testDescription: String { uri }
    }

    static let badQueries: [Case] = [
        Case(uri: "/api/v1/runs?limit=abc", field: "limit"),
        Case(uri: "/api/v1/runs?limit=-1", field: "limit"),
        Case(uri: "/api/v1/runs?limit=4294967296", field: "limit"),
        Case(uri: "/api/v1/runs?limit=", field: "limit"),
        Case(uri: "/api/v1/runs?limit=%2B1", field: "limit"),
        Case(uri: "/api/v1/runs?offset=1.5", field: "offset"),
        Case(uri: "/api/v1/runs?maxDepth=0x10", field: "maxDepth"),
        Case(uri: "/api/v1/runs?limit=1&limit=2", field: "limit"),
        Case(uri: "/api/v1/runs?rootsOnly=yes", field: "rootsOnly"),
        Case(uri: "/api/v1/runs?rootsOnly=TRUE", field: "rootsOnly"),
        Case(uri: "/api/v1/runs?rootsOnly=1", field: "rootsOnly"),
        Case(uri: "/api/v1/runs?status=RUNNING", field: "status"),
        Case(uri: "/api/v1/runs?status=3", field: "status"),
        Case(uri: "/api/v1/runs?flowName=%E2%28", field: "flowName"),
        Case(uri: "/api/v1/runs?flowName=%zz", field: "flowName"),
        Case(uri: "/api/v1/runs/r1?wait=maybe", field: "wait"),
        Case(uri: "/api/v1/runs/r1?timeoutSecs=soon", field: "timeoutSecs"),
        Case(uri: "/api/v1/runs/r1?timeoutSecs=1e3", field: "timeoutSecs"),
        Case(uri: "/api/v1/runs/r1/items?resultOrder=byIndex", field: "resultOrder"),
        Case(uri: "/api/v1/runs/r1/steps?itemIndex=x", field: "itemIndex"),
        Case(uri: "/api/v1/runs/r1/steps/s?asof=later", field: "asof"),
        Case(uri: "/api/v1/components?excludeSchemas=", field: "excludeSchemas"),
        Case(uri: "/api/v1/runs/r1/events?since=-3", field: "since"),
        Case(uri: "/api/v1/runs/r1/events?eventTypes=STATUS_EVENT_TYPE_NOPE", field: "eventTypes"),
        Case(uri: "/api/v1/runs/r1/events?eventTypes=STATUS_EVENT_TYPE_RUN_CREATED,", field: "eventTypes"),
        Case(uri: "/api/v1/runs/r1/events?includeResults=on", field: "includeResults"),
        Case(uri: "/api/v1/runs/%FF/items", field: "runId"),
    ]

    @Test(arguments: badQueries)
    func badParameterIs400NamingIt(_ testCase: Case) async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            let response = try await client.send(.get, testCase.uri)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.json["code"] == 400)
            #expect(response.json["error"] == "INVALID_FIELD")
            #expect(response.json["field"] == .string(testCase.field))
            #expect(response.json["message"]?.stringValue?.contains(testCase.field) == true)
        }
        #expect(service.calls.isEmpty)
    }

    @Test func badLastEventIDIs400NamingTheHeader() async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            let response = try await client.send(.get, "/api/v1/runs/r1/events", headers: [.lastEventID: "yesterday"])
            #expect(response.status == .badRequest)
            #expect(response.json["field"] == "Last-Event-ID")
        }
        #expect(service.calls.isEmpty)
    }

    struct BodyCase: Sendable, CustomTestStringConvertible {
        var body: String
        var status: HTTPResponse.Status
        var error: String
        var message: String
        var testDescription: String { body }
    }

    static let badBodies: [BodyCase] = [
        BodyCase(body: #"{"flowId": "#, status: .badRequest, error: "INVALID_JSON", message: "at line 1, column 12"),
        BodyCase(body: "{\n  \"flowId\": \"f\",\n  \"input\": [1,, 2]\n}", status: .badRequest, error: "INVALID_JSON", message: "at line 3, column 15"),
        BodyCase(body: "{\"name\": \"é\" x}", status: .badRequest, error: "INVALID_JSON", message: "at line 1, column 14"),
        BodyCase(body: "", status: .badRequest, error: "INVALID_JSON", message: "empty"),
        BodyCase(body: "  \n", status: .badRequest, error: "INVALID_JSON", message: "empty"),
        BodyCase(body: "[1]", status: .badRequest, error: "INVALID_BODY", message: "must be a JSON object, not array"),
        BodyCase(body: "\"run\"", status: .badRequest, error: "INVALID_BODY", message: "not string"),
        BodyCase(body: "null", status: .badRequest, error: "INVALID_BODY", message: "not null"),
    ]

    @Test(arguments: badBodies)
    func badBodyIs400(_ testCase: BodyCase) async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            for uri in ["/api/v1/runs", "/api/v1/flows", "/api/v1/blobs", "/api/v1/runs/r1/resume"] {
                let response = try await client.send(.post, uri, json: testCase.body)
                #expect(response.status == testCase.status, "\(uri)")
                #expect(response.json["error"] == .string(testCase.error), "\(uri)")
                #expect(response.json["field"] == "body", "\(uri)")
                let message = response.json["message"]?.stringValue ?? ""
                #expect(message.contains(testCase.message), "\(uri): \(message)")
            }
        }
        #expect(service.calls.isEmpty)
    }

    @Test func bodyLargerThanTheLimitIs413NamingIt() async throws {
        let service = FakeRunAPI()
        try await withRouter(service, configuration: ServerConfiguration(maxBodyBytes: 64)) { client in
            let fits = #"{"flowId": "f", "input": [1]}"#
            #expect(try await client.send(.post, "/api/v1/runs", json: fits).status == .ok)

            let large = #"{"flowId": "f", "input": [""# + String(repeating: "x", count: 100) + #""]}"#
            for uri in ["/api/v1/runs", "/api/v1/jsonrpc"] {
                let response = try await client.send(.post, uri, json: large)
                #expect(response.status == .contentTooLarge, "\(uri)")
                #expect(response.json["error"] == "BODY_TOO_LARGE")
                #expect(response.json["field"] == "body")
                #expect(response.json["message"]?.stringValue?.contains("64 bytes") == true)
            }
        }
        #expect(service.calls.count == 1)
    }

    @Test func bodyOverTheLimitWithoutContentLengthIs413() async throws {
        // Chunked: the reader counts what arrives instead of trusting a header.
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/api/v1/runs", headerFields: [.contentType: "application/json"]),
            body: RequestBody(buffer: ByteBuffer(string: String(repeating: " ", count: 100) + "{}")))
        let error = await #expect(throws: ServiceError.self) { try await RequestBodyReader.json(of: request, limit: 64) }
        #expect(error?.status == 413)
    }

    @Test func bodyThatIsNotJSONByItsContentTypeIs415() async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            for contentType in ["application/x-www-form-urlencoded", "text/plain", "application/xml"] {
                let response = try await client.send(.post, "/api/v1/runs", json: "{}", headers: [.contentType: contentType])
                #expect(response.status == .unsupportedMediaType)
                #expect(response.json["field"] == "Content-Type")
            }
            // JSON by another name, with parameters, or no type at all: read as JSON.
            for contentType in ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"] {
                let response = try await client.send(.post, "/api/v1/blobs", json: "{}", headers: [.contentType: contentType])
                #expect(response.status == .ok, "\(contentType)")
            }
            let untyped = try await client.execute(uri: "/api/v1/blobs", method: .post, body: ByteBuffer(string: "{}"))
            #expect(untyped.status == .ok)
        }
        #expect(service.calls.count == 4)
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            for uri in ["/api/v1/nope", "/api/v2/runs", "/", "/api/v1/runs/r1/steps/s/more"] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.json["error"] == "ROUTE_NOT_FOUND", "\(uri)")
                #expect(response.headers[.contentType] == "application/json")
            }
            let wrong = try await client.send(.put, "/api/v1/runs/r1")
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "DELETE, GET")
            #expect(wrong.json["error"] == "METHOD_NOT_ALLOWED")

            let health = try await client.send(.delete, "/api/v1/health")
            #expect(health.status == .methodNotAllowed)
            #expect(health.headers[.allow] == "GET")

            let rpc = try await client.send(.get, "/api/v1/jsonrpc")
            #expect(rpc.headers[.allow] == "POST")
        }
        #expect(service.calls.isEmpty)
    }
}
