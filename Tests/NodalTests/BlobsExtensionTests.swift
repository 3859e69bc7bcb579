import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `org.nodal.blobs.v1` from a C plugin, and the typed and bytes blobs the stores keep for it.
@Suite struct BlobsExtensionTests {
    static let value: JSON = ["b": 1, "a": [true, nil, "x"]]

    static let flow = try! Flow(yaml: """
        steps:
          - { id: data, component: /ext/put_data, input: { b: 1, a: [true, null, "x"] } }
          - { id: flow, component: /ext/put_flow, input: { $literal: { name: stored, steps: [], output: 1 } } }
          - { id: bytes, component: /ext/put_bytes }
          - { id: builtin, component: /builtin/put_blob, input: { data: { b: 1, a: [true, null, "x"] } } }
          - { id: getData, component: /ext/get_blob, input: { $step: data, path: id } }
          - { id: getFlow, component: /ext/get_blob, input: { $step: flow, path: id } }
          - { id: getBytes, component: /ext/get_blob, input: { $step: bytes, path: id } }
          - { id: viaBuiltin, component: /builtin/get_blob, input: { blob_id: { $step: data, path: id } } }
        output:
          data: { $step: data, path: id }
          flow: { $step: flow, path: id }
          bytes: { $step: bytes, path: id }
          builtin: { $step: builtin, path: blob_id }
          getData: { $step: getData }
          getFlow: { $step: getFlow }
          getBytes: { $step: getBytes }
          viaBuiltin: { $step: viaBuiltin, path: data }
        """)

    /// Ids are the ones /builtin/put_blob gives (SHA-256 of the compact JSON; of the bytes for
    /// bytes), and what is stored comes back with its type, in memory and in a store file that is
    /// opened again afterwards.
    @Test(arguments: [false, true])
    func blobsRoundTripWithTheBuiltinsIDs(inAStoreFile: Bool) async throws {
        let engine = try ExtensionPlugin.engine()
        let path = try temporaryDirectory() + "/runs.db"
        let store: SQLiteRunStore? = inAStoreFile ? try await SQLiteRunStore(path: path) : nil
        let result = await engine.run(Self.flow, input: [:], options: RunOptions(store: store))
        try await store?.close()
        #expect(result.status == .success, "\(result.json)")
        let output = try #require(result.output)
        let dataID = ContentHash.blobID(of: Self.value)
        let bytes: [UInt8] = [0x00, 0xFF, 0x61, 0x80]
        #expect(output["data"]?.stringValue == dataID)
        #expect(output["builtin"]?.stringValue == dataID)
        #expect(output["bytes"]?.stringValue == ContentHash.sha256Hex(bytes))
        #expect(output["getData"]?["type"] == "data")
        #expect(output["getData"]?["json"] == Self.value)
        let compact = Array(Self.value.serialized().utf8)
        #expect(output["getData"]?["len"] == .int(compact.count))
        #expect(output["getData"]?["hex"]?.stringValue == compact.map { String(format: "%02x", $0) }.joined())
        #expect(output["getFlow"]?["type"] == "flow")
        #expect(output["getFlow"]?["json"] == ["name": "stored", "steps": [], "output": 1])
        #expect(output["getBytes"] == ["type": "application/octet-stream", "len": 4, "hex": "00ff6180"])
        #expect(output["viaBuiltin"] == Self.value)

        guard inAStoreFile else {
            // Without a store they live in the engine's memory.
            #expect(try engine.memoryStore.storedBlob(id: ContentHash.sha256Hex(bytes)) == StoredBlob(content: .bytes(bytes), type: "application/octet-stream"))
            return
        }
        let reopened = try await SQLiteRunStore(path: path)
        #expect(try await reopened.storedBlob(id: ContentHash.sha256Hex(bytes)) == StoredBlob(content: .bytes(bytes), type: "application/octet-stream"))
        #expect(try await reopened.storedBlob(id: dataID) == StoredBlob(content: .json(Self.value), type: "data"))
        let flowID = try #require(output["flow"]?.stringValue)
        #expect(try await reopened.storedBlob(id: flowID)?.type == "flow")
        #expect(try await reopened.blob(id: dataID) == Self.value)
        try await reopened.close()
        #expect(try engine.memoryStore.storedBlob(id: dataID) == nil, "a run with a store keeps its blobs there")
    }

    @Test func refusalsSayWhy() async throws {
        let engine = try ExtensionPlugin.engine()
        let cases: [(String, String)] = [
            ("{ id: x, component: /ext/put_flow, input: { a: 1 } }", "INVALID_FLOW: put_json: the value is not a valid flow"),
            ("{ id: x, component: /ext/get_blob, input: \"\(String(repeating: "ab", count: 32))\" }", "BLOB_NOT_FOUND: get: no blob with id abab"),
            ("{ id: x, component: /ext/get_blob, input: \"sha256:xyz\" }", "INVALID_BLOB_ID: get: \"sha256:xyz\" is not a blob id"),
        ]
        // An id may come after "sha256:".
        let stored = await engine.run(try Flow(yaml: "steps: [{ id: x, component: /ext/put_data, input: 5 }]\noutput: { $step: x, path: id }"), input: [:])
        let id = try #require(stored.output?.stringValue)
        let read = await engine.run(try Flow(yaml: "steps: [{ id: x, component: /ext/get_blob, input: \"sha256:\(id.uppercased())\" }]\noutput: { $step: x }"), input: [:])
        #expect(read.output == ["type": "data", "len": 1, "hex": "35", "json": 5], "\(read.json)")
        for (step, message) in cases {
            let result = await engine.run(try Flow(yaml: "steps: [\(step)]\noutput: { $step: x }"), input: [:])
            let error = try #require(result.step("x")?.error, "\(result.json)")
            #expect(error.code == "REFUSED")
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    /// The stores' side: types, bytes (the empty ones too), the same content put twice.
    @Test(arguments: StoreKind.allCases)
    func storesKeepTypedJSONAndBytes(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let id = try await store.putBlob(["k": "v"], type: .data)
            #expect(id == ContentHash.blobID(of: ["k": "v"]))
            #expect(try await store.storedBlob(id: id)?.type == "data")
            // A value put again as a flow becomes one; put again as data it stays a flow.
            #expect(try await store.putBlob(["k": "v"], type: .flow) == id)
            #expect(try await store.storedBlob(id: id)?.type == "flow")
            try await store.putBlob(["k": "v"])
            #expect(try await store.storedBlob(id: id) == StoredBlob(content: .json(["k": "v"]), type: "flow"))

            let empty = try await store.putBytes([], type: "text/plain")
            #expect(empty == ContentHash.sha256Hex([UInt8]()))
            #expect(try await store.storedBlob(id: empty) == StoredBlob(content: .bytes([]), type: "text/plain"))
            let all = (0...255).map(UInt8.init)
            let allID = try await store.putBytes(all, type: "application/octet-stream")
            #expect(try await store.putBytes(all, type: "image/png") == allID)
            #expect(try await store.storedBlob(id: allID) == StoredBlob(content: .bytes(all), type: "application/octet-stream"))
            // Bytes are not JSON: the JSON reader does not see them.
            #expect(try await store.blob(id: allID) == nil)
            #expect(try await store.storedBlob(id: String(repeating: "0", count: 64)) == nil)
        }
    }

    /// A file written before schema version 3 opens, keeps its runs and blobs readable (a JSON
    /// blob reads as data, a run has no parent), and takes the new fields afterwards.
    @Test func aVersion2StoreFileIsMigratedAndStaysReadable() async throws {
        let path = try temporaryDirectory() + "/old.db"
        let old = try await SQLiteRunStore(path: path, durability: .processCrash, cacheLimit: .default, migrations: Array(SQLiteSchema.migrations.prefix(2)))
        // As a Nodal of schema version 2 wrote them (this one's putRun names the new columns).
        try await old.rawQuery("""
            INSERT INTO runs (id, flow_name, flow_path, flow_hash, input, status, created_at, updated_at, result)
            VALUES ('old', 'greet', '/flows/greet.yaml', NULL, '{"name":"Ada"}', 'success', 1000, 2000, '{"ok":true}')
            """)
        let blobID = try await old.putBlob(Self.value)
        #expect(try await old.pragma("user_version") == "2")
        try await old.close()

        let store = try await SQLiteRunStore(path: path)
        #expect(try await store.pragma("user_version") == "\(SQLiteSchema.migrations.count)")
        let run = try #require(try await store.run(id: "old"))
        #expect(run == RunRecord(
            id: "old", flowName: "greet", flowPath: "/flows/greet.yaml", input: ["name": "Ada"], status: .success,
            createdAt: Date(storeMilliseconds: 1000), updatedAt: Date(storeMilliseconds: 2000), result: ["ok": true]))
        #expect(run.parentRunID == nil && run.rootRunID == nil)
        #expect(try await store.storedBlob(id: blobID) == StoredBlob(content: .json(Self.value), type: "data"))
        var child = sampleRun("child")
        child.parentRunID = "old"
        child.rootRunID = "old"
        try await store.putRun(child)
        #expect(try await store.run(id: "child")?.parentRunID == "old")
        #expect(try await store.run(id: "child")?.rootRunID == "old")
        try await store.close()
    }
}
