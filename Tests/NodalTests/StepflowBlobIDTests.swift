import Testing
@testable import NodalCore
@testable import NodalJSON

/// Blob ids are Stepflow's: the SHA-256 of the compact JSON with keys in document order and
/// numbers and strings written as Stepflow's serde_json writes them. The expected ids and texts
/// below were read off Stepflow 0.13's server (`POST /api/v1/blobs`, then `GET` the blob back).
@Suite struct StepflowBlobIDTests {
    @Test func theIdsOfStepflowsBlobTestFlowMatch() async throws {
        // The two cases of Stepflow's tests/builtins/blob_test.yaml, by their expected ids.
        let flow = try Flow(yaml: """
            steps:
              - { id: put, component: /builtin/put_blob, input: { data: { $input: data } } }
              - { id: get, component: /builtin/get_blob, input: { blob_id: { $step: put, path: blob_id } } }
            output: { blob_id: { $step: put, path: blob_id }, retrieved_data: { $step: get, path: data } }
            """)
        let cases: [(String, String)] = [
            ("message: Hello, blobs!\nnumber: 42\nnested:\n  array: [1, 2, 3]\n  boolean: true",
             "868591347a854ba1d0f4875b2dd44e1e8335052af03725a9819f89e0142318b0"),
            ("simple: test\ncomplex:\n  deeply:\n    nested:\n      value: works",
             "aa05cc227a02bd66a2a91fde7500be122d28e87c45832d1aa9cb0b432eef7e04"),
        ]
        for (yaml, expectedID) in cases {
            let data = try #require(try YAMLConversion.compose(yaml, file: nil)).map { try YAMLConversion.json($0, file: nil) }
            let result = await Engine().run(flow, input: ["data": try #require(data)])
            #expect(result.output?["blob_id"] == .string(expectedID))
            #expect(result.output?["retrieved_data"]?.objectValue?.keys == data?.objectValue?.keys)
        }
    }

    @Test func numbersAndStringsAreWrittenAsStepflowWritesThem() throws {
        let text = """
            [1e15, 1e16, 1e-6, 1e-5, 1.5e16, 1.23e-5, 1.23e-6, 1e21, 0.30000000000000004, 5e-324,
             1.7976931348623157e308, 123456789012345.6, 1234567890123456.7, 2.5, -1e-7, 1.0e2, -0.0]
            """
        let stepflow = "[1000000000000000.0,1e+16,1e-6,0.00001,1.5e+16,0.0000123,1.23e-6,1e+21,0.30000000000000004,5e-324,"
            + "1.7976931348623157e+308,123456789012345.6,1234567890123456.8,2.5,-1e-7,100.0,-0.0]"
        // (Stepflow reads 12345678901234567.0 one unit off, as 1.2345678901234566e+16: its
        // parser does not round every 17-digit number correctly. Nodal's does; not compared.)
        #expect(try JSON(parsing: text).serialized() == stepflow)
        #expect(ContentHash.blobID(of: try JSON(parsing: stepflow)) == ContentHash.sha256Hex(stepflow))
        // serde_json escapes \b and \f by name and other control characters as \u00XX; not '/'.
        #expect(JSON.string("\u{8}\u{C}\u{1}/é\"\\\n").serialized() == #""\b\f\u0001/é\"\\\n""#)
    }

    @Test func aBlobWithFloatsAndControlCharactersGetsStepflowsId() throws {
        // Posted to Stepflow 0.13 as {"b":1e16,"a":1.5e-7,"c":100.0,"d":0.00001,"e":"\b\f\u0001/é","g":-0.0}
        let data = try JSON(parsing: #"{"b":1e16,"a":1.5e-7,"c":100.0,"d":0.00001,"e":"\b\f\u0001/é","f":123,"g":-0.0}"#)
        #expect(data.serialized() == #"{"b":1e+16,"a":1.5e-7,"c":100.0,"d":0.00001,"e":"\b\f\u0001/é","f":123,"g":-0.0}"#)
        #expect(ContentHash.blobID(of: data) == ContentHash.sha256Hex(data.serialized()))
    }

    @Test func repeatedKeysKeepTheFirstPlaceAndTheLastValueAsSerdeJSONReadsThem() throws {
        let object = try JSON(parsing: #"{"a":1,"b":2,"a":3}"#)
        #expect(object.serialized() == #"{"a":3,"b":2}"#)
        #expect(object.objectValue?.count == 2)
    }

    @Test func bigObjectsKeepTheirOrderAndFindKeysThroughTheirIndex() throws {
        var object = JSONObject()
        for index in (0..<1000).reversed() { object["k\(index)"] = .int(index) }
        #expect(object.keys.first == "k999" && object.keys.last == "k0")
        #expect(object["k500"] == 500 && object["k0"] == 0 && object["nope"] == nil)
        object["k500"] = "changed"
        #expect(object["k500"] == "changed" && object.count == 1000 && object.keys[499] == "k500")
        object["k999"] = nil
        #expect(object.count == 999 && object["k999"] == nil && object["k998"] == 998 && object.keys.first == "k998")
        object["new"] = true
        #expect(object.keys.last == "new" && object["new"] == true)
        // Shrinking back under the threshold goes on finding keys.
        for index in 0..<990 { object["k\(index)"] = nil }
        #expect(object.count == 10 && object["new"] == true && object["k995"] == 995)
        let parsed = try JSON(parsing: "{" + (0..<100).map { "\"x\($0)\":\($0)" }.joined(separator: ",") + "}")
        #expect(parsed["x99"] == 99 && parsed.objectValue?.keys.first == "x0")
    }
}
