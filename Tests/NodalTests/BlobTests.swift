import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `/builtin/put_blob` and `/builtin/get_blob`: content-addressed values in the run's store or
/// the engine's memory.
@Suite struct BlobTests {
    @Test func putThenGetInOneFlowRoundTripsUnderTheContentHash() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: put, component: /builtin/put_blob, input: { data: { $input: $ } } }
              - { id: get, component: /builtin/get_blob, input: { blob_id: { $step: put, path: blob_id } } }
            output: { id: { $step: put, path: blob_id }, data: { $step: get, path: data } }
            """)
        let data: JSON = ["name": "Ada", "scores": [1, 2.5, nil], "nested": ["z": true, "a": "x"]]
        let result = await Engine().run(flow, input: data)
        #expect(result.status == .success, "\(String(describing: result.error))")
        let id = try #require(result.output?["id"]?.stringValue)
        #expect(id == ContentHash.blobID(of: data))
        #expect(id.count == 64 && id == id.lowercased())
        #expect(result.output?["data"] == data)
    }

    @Test func theIdHashesTheKeysInDocumentOrderAsStepflowDoes() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: ab, component: /builtin/put_blob, input: { data: { a: 1, b: 2 } } }
              - { id: ba, component: /builtin/put_blob, input: { data: { b: 2, a: 1 }, blob_type: data } }
            output: [{ $step: ab, path: blob_id }, { $step: ba, path: blob_id }]
            """)
        let result = await Engine().run(flow, input: [:])
        let ids = try #require(result.output?.arrayValue)
        // SHA-256 of the texts {"a":1,"b":2} and {"b":2,"a":1}.
        #expect(ids[0] == .string(ContentHash.sha256Hex(#"{"a":1,"b":2}"#)))
        #expect(ids[1] == .string(ContentHash.sha256Hex(#"{"b":2,"a":1}"#)))
    }

    @Test func theRunsStoreKeepsTheBlobAndGetAcceptsTheSha256Prefix() async throws {
        let engine = Engine()
        let store = InMemoryRunStore()
        let put = try Flow(yaml: """
            steps: [{ id: put, component: /builtin/put_blob, input: { data: [1, 2, 3] } }]
            output: { $step: put, path: blob_id }
            """)
        let result = await engine.run(put, input: [:], options: RunOptions(store: store))
        let id = try #require(result.output?.stringValue)
        #expect(try store.blob(id: id) == [1, 2, 3])
        #expect(try engine.memoryStore.blob(id: id) == nil)

        let get = try Flow(yaml: """
            steps: [{ id: get, component: /builtin/get_blob, input: { blob_id: { $input: id } } }]
            output: { $step: get }
            """)
        let fetched = await engine.run(get, input: ["id": .string("sha256:" + id)], options: RunOptions(store: store))
        #expect(fetched.output == ["data": [1, 2, 3]])
        // A run without the store does not see it.
        let elsewhere = await engine.run(get, input: ["id": .string(id)])
        #expect(elsewhere.step("get")?.error?.code == "BLOB_NOT_FOUND")
    }

    @Test func blobsOfStorelessRunsLiveInTheEnginesMemory() async throws {
        let engine = Engine()
        let put = try Flow(yaml: """
            steps: [{ id: put, component: /builtin/put_blob, input: { data: hello } }]
            output: { $step: put, path: blob_id }
            """)
        let id = try #require(await engine.run(put, input: [:]).output?.stringValue)
        #expect(try engine.memoryStore.blob(id: id) == "hello")
        let get = try Flow(yaml: """
            steps: [{ id: get, component: /builtin/get_blob, input: { blob_id: { $input: $ } } }]
            output: { $step: get, path: data }
            """)
        // Another run of the same engine, with or without a store of its own, finds it.
        #expect(await engine.run(get, input: .string(id)).output == "hello")
        #expect(await engine.run(get, input: .string(id), options: RunOptions(store: InMemoryRunStore())).output == "hello")
    }

    @Test func unknownAndMalformedIdsFailTheStepNamingTheId() async throws {
        let flow = try Flow(yaml: """
            steps: [{ id: get, component: /builtin/get_blob, input: { blob_id: { $input: $ } } }]
            output: { $step: get }
            """)
        let engine = Engine()
        let unknown = String(repeating: "ab", count: 32)
        let missing = await engine.run(flow, input: .string(unknown))
        #expect(missing.status == .failed)
        #expect(missing.step("get")?.error?.code == "BLOB_NOT_FOUND")
        #expect(missing.step("get")?.error?.message.contains("get_blob") == true)
        #expect(missing.step("get")?.error?.message.contains(unknown) == true)

        let malformed = await engine.run(flow, input: "not-a-hash")
        #expect(malformed.step("get")?.error?.code == "INVALID_INPUT")
        #expect(malformed.step("get")?.error?.message.contains("'blob_id'") == true)
        #expect(malformed.step("get")?.error?.message.contains("not-a-hash") == true)

        let number = await engine.run(flow, input: 42)
        #expect(number.step("get")?.error?.code == "INVALID_INPUT")
        #expect(number.step("get")?.error?.message.contains("number") == true)
    }

    @Test func putRefusesBadInput() async throws {
        let engine = Engine()
        func error(_ input: String) async throws -> StepError? {
            let flow = try Flow(yaml: "steps: [{ id: put, component: /builtin/put_blob, input: \(input) }]\noutput: { $step: put }")
            return await engine.run(flow, input: [:]).step("put")?.error
        }
        let noData = try await error("{ blob_type: data }")
        #expect(noData?.code == "INVALID_INPUT")
        #expect(noData?.message.contains("'data'") == true)
        let badType = try await error("{ data: 1, blob_type: picture }")
        #expect(badType?.code == "INVALID_INPUT")
        #expect(badType?.message.contains("'blob_type'") == true)
        #expect(badType?.message.contains("picture") == true)
        let notAFlow = try await error("{ data: { $literal: { stepz: [] } }, blob_type: flow }")
        #expect(notAFlow?.code == "INVALID_INPUT")
        #expect(notAFlow?.message.contains("stepz") == true)
        // Null is a value like any other.
        #expect(try await error("{ data: null }") == nil)
    }
}
