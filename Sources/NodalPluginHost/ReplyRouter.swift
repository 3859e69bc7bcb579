import NodalCore
import Synchronization

/// Sends a call's extension requests to the engine and hands each reply to the thread waiting for
/// it (the reader thread delivers them; any number of calls may wait at once).
final class ReplyRouter: ExtensionForwarder {
    private let writer: PluginHostWire.Writer
    private let nextTag = Atomic<UInt32>(1)
    private let waiting = Mutex<[UInt32: ReplyBox]>([:])
    /// Set once the engine's socket closed: waits end with no reply.
    private let closed = Atomic<Bool>(false)

    init(writer: PluginHostWire.Writer) { self.writer = writer }

    @available(*, noasync)
    func forward(call: UInt64, _ request: [[UInt8]]) -> [[UInt8]]? {
        let tag = nextTag.add(1, ordering: .relaxed).oldValue
        let box = ReplyBox()
        waiting.withLock { $0[tag] = box }
        defer { _ = waiting.withLock { $0.removeValue(forKey: tag) } }
        guard !closed.load(ordering: .acquiring), writer.send(PluginHostWire.Frame(.extensionRequest, call: call, tag: tag, request)) else {
            return nil
        }
        return box.wait()
    }

    func deliver(tag: UInt32, _ fields: [[UInt8]]) {
        waiting.withLock { $0[tag] }?.fill(fields)
    }

    /// The engine is gone: every wait ends without a reply.
    func close() {
        closed.store(true, ordering: .releasing)
        for box in waiting.withLock({ Array($0.values) }) { box.fill(nil) }
    }
}

/// One reply, waited for by one thread.
final class ReplyBox: Sendable {
    private let reply = ConditionLock<(filled: Bool, fields: [[UInt8]]?)>((false, nil))

    func fill(_ fields: [[UInt8]]?) {
        reply.withLock { if !$0.filled { $0 = (true, fields) } }
        reply.broadcast()
    }

    @available(*, noasync)
    func wait() -> [[UInt8]]? { reply.withLock(whenReady: { $0.filled }) { $0.fields } }
}
