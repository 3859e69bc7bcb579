@testable import NodalClient
import FoundationEssentials
import Testing

@Suite struct APIRootTests {
    @Test(arguments: [
        ("http://127.0.0.1:7837", "http://127.0.0.1:7837/api/v1"),
        ("http://127.0.0.1:7837/", "http://127.0.0.1:7837/api/v1"),
        ("  https://host/api/v1/ ", "https://host/api/v1"),
        ("HTTP://host:1/prefix", "HTTP://host:1/prefix/api/v1"),
    ])
    func theRootIsTheBaseWithApiV1Once(base: String, root: String) {
        #expect(APIRoot(base).root == root)
    }

    @Test(arguments: ["127.0.0.1:7837", "ftp://host", "http://", "http:///path", ""])
    func aBaseThatIsNotHTTPIsRefusedWhenACallIsMade(base: String) {
        #expect(APIRoot(base).root == nil)
        #expect(throws: NodalClientError.self) { try APIRoot(base).url(["runs"]) }
    }

    @Test func segmentsAndQueryValuesArePercentEncoded() throws {
        let url = try APIRoot("http://h").url(["runs", "a b/c?", ".."], query: [("flowName", "x&y=z é")])
        #expect(url == "http://h/api/v1/runs/a%20b%2Fc%3F/%2E%2E?flowName=x%26y%3Dz%20%C3%A9")
    }
}

@Suite struct TimestampTests {
    @Test func rfc3339TimestampsAreRead() throws {
        #expect(Timestamp.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(Timestamp.parse("2025-01-15T10:30:00Z") == Date(timeIntervalSince1970: 1_736_937_000))
        let fraction = try #require(Timestamp.parse("2025-01-15T10:30:00.123456789Z"))
        #expect(abs(fraction.timeIntervalSince1970 - 1_736_937_000.123456789) < 1e-6)
        #expect(Timestamp.parse("2025-01-15T12:30:00+02:00") == Date(timeIntervalSince1970: 1_736_937_000))
        #expect(Timestamp.parse("2024-02-29t00:00:00-00:30") == Date(timeIntervalSince1970: 1_709_166_600))
    }

    @Test(arguments: ["", "2025-01-15", "2025-13-01T00:00:00Z", "2025-01-15T10:30:00", "2025-01-15T10:30:00.Z", "2025-01-15T10:30:00Zjunk"])
    func otherTextIsNoTimestamp(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
