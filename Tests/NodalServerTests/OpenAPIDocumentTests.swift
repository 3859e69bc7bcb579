import Hummingbird
import HummingbirdTesting
import NodalJSON
import NodalServer
import NodalService
import Testing

/// The served document and the router cannot drift apart: the same operations, the same
/// enums, and every operation documented with its errors.
@Suite struct OpenAPIDocumentTests {
    static func document() async throws -> JSON {
        let response = try await withRouter { client in try await client.send(.get, "/api/v1/openapi.json") }
        return try JSON(parsing: response.text)
    }

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    static func routes() -> [ServerRoute] {
        ServerRoutes.all(service: FakeRunAPI(), configuration: ServerConfiguration(), clock: ContinuousClock())
    }

    @Test func documentsExactlyTheRoutesTheRouterHas() async throws {
        let document = try await Self.document()
        #expect(document["openapi"] == "3.0.3")
        #expect(document["servers"]?[0]?["url"] == .string(ServerRoutes.prefix))
        var documented: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, _) in item.objectValue ?? [:] where Self.methods.contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let routed = Set(Self.routes().map { "\($0.method.rawValue) \($0.path)" })
        #expect(routed.count == Self.routes().count, "a route is listed twice")
        #expect(documented == routed)
        #expect(routed.count == 21)
    }

    @Test func everyRouteIsReachableThroughTheRouter() async throws {
        let service = FakeRunAPI()
        try await withRouter(service) { client in
            for route in Self.routes() {
                let uri = ServerRoutes.prefix + route.path.split(separator: "/").map { $0.first == "{" ? "x" : String($0) }.joined(separator: "/").prefixedWithSlash
                let response = try await client.send(route.method, uri, json: route.method == .post ? "{}" : nil)
                #expect(response.status == .ok || response.status == .noContent, "\(route.method) \(uri): \(response.text)")
            }
        }
    }

    @Test func pathParametersAndQueryParametersMatchTheRoutes() async throws {
        let document = try await Self.document()
        for route in Self.routes() {
            let operation = document["paths"]?[route.path]?[route.method.rawValue.lowercased()]
            let parameters = operation?["parameters"]?.arrayValue ?? []
            let inPath = parameters.filter { $0["in"] == "path" }.compactMap { $0["name"]?.stringValue }
            #expect(inPath == route.parameterNames, "\(route.method) \(route.path)")
            for parameter in parameters where parameter["in"] == "path" {
                #expect(parameter["required"] == true)
            }
        }
    }

    @Test func enumsAreTheOnesTheServerAccepts() async throws {
        let document = try await Self.document()
        let paths = document["paths"]
        func queryEnum(_ path: String, _ name: String) -> [String] {
            let parameter = paths?[path]?["get"]?["parameters"]?.arrayValue?.first { $0["name"] == .string(name) }
            let schema = parameter?["schema"]
            return (schema?["enum"] ?? schema?["items"]?["enum"])?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        #expect(queryEnum("/runs", "status") == SpecEnums.executionStatuses)
        #expect(queryEnum("/runs/{runId}/items", "resultOrder") == SpecEnums.resultOrders)
        #expect(queryEnum("/runs/{runId}/events", "eventTypes") == SpecEnums.statusEventTypes)
    }

    @Test func everyOperationDeclaresItsErrorsInTheErrorShape() async throws {
        let document = try await Self.document()
        let errorSchema = document["components"]?["schemas"]?["Error"]
        #expect(errorSchema?["required"] == ["code", "message", "error"])
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, operation) in item.objectValue ?? [:] {
                let responses = operation["responses"]?.objectValue ?? [:]
                #expect(responses["default"] != nil, "\(method) \(path)")
                if path != "/health" { #expect(responses["401"] != nil, "\(method) \(path) has no 401") }
                if operation["requestBody"] != nil {
                    #expect(responses["413"] != nil, "\(method) \(path) has no 413")
                    #expect(responses["415"] != nil, "\(method) \(path) has no 415")
                }
                if path != "/jsonrpc" && path != "/openapi.json" {
                    #expect(responses["400"] != nil, "\(method) \(path) has no 400")
                    #expect(responses["404"] != nil, "\(method) \(path) has no 404")
                }
            }
        }
        // Every reference resolves.
        let text = OpenAPIDocumentText.references(in: document)
        let schemas = document["components"]?["schemas"]?.objectValue?.keys ?? []
        let responses = document["components"]?["responses"]?.objectValue?.keys ?? []
        for reference in text {
            let name = String(reference.split(separator: "/").last!)
            if reference.hasPrefix("#/components/schemas/") {
                #expect(schemas.contains(name), "\(reference)")
            } else {
                #expect(reference.hasPrefix("#/components/responses/") && responses.contains(name), "\(reference)")
            }
        }
    }
}

enum OpenAPIDocumentText {
    static func references(in value: JSON) -> [String] {
        switch value {
        case .object(let object):
            return object.flatMap { key, value in key == "$ref" ? [value.stringValue ?? ""] : references(in: value) }
        case .array(let array):
            return array.flatMap(references(in:))
        default:
            return []
        }
    }
}

extension String {
    var prefixedWithSlash: String { hasPrefix("/") ? self : "/" + self }
}

/// The served document carries this server's limits where the template marks them.
@Suite struct OpenAPILimitsTests {
    @Test func theServedDocumentStatesTheServersLimits() async throws {
        var limits = ServiceLimits.default
        limits.maxWait = .seconds(90)
        limits.maxItemsPerRun = 12
        let text = try await withRouter(configuration: ServerConfiguration(serviceLimits: limits)) { client in
            try await client.send(.get, "/api/v1/openapi.json").text
        }
        #expect(!text.contains("x-nodal-limit"))
        let document = try JSON(parsing: text)
        let createRun = document["components"]?["schemas"]?["CreateRunRequest"]?["properties"]
        #expect(createRun?["input"]?["maxItems"] == 12)
        #expect(createRun?["timeoutSecs"]?["anyOf"]?[0]?["maximum"] == 90)
        let pattern = try #require(createRun?["timeoutSecs"]?["anyOf"]?[1]?["pattern"]?.stringValue)
        #expect(try Regex(pattern).wholeMatch(in: "90.0") != nil)
        #expect(try Regex(pattern).wholeMatch(in: "90.5") == nil)
        let getRun = document["paths"]?["/runs/{runId}"]?["get"]?["parameters"]?.arrayValue?.first { $0["name"] == "timeoutSecs" }
        #expect(getRun?["schema"]?["pattern"]?.stringValue == DecimalRange.pattern(upTo: 90, fractions: false))
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 300, 3600, 10_000, 86_399])
    func decimalRangeMatchesExactlyTheNumbersUpToTheMaximum(_ maximum: Int) throws {
        let whole = try Regex(DecimalRange.pattern(upTo: maximum, fractions: false))
        let fractional = try Regex(DecimalRange.pattern(upTo: maximum, fractions: true))
        let probes = Set(Array(0...120) + [maximum - 1, maximum, maximum + 1, maximum * 10, maximum + 100].filter { $0 >= 0 })
        for number in probes {
            #expect((String(number).wholeMatch(of: whole) != nil) == (number <= maximum), "\(number) against \(maximum)")
            #expect(("00" + String(number)).wholeMatch(of: whole) != nil || number > maximum)
            #expect(((String(number) + ".5").wholeMatch(of: fractional) != nil) == (number < maximum), "\(number).5 against \(maximum)")
            #expect(((String(number) + ".0").wholeMatch(of: fractional) != nil) == (number <= maximum))
            #expect((String(number) + ".5").wholeMatch(of: whole) == nil)
        }
        for text in ["", "-1", "1e3", " 1", "1.", ".5", "0x1"] {
            #expect(text.wholeMatch(of: fractional) == nil, "\(text)")
        }
    }
}
