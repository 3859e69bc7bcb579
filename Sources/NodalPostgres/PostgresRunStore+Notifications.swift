package import NodalCore
import Logging
import Synchronization
import PostgresNIO

// LISTEN on a connection of its own (a pooled connection goes back to the pool between calls and
// cannot hold a LISTEN), reconnected after it drops.

extension PostgresRunStore {
    /// How long the listener waits before connecting again after its connection failed.
    static let listenerRetryDelay: Duration = .milliseconds(500)

    package func workNotifications() -> AsyncStream<WorkNotification> {
        let (stream, continuation) = AsyncStream.makeStream(of: WorkNotification.self, bufferingPolicy: .bufferingNewest(4096))
        let key = nextListener.add(1, ordering: .relaxed).newValue
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try Self.connectionConfiguration(location, tls: Self.tls(location))
        } catch {
            logger.error("cannot listen for work notifications: \(error)")
            continuation.finish()
            return stream
        }
        let logger = logger
        let task = Task { [weak self] in
            var connected = false
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(configuration: configuration, id: key, logger: logger)
                    do {
                        try await connection.listen(on: Self.workChannel) { notifications in
                            // Anything sent while no connection listened is lost: say so, so every
                            // listener looks again.
                            if connected { continuation.yield(.reconnected) }
                            connected = true
                            for try await notification in notifications {
                                if let parsed = WorkNotification(payload: notification.payload) { continuation.yield(parsed) }
                            }
                        }
                    } catch {
                        logger.debug("work notifications: the listening connection failed: \(error)")
                    }
                    try? await connection.close()
                } catch {
                    logger.debug("work notifications: cannot connect: \(error)")
                }
                try? await Task.sleep(for: Self.listenerRetryDelay)
            }
            continuation.finish()
            _ = self?.listeners.withLock { $0.removeValue(forKey: key) }
        }
        listeners.withLock { $0[key] = task }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
