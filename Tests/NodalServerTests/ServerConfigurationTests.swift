import NodalServer
import Testing

@Suite struct ServerConfigurationTests {
    @Test func defaultsToLoopbackOnStepflowsPort() {
        let configuration = ServerConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 7837)
        #expect(configuration.isLoopback)
        #expect(!ServerConfiguration(host: "0.0.0.0").isLoopback)
    }
}
