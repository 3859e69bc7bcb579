import NodalClient
import NodalJSON
import Testing

@Suite struct NodalClientErrorTests {
    @Test func timeoutKeepsTheLastStatus() {
        let error = NodalClientError(.timeout, "run r1 still running after 5 s", lastStatus: ["runId": "r1", "status": "EXECUTION_STATUS_RUNNING"])
        #expect(error.kind == .timeout)
        #expect(error.lastStatus?["status"] == "EXECUTION_STATUS_RUNNING")
    }
}
