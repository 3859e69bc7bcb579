import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// `POST/GET/DELETE /flows`, `/flows/{id}/variables`, blobs, components and health.
@Suite struct FlowServiceTests {
    @Test func aStoredFlowComesBackWithItsExamples() async throws {
        let fixture = try ServiceFixture()
        var flow = ServiceFixture.flow("/test/echo")
        flow = .object(flow.objectValue!.merging(["test": ["cases": [["name": "first", "input": ["x": 1]]]]]))
        let reply = try await fixture.service.storeFlow(["flow": flow])
        let flowID = try #require(reply["flowId"]?.stringValue)
        #expect(flowID == ContentHash.blobID(of: flow))
        #expect(reply["stored"] == true)
        #expect(reply["diagnostics"]?["numFatal"] == 0)
        let read = try await fixture.service.flow(id: flowID)
        #expect(read["flow"] == flow)
        #expect(read["allExamples"] == [["name": "first", "input": ["x": 1]]])
        // The blob id with its `sha256:` prefix names the same flow.
        #expect(try await fixture.service.flow(id: "sha256:" + flowID)["flowId"] == .string(flowID))
        #expect(try await fixture.service.deleteFlow(id: flowID) == [:])
        let gone = await refusal { try await fixture.service.flow(id: flowID) }
        #expect(gone?.status == 404)
        #expect(gone?.code == "FLOW_NOT_FOUND")
    }

    @Test func aFlowThatCannotRunIsNotStoredAndSaysWhere() async throws {
        let fixture = try ServiceFixture()
        let flow: JSON = ["steps": [["id": "a", "component": "/test/echo"], ["id": "b", "component": "/nowhere/x"]], "output": ["$step": "b"]]
        let reply = try await fixture.service.storeFlow(["flow": flow])
        #expect(reply["stored"] == false)
        #expect(reply["flowId"] == .string(ContentHash.blobID(of: flow)))
        let diagnostic = try #require(reply["diagnostics"]?["diagnostics"]?[0])
        #expect(diagnostic["level"] == "DIAGNOSTIC_LEVEL_FATAL")
        #expect(diagnostic["path"] == "$.steps[1].component")
        #expect(diagnostic["formatted"]?.stringValue?.contains("/nowhere/x") == true)
        #expect(reply["diagnostics"]?["numFatal"] == 1)
        #expect(await refusal { try await fixture.service.flow(id: ContentHash.blobID(of: flow)) }?.code == "FLOW_NOT_FOUND")
        // A dry run of a good flow checks it and keeps nothing; an unknown key is a warning.
        let odd: JSON = ["steps": [["id": "a", "component": "/test/echo", "colour": "red"]], "output": ["$step": "a"]]
        let dry = try await fixture.service.storeFlow(["flow": odd, "dryRun": true])
        #expect(dry["stored"] == false)
        #expect(dry["diagnostics"]?["numWarning"] == 1)
        #expect(dry["diagnostics"]?["diagnostics"]?[0]?["level"] == "DIAGNOSTIC_LEVEL_WARNING")
        #expect(await refusal { try await fixture.service.flow(id: ContentHash.blobID(of: odd)) }?.status == 404)
    }

    @Test func badStoreRequestsNameTheField() async throws {
        let service = try ServiceFixture().service
        #expect(await refusal { try await service.storeFlow([:]) }?.field == "flow")
        #expect(await refusal { try await service.storeFlow(["flow": [1]]) }?.field == "flow")
        #expect(await refusal { try await service.storeFlow(["flow": [:], "dryRun": "yes"]) }?.field == "dryRun")
        #expect(await refusal { try await service.storeFlow(["flow": [:], "extra": 1]) }?.field == "extra")
        #expect(await refusal { try await service.flow(id: "not-an-id") }?.status == 404)
    }

    @Test func variablesComeFromTheFlowsVariablesSchema() async throws {
        let fixture = try ServiceFixture()
        var flow = ServiceFixture.flow("/test/echo").objectValue!
        flow["schemas"] = ["type": "object", "properties": ["variables": [
            "type": "object", "required": ["endpoint"],
            "properties": [
                "endpoint": ["type": "string", "description": "where to call", "env_var": "ENDPOINT"],
                "retries": ["type": "integer", "default": 3],
            ],
        ]]]
        let id = try await fixture.store(.object(flow))
        let variables = try await fixture.service.flowVariables(id: id)["variables"]
        #expect(variables?["endpoint"] == ["description": "where to call", "required": true, "schema": ["type": "string", "description": "where to call", "env_var": "ENDPOINT"], "envVar": "ENDPOINT"])
        #expect(variables?["retries"] == ["defaultValue": 3, "required": false, "schema": ["type": "integer", "default": 3]])
        let plain = try await fixture.store(ServiceFixture.flow("/test/echo", name: "plain"))
        #expect(try await fixture.service.flowVariables(id: plain)["variables"] == [:])
    }

    @Test func blobsRoundTripAsJSONOrBytes() async throws {
        let service = try ServiceFixture().service
        let json = try await service.putBlob(["jsonData": ["a": [1, 2]], "filename": "a.json"])
        let jsonID = try #require(json["blobId"]?.stringValue)
        #expect(json["filename"] == "a.json")
        #expect(try await service.blob(id: jsonID) == ["blobId": .string(jsonID), "blobType": "data", "jsonData": ["a": [1, 2]]])
        let bytes = try await service.putBlob(["rawData": "AP9hgA==", "contentType": "application/pdf"])
        let bytesID = try #require(bytes["blobId"]?.stringValue)
        #expect(try await service.blob(id: bytesID) == ["blobId": .string(bytesID), "blobType": "binary", "rawData": "AP9hgA==", "contentType": "application/pdf"])
        #expect(await refusal { try await service.putBlob(["rawData": "%%%"]) }?.field == "rawData")
        #expect(await refusal { try await service.putBlob(["rawData": "AA==", "jsonData": 1]) }?.field == "rawData")
        #expect(await refusal { try await service.putBlob([:]) }?.field == "jsonData")
        #expect(await refusal { try await service.putBlob(["jsonData": 1, "blobType": "picture"]) }?.field == "blobType")
        #expect(await refusal { try await service.putBlob(["jsonData": ["steps": 3], "blobType": "flow"]) }?.field == "jsonData")
        #expect(await refusal { try await service.blob(id: String(repeating: "0", count: 64)) }?.code == "BLOB_NOT_FOUND")
        // A flow blob put here is a flow the runs routes can run.
        let flow = try await service.putBlob(["jsonData": ServiceFixture.flow("/test/echo"), "blobType": "flow"])
        #expect(try await service.flow(id: flow["blobId"]!.stringValue!)["flowId"] == flow["blobId"])
    }

    @Test func componentsListBuiltinsAndPluginNodesByPath() async throws {
        let fixture = try ServiceFixture()
        try fixture.engine.loadPlugin(at: Products.plugin("nodal_std"))
        let reply = try await fixture.service.components(excludeSchemas: false)
        let paths = try #require(reply["components"]?.arrayValue).compactMap { $0["path"]?.stringValue }
        #expect(paths == paths.sorted())
        #expect(paths.contains("/builtin/map"))
        #expect(paths.contains("/std/upper"))
        #expect(reply["complete"] == true)
        #expect(reply["failedPlugins"] == [])
        let upper = reply["components"]!.arrayValue!.first { $0["path"] == "/std/upper" }
        #expect(upper?["plugin"] == "std")
        #expect(upper?["componentId"] == "upper")
        #expect(upper?["inputSchema"]?.objectValue != nil)
        // A builtin that declares schemas shows them (hostile review: every builtin had null).
        let messages = reply["components"]!.arrayValue!.first { $0["path"] == "/builtin/create_messages" }
        #expect(messages?["inputSchema"]?["required"] == ["user_prompt"])
        #expect(messages?["outputSchema"]?["required"] == ["messages"])
        let lean = try await fixture.service.components(excludeSchemas: true)
        #expect(lean["components"]?.arrayValue?.allSatisfy { $0["inputSchema"] == nil } == true)
    }

    @Test func healthSaysHealthyWithTheBuild() async throws {
        let service = try ServiceFixture().service
        let health = await service.health()
        #expect(health["status"] == "healthy")
        #expect(health["build"]?["gitVersion"] == .string(RunService.version))
        #expect(health["build"]?["profile"]?.stringValue.map { ["debug", "release"].contains($0) } == true)
        #expect(health["liveRuns"] == 0)
        #expect(health["store"] == "InMemoryRunStore")
        #expect(health["timestamp"]?.stringValue?.hasSuffix("Z") == true)
    }

    @Test func aStoreWithoutServiceRunsIsRefused() throws {
        struct Plain: RunStore {
            func run(id: String) async throws -> RunRecord? { nil }
            func listRuns(limit: Int) async throws -> [RunRecord] { [] }
            func deleteRun(id: String) async throws -> Bool { false }
            func putBlob(_ value: JSON) async throws -> String { "" }
            func blob(id: String) async throws -> JSON? { nil }
            func putBlob(_ value: JSON, type: BlobType) async throws -> String { "" }
            func putBytes(_ bytes: [UInt8], type: String) async throws -> String { "" }
            func storedBlob(id: String) async throws -> StoredBlob? { nil }
            func cachedResult(key: String) async throws -> CacheEntry? { nil }
            func clearCache() async throws -> Int { 0 }
            func cacheStatistics() async throws -> CacheStatistics { CacheStatistics(entries: 0, bytes: 0) }
            func close() async throws {}
        }
        #expect(throws: ServiceError.self) { try RunService(engine: Engine(), store: Plain()) }
    }
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var merged = self
        for (key, value) in other { merged[key] = value }
        return merged
    }
}
