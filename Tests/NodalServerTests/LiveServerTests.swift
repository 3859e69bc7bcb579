import Hummingbird
import Logging
import NodalJSON
import NodalServer
import NodalService
import ServiceLifecycle
import Synchronization
import Testing

/// The application on a real loopback socket (port 0, read back): listening, streaming to a
/// client that hangs up, and shutting down while a stream is open.
@Suite(.timeLimit(.minutes(1))) struct LiveServerTests {
    static let logger = Logger(label: "nodal-server-tests") { _ in SwiftLogNoOpLogHandler() }

    /// Runs the application in a service group, hands `test` the port it listens on, then shuts
    /// it down gracefully and returns once it stopped.
    func withLiveServer(
        _ service: FakeRunAPI, configuration: ServerConfiguration = ServerConfiguration(port: 0),
        _ test: @escaping @Sendable (_ port: Int, _ group: ServiceGroup) async throws -> Void
    ) async throws {
        let (ports, portSink) = AsyncStream.makeStream(of: (String, Int).self)
        let application = try buildApplication(service: service, configuration: configuration, logger: Self.logger) { host, port in
            portSink.yield((host, port))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let (host, port) = await iterator.next() else { throw LoopbackConnection.Failure(description: "never listened") }
            #expect(host == "127.0.0.1")
            #expect(port > 0)
            try await test(port, group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func listensOnAFreePortAndAnswers() async throws {
        let service = FakeRunAPI()
        try await withLiveServer(service) { port, _ in
            let connection = try await LoopbackConnection(port: port)
            defer { connection.close() }
            try await connection.send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            let response = try await connection.read(until: nil)
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.hasSuffix("{\"status\":\"healthy\"}"))
        }
    }

    @Test func aClientThatHangsUpMidStreamEndsItsSubscription() async throws {
        let service = FakeRunAPI(script: [ServiceEvent(sequence: 1, name: "run_created", data: ["sequenceNumber": "1"])], keepStreamsOpen: true)
        // Keepalives are what find the closed connection when no event comes.
        try await withLiveServer(service, configuration: ServerConfiguration(port: 0, eventKeepalive: .milliseconds(20))) { port, _ in
            let connection = try await LoopbackConnection(port: port)
            try await connection.send("GET /api/v1/runs/r1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let head = try await connection.read(until: "event: run_created")
            #expect(head.contains("content-type: text/event-stream") || head.contains("Content-Type: text/event-stream"))
            connection.close()
            await service.waitForTerminatedStreams(1)
            #expect(service.terminatedStreams == 1)
        }
    }

    @Test func shuttingDownEndsOpenStreamsAndStops() async throws {
        let service = FakeRunAPI(script: [ServiceEvent(sequence: 1, name: "run_created", data: ["sequenceNumber": "1"])], keepStreamsOpen: true)
        try await withLiveServer(service) { port, group in
            let connection = try await LoopbackConnection(port: port)
            defer { connection.close() }
            try await connection.send("GET /api/v1/runs/r1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            _ = try await connection.read(until: "event: run_created")
            await group.triggerGracefulShutdown()
            // The stream's last chunk arrives and the server closes the connection.
            let rest = try await connection.read(until: nil)
            #expect(rest.hasSuffix("0\r\n\r\n"))
            await service.waitForTerminatedStreams(1)
        }
    }

    @Test func refusesToListenBeyondLoopbackWithoutAToken() throws {
        let error = #expect(throws: ServerSetupError.self) {
            try buildApplication(service: FakeRunAPI(), configuration: ServerConfiguration(host: "0.0.0.0", port: 0), logger: Self.logger)
        }
        #expect(error?.message.contains("--token-file") == true)
    }
}
