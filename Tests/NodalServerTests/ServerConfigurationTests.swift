import NodalServer
import Testing

@Suite struct ServerConfigurationTests {
    @Test func defaultsToLoopbackOnStepflowsPort() {
        let configuration = ServerConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 7837)
        #expect(configuration.isLoopback)
        #expect(configuration.eventKeepalive == .seconds(15))
        #expect(configuration.problem() == nil)
        #expect(!ServerConfiguration(host: "0.0.0.0").isLoopback)
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
    func loopbackHosts(_ host: String) {
        #expect(ServerConfiguration(host: host).isLoopback)
    }

    @Test(arguments: ["0.0.0.0", "::", "192.168.1.5", "127.example.com", "127.0.0.1.example.com", "127.0.0.256", "example.com", ""])
    func otherHostsNeedAToken(_ host: String) {
        let open = ServerConfiguration(host: host)
        #expect(!open.isLoopback)
        #expect(open.problem()?.contains("without a token") == true)
        #expect(ServerConfiguration(host: host, token: "t").problem() == nil)
    }

    @Test func outOfRangeValuesAreNamed() {
        #expect(ServerConfiguration(port: 70000).problem()?.contains("port") == true)
        #expect(ServerConfiguration(maxBodyBytes: 0).problem()?.contains("largest body") == true)
        #expect(ServerConfiguration(token: "").problem()?.contains("empty") == true)
        #expect(ServerConfiguration(eventKeepalive: .zero).problem()?.contains("keepalive") == true)
    }

    @Test func urlsBracketIPv6() {
        #expect(ServerConfiguration.url(host: "127.0.0.1", port: 80) == "http://127.0.0.1:80")
        #expect(ServerConfiguration.url(host: "::1", port: 7837) == "http://[::1]:7837")
    }
}
