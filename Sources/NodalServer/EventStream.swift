package import Hummingbird
import NodalJSON
package import NodalService
import ServiceLifecycle
import Synchronization

/// A run's events as server-sent events: each as `id:`, `event:` and `data:` lines and a blank
/// line, with a `: keepalive` comment after every `keepalive` of silence. The response ends when
/// the service's stream does, when the server shuts down, or when the client goes away (its
/// next write fails), and ending it stops the subscription.
package enum EventStream {
    static func response(_ events: AsyncStream<ServiceEvent>, keepalive: Duration, clock: any Clock<Duration>) -> Response {
        var headers: HTTPFields = [:]
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        // nginx buffers responses unless told not to, which would hold events back.
        headers[.accelBuffering] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await write(events, to: &writer, keepalive: keepalive, clock: clock)
            try await writer.finish(nil)
        })
    }

    package enum Frame: Sendable {
        case event(ServiceEvent)
        case keepalive
    }

    package static func write<C: Clock<Duration>>(
        _ events: AsyncStream<ServiceEvent>, to writer: inout any ResponseBodyWriter, keepalive: Duration, clock: C
    ) async throws {
        let (frames, sink) = AsyncStream.makeStream(of: Frame.self)
        let lastWrite = Box(Mutex(clock.now))
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events { sink.yield(.event(event)) }
                    sink.finish()
                }
                group.addTask {
                    // Sleeps until `keepalive` after the last write; a write in between moves the
                    // deadline, so only silence produces a comment.
                    while !Task.isCancelled {
                        let deadline = lastWrite.value.withLock { $0 }.advanced(by: keepalive)
                        do { try await clock.sleep(until: deadline, tolerance: nil) } catch { return }
                        let due = lastWrite.value.withLock { last in
                            guard clock.now >= last.advanced(by: keepalive) else { return false }
                            last = clock.now
                            return true
                        }
                        if due { sink.yield(.keepalive) }
                    }
                }
                for await frame in frames {
                    try await writer.write(ByteBuffer(string: text(of: frame)))
                    lastWrite.value.withLock { $0 = clock.now }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            sink.finish()
        }
    }

    /// One frame as the wire has it. Event names are the service's own words; a line break in
    /// one would end the frame early, so they are dropped.
    package static func text(of frame: Frame) -> String {
        switch frame {
        case .keepalive:
            return ": keepalive\n\n"
        case .event(let event):
            let name = event.name.filter { $0 != "\n" && $0 != "\r" }
            return "id: \(event.sequence)\nevent: \(name)\ndata: \(event.serializedData)\n\n"
        }
    }
}

/// Shares a lock between the writer and the keepalive task (a `Mutex` cannot be captured by
/// concurrent closures on its own).
private final class Box<Value: ~Copyable & Sendable>: Sendable {
    let value: Value
    init(_ value: consuming Value) { self.value = value }
}
