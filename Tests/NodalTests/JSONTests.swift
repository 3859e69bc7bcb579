import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

@Suite struct JSONTests {
    @Test func roundTripKeepsKeyOrderAndTypes() throws {
        let text = #"{"b":1,"a":[true,false,null],"c":{"x":-2.5,"y":"s"},"big":12345678901234567}"#
        let value = try JSON(parsing: text)
        #expect(value.serialized() == text)
        #expect(value["big"] == .int(12345678901234567))
        #expect(value["c"]?["x"] == .double(-2.5))
    }

    @Test func stringEscapesDecodeAndEncode() throws {
        let value = try JSON(parsing: #""a\"b\\c\n\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c\né😀"))
        #expect(JSON.string("tab\there\u{01}").serialized() == #""tab\there\u0001""#)
    }

    @Test func rejectsMalformedText() {
        for bad in ["{", "[1,]", #"{"a" 1}"#, "tru", "01", "1.", #""\x""#, "[] []", #""\ud800""#] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSON(parsing: bad) }
        }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]  // "\xC3(" is not UTF-8
        #expect(throws: JSONParseError.self) { try JSON(parsing: bytes) }
    }

    @Test func equalityIgnoresKeyOrderAndNumberForm() throws {
        #expect(try JSON(parsing: #"{"a":1,"b":2}"#) == JSON(parsing: #"{"b":2.0,"a":1}"#))
        #expect(try JSON(parsing: #"{"a":1}"#) != JSON(parsing: #"{"a":1,"b":null}"#))
        let set: Set<JSON> = [try JSON(parsing: #"{"a":1,"b":2}"#), try JSON(parsing: #"{"b":2,"a":1}"#)]
        #expect(set.count == 1)
    }

    @Test func canonicalFormSortsKeys() throws {
        #expect(try JSON(parsing: #"{"b":{"d":1,"c":2},"a":0}"#).canonicalSerialized() == #"{"a":0,"b":{"c":2,"d":1}}"#)
    }

    @Test func pathsReadFieldsIndexesAndWildcards() throws {
        let value = try JSON(parsing: #"{"items":[{"n":1},{"n":2}],"odd key":{"x":true}}"#)
        #expect(try JSONPath("$.items[1].n").evaluate(value) == .int(2))
        #expect(try JSONPath("items[-1].n").evaluate(value) == .int(2))
        #expect(try JSONPath("$['odd key'].x").evaluate(value) == .bool(true))
        #expect(try JSONPath("$.items[*].n").evaluate(value) == [1, 2])
        #expect(try JSONPath("$").evaluate(value) == value)
        #expect(try JSONPath("$.missing").evaluate(value) == nil)
        #expect(throws: JSONPathError.self) { try JSONPath("$.items[x]") }
    }
}
