import NodalServer
import NodalService
import Testing

/// Query parameters as the spec types them.
@Suite struct QueryParameterTests {
    /// schemathesis sent `since=51776156799735118968` (the document then allowed any digits) and
    /// got a 400 the document did not allow. The server refuses numbers past UInt64 (as
    /// HostileServeTests wants); the document now says `maxLength: 19`, the events route refuses longer ones (even
    /// 20 digits that would fit), and every value the document allows is taken.
    @Test func everySinceTheDocumentAllowsIsTaken() throws {
        #expect(try QueryParameters("since=9999999999999999999").uint64("since") == 9_999_999_999_999_999_999)
        #expect(try QueryParameters("since=0").uint64("since") == 0)
        #expect(throws: ServiceError.self) { try QueryParameters("since=51776156799735118968").uint64("since") }
    }
}
