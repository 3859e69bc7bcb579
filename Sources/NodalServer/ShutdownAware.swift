import NodalJSON
import NodalService
import ServiceLifecycle

/// Long answers (a `wait`, an event stream) must not hold up a graceful shutdown: the server stops
/// accepting, waits for the requests it is answering, and only then lets the run service drain.
enum ShutdownAware {
    /// Whether the server this request runs in has begun a graceful shutdown (false outside a
    /// `ServiceGroup`, as in the router tests).
    static var isShuttingDown: Bool { Task.isShuttingDownGracefully }

    /// Runs `operation`, cancelled when a graceful shutdown begins if `cancellingOnShutdown`. A
    /// service that sees its wait cancelled answers with the run as it is; one that throws for it
    /// is answered as 503, the server going away.
    static func run(
        cancellingOnShutdown: Bool, _ operation: @escaping @Sendable () async throws(ServiceError) -> JSON
    ) async throws(ServiceError) -> JSON {
        guard cancellingOnShutdown else { return try await operation() }
        do {
            return try await cancelWhenGracefulShutdown { () async throws -> JSON in try await operation() }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(status: 503, code: "SHUTTING_DOWN", "the server is shutting down; ask again once it is back")
        }
    }

    /// JSON-RPC calls may wait for runs; on shutdown they are cancelled like REST waits.
    static func run(_ rpc: JSONRPC, _ body: [UInt8]) async -> JSON? {
        await cancelWhenGracefulShutdown { () async -> JSON? in await rpc.reply(to: body) }
    }
}
