import NodalJSON
import Testing

@Suite struct PercentEncodingTests {
    @Test func decodesEscapesAndPlusOnlyWhenAsked() {
        #expect(PercentEncoding.decodedString("a%20b%2Fc") == "a b/c")
        #expect(PercentEncoding.decodedString("a+b") == "a+b")
        #expect(PercentEncoding.decodedString("a+b", plusIsSpace: true) == "a b")
        #expect(PercentEncoding.decodedString("%E2%82%AC") == "€")
    }

    @Test func namesTheBrokenEscapeAndRefusesBytesThatAreNotUTF8() {
        #expect(PercentEncoding.decode(Array("ab%2".utf8)) == .failure(.init(position: 2)))
        #expect(PercentEncoding.decode(Array("x%zz".utf8)) == .failure(.init(position: 1)))
        #expect(PercentEncoding.decode(Array("%41%42".utf8)) == .success([65, 66]))
        #expect(PercentEncoding.decodedString("%FF") == nil)
    }
}
