import NodalServer
import NodalService
import Testing

/// Query parameters as the spec types them.
@Suite struct QueryParameterTests {
    /// schemathesis sent `since=51776156799735118968` (schema: digits): past the largest sequence
    /// number it reads as the largest ("only later events"), not as a 400.
    @Test func digitsPastUInt64ReadAsTheLargest() throws {
        #expect(try QueryParameters("since=51776156799735118968").uint64("since") == UInt64.max)
        #expect(try QueryParameters("since=18446744073709551615").uint64("since") == UInt64.max)
        #expect(try QueryParameters("since=42").uint64("since") == 42)
        #expect(throws: ServiceError.self) { try QueryParameters("since=-1").uint64("since") }
        #expect(throws: ServiceError.self) { try QueryParameters("since=1e5").uint64("since") }
    }
}
