import Foundation
import NodalCore
import NodalJSON
import Testing
@testable import NodalService

/// A run's body as a Noxus user writes it: names, titles, `STEP_ID::FIELD`, defaults, fixed
/// inputs and files by URI.
@Suite struct RunInputsTests {
    static let flow = try! Flow(yaml: """
        inputSchema:
          type: object
          properties:
            question: { type: string, title: User Question }
            tone: { type: string, title: Tone, default: plain }
            system: { type: string, title: System Prompt, readOnly: true, default: Be brief. }
            model: { type: string, title: Model, readOnly: true, x-nodal-overridable: true, default: small }
            version: { title: Version, readOnly: true, const: 2 }
            document: { type: object, title: Document }
            documents: { type: array, title: Documents }
          required: [question]
        steps:
          - { id: ask, component: /app/echo, input: { prompt: { $input: question }, system: { $input: system } } }
          - { id: whole, component: /app/echo, input: { $input: "$" } }
        output: { $step: ask }
        """)

    static func resolve(
        _ body: JSON, flow: Flow = flow, grants: InputGrants = InputGrants(), store: InMemoryRunStore = InMemoryRunStore(),
        maxFileBytes: Int = RunInputs.defaultMaxFileBytes, maxFiles: Int = RunInputs.defaultMaxFiles
    ) async throws(ServiceError) -> ResolvedItem {
        try await RunInputs.resolve(body, flow: flow, grants: grants, store: store, field: "input[0]", maxFileBytes: maxFileBytes, maxFiles: maxFiles)
    }

    /// The error `body` is refused with (the test fails when it is not refused).
    static func refusal(
        _ body: JSON, flow: Flow = flow, grants: InputGrants = InputGrants(), store: InMemoryRunStore = InMemoryRunStore(),
        maxFileBytes: Int = RunInputs.defaultMaxFileBytes, maxFiles: Int = RunInputs.defaultMaxFiles
    ) async -> ServiceError? {
        do {
            let item = try await resolve(body, flow: flow, grants: grants, store: store, maxFileBytes: maxFileBytes, maxFiles: maxFiles)
            Issue.record("not refused: \(item.input)")
            return nil
        } catch {
            #expect(error.status == 400 || error.status == 500)
            return error
        }
    }

    static func file(_ uri: String) -> JSON { ["file_metadata": ["uri": .string(uri)]] }

    // MARK: Names

    @Test func propertyNameTitleAndTitleIgnoringCaseAllReachTheProperty() async throws {
        for key in ["question", "User Question", "user question", "USER QUESTION"] {
            let item = try await Self.resolve([key: "why?"])
            #expect(item.input["question"] == "why?", "\(key)")
            #expect(item.input[key] == nil || key == "question")
            #expect(item.stepInputs.isEmpty)
        }
    }

    @Test func titlesThatCollideAreRefusedWhereTheyCollide() async throws {
        let flow = try Flow(yaml: """
            inputSchema:
              type: object
              properties:
                a: { title: Topic }
                b: { title: topic }
                c: { title: Same }
                d: { title: Same }
            steps: []
            output: { $input: "$" }
            """)
        // Exact titles still decide; only a match that needs case folding is ambiguous.
        #expect(try await Self.resolve(["Topic": 1], flow: flow).input == ["a": 1])
        #expect(try await Self.resolve(["topic": 1], flow: flow).input["b"] == 1)
        let loose = await Self.refusal(["TOPIC": 1], flow: flow)
        #expect(loose?.code == "INVALID_INPUT")
        #expect(loose?.field == "input[0].TOPIC")
        #expect(loose?.message.contains("'a', 'b'") == true)
        let exact = await Self.refusal(["Same": 1], flow: flow)
        #expect(exact?.message.contains("'c', 'd'") == true)
        // The property name always works.
        #expect(try await Self.resolve(["c": 1, "d": 2], flow: flow).input == ["c": 1, "d": 2])
    }

    @Test func nameAndTitleOfOnePropertyTogetherAreRefused() async {
        let error = await Self.refusal(["question": "a", "User Question": "b"])
        #expect(error?.field == "input[0]['User Question']")
        #expect(error?.message.contains("both set the input 'question'") == true)
    }

    @Test func unknownKeyIsRefusedListingTheClosestNameFirst() async {
        let error = await Self.refusal(["Questoin": "x"])
        #expect(error?.status == 400)
        #expect(error?.code == "INVALID_INPUT")
        #expect(error?.field == "input[0].Questoin")
        #expect(error?.message.contains("it takes 'User Question' (question), ") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("'Tone' (tone)") == true)
        let byTitle = await Self.refusal(["Sytem Prompt": "x"])
        #expect(byTitle?.message.contains("it takes 'System Prompt' (system), ") == true, "ranked by the nearest of name and title")
        #expect(error?.message.contains("STEP_ID::FIELD") == true)
    }

    @Test func schemaThatWelcomesOtherKeysOrHasNoPropertiesTakesThemAsTheyAre() async throws {
        let open = try Flow(yaml: """
            inputSchema: { type: object, properties: { a: { title: A } }, additionalProperties: true }
            steps: []
            output: { $input: "$" }
            """)
        #expect(try await Self.resolve(["A": 1, "other": 2], flow: open).input == ["a": 1, "other": 2])
        let none = try Flow(yaml: "steps: [ { id: s, component: /app/echo, input: { x: 1 } } ]\noutput: { $input: \"$\" }")
        let item = try await Self.resolve(["Any Key": 1, "s::x": 5], flow: none)
        #expect(item.input == ["Any Key": 1])
        #expect(item.stepInputs == [StepInputOverride(step: "s", field: "x", value: 5)])
    }

    @Test func bodyThatIsNotAnObjectPassesUnchanged() async throws {
        let flow = try Flow(yaml: "inputSchema: { type: array }\nsteps: []\noutput: { $input: \"$\" }")
        #expect(try await Self.resolve([1, "two"], flow: flow).input == [1, "two"])
        #expect(try await Self.resolve("text", flow: flow).input == "text")
    }

    // MARK: STEP_ID::FIELD

    @Test func stepFieldKeysBecomeOverrides() async throws {
        let item = try await Self.resolve(["question": "q", "ask::prompt": "set", "ask::added": ["n": 1]])
        #expect(item.input["ask::prompt"] == nil)
        #expect(item.stepInputs == [
            StepInputOverride(step: "ask", field: "prompt", value: "set"),
            StepInputOverride(step: "ask", field: "added", value: ["n": 1]),
        ])
    }

    @Test func stepFieldKeysNamingNoStepOrAStepWithoutFieldsAreRefused() async {
        let unknown = await Self.refusal(["question": "q", "aks::prompt": "x"])
        #expect(unknown?.field == "input[0]['aks::prompt']")
        #expect(unknown?.message.contains("no step 'aks'") == true)
        #expect(unknown?.message.contains("its steps are 'ask'") == true, "the closest step first")
        let whole = await Self.refusal(["question": "q", "whole::x": 1])
        #expect(whole?.field == "input[0]['whole::x']")
        #expect(whole?.message.contains("not an object of fields") == true)
    }

    @Test func resolvedOverrideRunsInTheEngine() async throws {
        let engine = Engine()
        engine.register(route: "/app/echo") { input, _ in input }
        let item = try await Self.resolve(["User Question": "q", "ask::system": "overridden"])
        let flow = try Self.flow.withStepInputs(item.stepInputs)
        let result = await engine.run(flow, input: item.input)
        #expect(result.status == .success, "\(String(describing: result.error?.message))")
        #expect(result.output == ["prompt": "q", "system": "overridden"])
    }

    // MARK: Defaults and fixed inputs

    @Test func defaultsAndFixedValuesFillWhatTheBodyLeavesOut() async throws {
        let item = try await Self.resolve(["question": "q"])
        #expect(item.input == ["question": "q", "tone": "plain", "system": "Be brief.", "model": "small", "version": 2])
        let given = try await Self.resolve(["question": "q", "Tone": "warm"])
        #expect(given.input["tone"] == "warm")
        // What the engine checks the run's input against accepts the filled-in value.
        let schema = try JSONSchema(Self.flow.inputSchema!)
        #expect(schema.isValid(item.input))
    }

    @Test func fixedInputIsRefusedUnlessTheFlowAllowsOverriding() async throws {
        for key in ["system", "System Prompt", "system prompt"] {
            let error = await Self.refusal(["question": "q", key: "Be long."])
            #expect(error?.code == "INVALID_INPUT")
            #expect(error?.field == InputPath.appending(key, to: "input[0]"))
            #expect(error?.message.contains("'system'") == true)
            #expect(error?.message.contains("fixed by the flow") == true)
            #expect(error?.message.contains("x-nodal-overridable") == true)
        }
        #expect(await Self.refusal(["question": "q", "Version": 3])?.message.contains("'version'") == true)
        let item = try await Self.resolve(["question": "q", "Model": "large"])
        #expect(item.input["model"] == "large")
    }

    @Test func schemaValidatorIgnoresTheNodalKeywordAndReadOnly() throws {
        let schema = try JSONSchema([
            "type": "object",
            "properties": ["model": ["type": "string", "readOnly": true, "x-nodal-overridable": true, "x-other": ["any": 1]]],
        ])
        #expect(schema.isValid(["model": "large"]))
        #expect(!schema.isValid(["model": 1]), "the property's other keywords still apply")
    }

    // MARK: Files

    @Test func base64DataURIBecomesABlob() async throws {
        let store = InMemoryRunStore()
        let bytes: [UInt8] = [0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10]
        let uri = "data:application/pdf;base64," + Data(bytes).base64EncodedString()
        let item = try await Self.resolve(["question": "q", "Document": ["file_metadata": ["uri": .string(uri), "name": "a.pdf"], "note": 1]], store: store)
        let document = try #require(item.input["document"])
        let id = try #require(document["blobId"]?.stringValue)
        #expect(document == [
            "file_metadata": ["uri": .string("nodal-blob:" + id), "name": "a.pdf"], "note": 1,
            "blobId": .string(id), "contentType": "application/pdf", "size": 7,
        ])
        #expect(try store.storedBlob(id: id) == StoredBlob(content: .bytes(bytes), type: "application/pdf"))
        // Unpadded base64 reads the same.
        let unpadded = try await Self.resolve(["document": Self.file("data:application/pdf;base64," + Data(bytes).base64EncodedString().replacing("=", with: ""))], flow: Self.noSchema, store: store)
        #expect(unpadded.input["document"]?["blobId"]?.stringValue == id)
    }

    static let noSchema = try! Flow(yaml: "steps: []\noutput: { $input: \"$\" }")

    @Test func percentEncodedDataURIAndItsDefaultType() async throws {
        let store = InMemoryRunStore()
        let item = try await Self.resolve(["a": Self.file("data:,hello%20w%C3%B6rld"), "b": Self.file("data:text/csv;charset=utf-8,x%2Cy")], flow: Self.noSchema, store: store)
        let a = try #require(item.input["a"]?["blobId"]?.stringValue)
        #expect(item.input["a"]?["contentType"] == "text/plain")
        #expect(try store.storedBlob(id: a)?.content == .bytes(Array("hello wörld".utf8)))
        #expect(item.input["b"]?["contentType"] == "text/csv;charset=utf-8")
        #expect(item.input["b"]?["size"] == 3)
    }

    @Test func malformedDataURIsAreRefusedNamingTheURIField() async {
        let cases: [(String, String)] = [
            ("data:application/pdf;base64,AAA*", "'*' at position 3"),
            ("data:application/pdf;base64,A===", "padding"),
            ("data:application/pdf;base64,AAAAA", "middle of a character group"),
            ("data:application/pdf;base64", "no ','"),
            ("data:application/pdf;gzip,AAAA", "encoding 'gzip'"),
            ("data:pdf,AAAA", "media type"),
            ("data:text/plain,100%", "'%' at position 3"),
        ]
        for (uri, expected) in cases {
            let error = await Self.refusal(["question": "q", "Document": Self.file(uri)])
            #expect(error?.code == "INVALID_INPUT", "\(uri)")
            #expect(error?.field == "input[0].Document.file_metadata.uri", "\(uri)")
            #expect(error?.message.contains(expected) == true, "\(uri): \(error?.message ?? "")")
        }
        let notString = await Self.refusal(["Document": ["file_metadata": ["uri": 3]]], flow: Self.noSchema)
        #expect(notString?.field == "input[0].Document.file_metadata.uri")
        let noURI = await Self.refusal(["Document": ["file_metadata": ["name": "x"]]], flow: Self.noSchema)
        #expect(noURI?.field == "input[0].Document.file_metadata.uri")
    }

    @Test func base64DecodingAgreesWithFoundation() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0..<300 {
            let bytes = (0..<length).map { _ -> UInt8 in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: seed >> 33)
            }
            let padded = Data(bytes).base64EncodedString()
            for text in [padded, padded.replacing("=", with: "")] {
                var text = text
                let decoded = text.withUTF8 { Base64.decode($0) }
                #expect(try decoded.get() == bytes, "length \(length)")
            }
        }
    }

    @Test func hugeKeysAreRefusedWithAShortMessage() async {
        let key = String(repeating: "k", count: 1 << 20)
        for body: JSON in [[key: 1], [.init(stringLiteral: key + "::" + key): 1]] {
            let error = await Self.refusal(body)
            #expect(error?.code == "INVALID_INPUT")
            #expect((error?.message.utf8.count ?? .max) < 2000)
        }
    }

    @Test func decodedSizeIsBounded() async throws {
        let bytes = [UInt8](repeating: 7, count: 100)
        let encoded = "data:application/octet-stream;base64," + Data(bytes).base64EncodedString()
        let store = InMemoryRunStore()
        _ = try await Self.resolve(["f": Self.file(encoded)], flow: Self.noSchema, store: store, maxFileBytes: 100)
        let error = await Self.refusal(["f": Self.file(encoded)], flow: Self.noSchema, maxFileBytes: 99)
        #expect(error?.message.contains("more than 99 bytes") == true)
        let percent = await Self.refusal(["f": Self.file("data:," + String(repeating: "a", count: 100))], flow: Self.noSchema, maxFileBytes: 99)
        #expect(percent?.field == "input[0].f.file_metadata.uri")
        let many = await Self.refusal(["f": [Self.file("data:,a"), Self.file("data:,b"), Self.file("data:,c")]], flow: Self.noSchema, maxFiles: 2)
        #expect(many?.field == "input[0].f[2].file_metadata.uri")
        #expect(many?.message.contains("more than 2 file inputs") == true)
    }

    @Test func refusedBodyStoresNoFile() async throws {
        let store = InMemoryRunStore()
        let error = await Self.refusal(["Document": Self.file("data:,abc"), "Nope": 1], store: store)
        #expect(error?.field == "input[0].Nope")
        #expect(try store.storedBlob(id: ContentHash.sha256Hex(Array("abc".utf8))) == nil)
    }

    @Test func fileValuesNestedInArraysAndObjectsAreResolvedWithTheirPaths() async throws {
        let store = InMemoryRunStore()
        let body: JSON = ["Documents": [Self.file("data:,one"), ["inner": [Self.file("data:,two")]], "not a file"]]
        let item = try await Self.resolve((["question": "q"] as JSON).merging(body), store: store)
        let documents = try #require(item.input["documents"]?.arrayValue)
        #expect(documents[0]["size"] == 3)
        #expect(documents[1]["inner"]?[0]?["size"] == 3)
        #expect(documents[2] == "not a file")
        let id = try #require(documents[1]["inner"]?[0]?["blobId"]?.stringValue)
        #expect(try store.storedBlob(id: id)?.content == .bytes(Array("two".utf8)))
        let error = await Self.refusal(["Documents": [Self.file("data:,ok"), ["inner": [Self.file("data:;base64,!")]]]])
        #expect(error?.field == "input[0].Documents[1].inner[0].file_metadata.uri")
        // Files in STEP_ID::FIELD values are resolved too.
        let step = try await Self.resolve(["question": "q", "ask::prompt": Self.file("data:,three")], store: store)
        #expect(step.stepInputs.first?.value["size"] == 5)
    }

    @Test func fileURIsAreReadOnlyUnderAGrantedFolder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nodal-inputs-\(UUID().uuidString)").path
        let granted = root + "/granted", outside = root + "/outside"
        try FileManager.default.createDirectory(atPath: granted + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data("inside".utf8).write(to: URL(fileURLWithPath: granted + "/sub/report.txt"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: granted + "/escape.txt", withDestinationPath: outside + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: granted + "/escape-dir", withDestinationPath: outside)

        let none = await Self.refusal(["f": Self.file("file://" + granted + "/sub/report.txt")], flow: Self.noSchema)
        #expect(none?.field == "input[0].f.file_metadata.uri")
        #expect(none?.message.contains("--allow-files DIR") == true)

        let grants = InputGrants(fileFolders: [granted])
        let store = InMemoryRunStore()
        let item = try await Self.resolve(["f": Self.file("file://" + granted + "/sub/report%2Etxt")], flow: Self.noSchema, grants: grants, store: store)
        #expect(item.input["f"]?["contentType"] == "text/plain")
        let id = try #require(item.input["f"]?["blobId"]?.stringValue)
        #expect(try store.storedBlob(id: id)?.content == .bytes(Array("inside".utf8)))
        #expect(try await Self.resolve(["f": Self.file("file:" + granted + "/sub/report.txt")], flow: Self.noSchema, grants: grants).input["f"]?["size"] == 6)

        for escaping in [granted + "/escape.txt", granted + "/escape-dir/secret.txt", granted + "/../outside/secret.txt", outside + "/missing.txt"] {
            let error = await Self.refusal(["f": Self.file("file://" + escaping)], flow: Self.noSchema, grants: grants)
            #expect(error?.message.contains("outside the folders") == true, "\(escaping): \(error?.message ?? "")")
        }
        let missing = await Self.refusal(["f": Self.file("file://" + granted + "/none.txt")], flow: Self.noSchema, grants: grants)
        #expect(missing?.message.contains("no regular file") == true)
        let remote = await Self.refusal(["f": Self.file("file://example.com" + granted + "/sub/report.txt")], flow: Self.noSchema, grants: grants)
        #expect(remote?.message.contains("host") == true)
        let large = await Self.refusal(["f": Self.file("file://" + granted + "/sub/report.txt")], flow: Self.noSchema, grants: grants, maxFileBytes: 5)
        #expect(large?.message.contains("more than 5 bytes") == true)
    }

    @Test func otherSchemesAreRefusedUnlessGrantedThenPassedAsTheyAre() async throws {
        let value = Self.file("https://example.com/file.pdf")
        let error = await Self.refusal(["question": "q", "Document": value])
        #expect(error?.field == "input[0].Document.file_metadata.uri")
        #expect(error?.message.contains("'https:' URI is not allowed") == true)
        #expect(error?.message.contains("--allow-uri-scheme https") == true)
        let item = try await Self.resolve(["question": "q", "Document": value], grants: InputGrants(passThroughSchemes: ["HTTPS"]))
        #expect(item.input["document"] == value)
        let s3 = await Self.refusal(["Document": Self.file("s3://bucket/key")], grants: InputGrants(passThroughSchemes: ["https"]))
        #expect(s3?.message.contains("--allow-uri-scheme s3") == true)
        let bare = await Self.refusal(["Document": Self.file("/etc/passwd")])
        #expect(bare?.message.contains("not a URI") == true)
    }

    @Test func storedBlobsAreReferencedByID() async throws {
        let store = InMemoryRunStore()
        let id = try store.putBytes([1, 2, 3], type: "image/png")
        let item = try await Self.resolve(["f": Self.file("nodal-blob:" + id)], flow: Self.noSchema, store: store)
        #expect(item.input["f"]?["contentType"] == "image/png")
        #expect(item.input["f"]?["size"] == 3)
        let missing = await Self.refusal(["f": Self.file("nodal-blob:" + String(repeating: "0", count: 64))], flow: Self.noSchema, store: store)
        #expect(missing?.message.contains("no blob") == true)
        let bad = await Self.refusal(["f": Self.file("nodal-blob:xyz")], flow: Self.noSchema, store: store)
        #expect(bad?.message.contains("64 lowercase hex") == true)
        // A resolved item resolves again to itself (what a restarted service does with stored items).
        #expect(try await Self.resolve(item.input, flow: Self.noSchema, store: store).input == item.input)
    }

    @Test func aStepReadsTheFileThroughTheStore() async throws {
        let engine = Engine()
        engine.register(route: "/app/size") { input, context in
            let id = input["file"]?["blobId"]?.stringValue ?? ""
            guard case .bytes(let bytes)? = try await context.store?.storedBlob(id: id)?.content else { return "no blob" }
            return ["bytes": .int(bytes.count), "first": .int(Int(bytes[0]))]
        }
        let flow = try Flow(yaml: """
            inputSchema: { type: object, properties: { file: { title: Upload } } }
            steps: [ { id: read, component: /app/size, input: { file: { $input: file } } } ]
            output: { $step: read }
            """)
        let store = InMemoryRunStore()
        let item = try await Self.resolve(["upload": Self.file("data:application/octet-stream;base64,CQgH")], flow: flow, store: store)
        var options = RunOptions()
        options.store = store
        let result = await engine.run(flow, input: item.input, options: options)
        #expect(result.output == ["bytes": 3, "first": 9])
    }
}

extension JSON {
    fileprivate func merging(_ other: JSON) -> JSON {
        var object = objectValue ?? JSONObject()
        for (key, value) in other.objectValue ?? JSONObject() { object[key] = value }
        return .object(object)
    }
}
