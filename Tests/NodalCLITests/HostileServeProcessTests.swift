import Foundation
import NodalTestSupport
import Testing

/// Issue 14's hostile review of `nodal serve`, at the process level.
@Suite struct HostileServeProcessTests {
    /// Finding (high): a second `nodal serve` on the store file of a running one started, took
    /// over the first one's runs when their leases looked stale, and the first then marked them
    /// FAILED (`LEASE_LOST`) while the second still reported them RUNNING. The second server now
    /// refuses the store in use (74, naming the file) and never listens; once the first is gone,
    /// kill -9 included, the store can be served again.
    @Test func aSecondServerOnTheSameStoreRefusesToStart() async throws {
        let directory = try temporaryDirectory()
        let store = directory + "/serve.db"
        let first = try await ServeProcess(store: store, pluginPaths: [Products.directory])
        let second = Process()
        second.executableURL = URL(fileURLWithPath: Products.nodal)
        second.arguments = ["serve", "--port", "0", "--store", store]
        let errors = Pipe()
        second.standardError = errors
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        // Bounded only so a regression (a second server that serves) fails instead of hanging.
        try await eventually("the second server exits") { !second.isRunning }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 74, "\(text)")
        #expect(text.contains(store) && text.contains("in use by another `nodal serve`"), "\(text)")
        #expect(!text.contains("listening on"), "\(text)")
        // The first one still serves.
        let health = try runProcess("/usr/bin/env", ["curl", "-s", "--max-time", "60", first.url + "/api/v1/health"])
        #expect(health.stdout.contains("healthy"), "\(health.stdout) \(health.stderr)")
        kill(first.process.processIdentifier, SIGKILL)
        first.stop()
        // The kernel dropped the dead server's lock with it.
        let third = try await ServeProcess(store: store, pluginPaths: [Products.directory])
        third.stop()
    }
}
