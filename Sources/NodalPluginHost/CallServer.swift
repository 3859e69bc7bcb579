import NodalCore
import NodalJSON
import CNodal
import CNodalShims
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reads the engine's frames and runs each call on a thread of its own pool, answering with a
/// `result` frame; log lines and progress go back as they happen, under the call's id.
final class CallServer: Sendable {
    private let nodes: [NativeNode]
    private let writer: PluginHostWire.Writer
    nonisolated(unsafe) private let flags: UnsafeMutablePointer<UInt32>
    private let pool: BlockingCallPool
    private let cpuSecondsPerCall: Int?
    /// Calls in flight; a shutdown waits for them.
    private let inFlight = ConditionLock(0)

    init(nodes: [NativeNode], writer: PluginHostWire.Writer, flags: UnsafeMutablePointer<UInt32>, threads: Int, cpuSecondsPerCall: Int?) {
        self.nodes = nodes
        self.writer = writer
        self.flags = flags
        self.cpuSecondsPerCall = cpuSecondsPerCall
        pool = BlockingCallPool(threads: threads)
        pool.start()
    }

    /// Serves until a `shutdown` (then waits for the calls in flight) or until the engine's socket
    /// closes (then there is nobody to answer). Returns the exit status.
    @available(*, noasync)
    func serve(reading reader: consuming PluginHostWire.Reader, forwarder: ReplyRouter) -> Int32 {
        while true {
            let frame: PluginHostWire.Frame
            do {
                frame = try reader.next()
            } catch {
                forwarder.close()
                return 0
            }
            switch frame.kind {
            case .call:
                inFlight.withLock { $0 += 1 }
                pool.submit { [self] in
                    serve(frame)
                    inFlight.withLock { $0 -= 1 }
                    inFlight.broadcast()
                }
            case .extensionReply:
                forwarder.deliver(tag: frame.tag, frame.fields)
            case .shutdown:
                inFlight.withLock(whenReady: { $0 == 0 }) { _ in }
                return 0
            default:
                PluginHost.writeError("nodal plugin-host: the engine sent a \(frame.kind) frame, which only a plugin host sends; exiting\n")
                return 70
            }
        }
    }

    private func serve(_ frame: PluginHostWire.Frame) {
        let call = frame.call
        guard frame.fields.count == 4, let index = frame.int(0), nodes.indices.contains(index),
              let slot = frame.int(1), (0..<PluginHostWire.cancelSlots).contains(slot), let stepID = frame.string(2)
        else {
            let answer = NativeNode.RawAnswer(
                status: NODAL_ERROR, output: nil,
                error: StepError(code: "PLUGIN_HOST_FAILED", message: "the plugin host got a call it cannot read"), refusedOutputBytes: nil)
            writer.send(PluginHostWire.Frame(.result, call: call, answer.wireFields))
            return
        }
        let writer = writer
        let events = EventSink(runID: "", callback: { event in
            switch event.kind {
            case .log(_, let level, let message):
                writer.send(PluginHostWire.Frame(.log, call: call, [Array(level.utf8), Array(message.utf8)]))
            case .progress(_, let fraction, let message):
                var fields: [[UInt8]] = [Array((fraction.map { String($0) } ?? "").utf8)]
                if let message { fields.append(Array(message.utf8)) }
                writer.send(PluginHostWire.Frame(.progress, call: call, fields))
            default:
                break
            }
        }, stream: nil)
        if let seconds = cpuSecondsPerCall, nodal_limit_cpu_from_now(Int64(seconds)) != 0 {
            let answer = NativeNode.RawAnswer(
                status: NODAL_ERROR, output: nil,
                error: StepError(code: "PLUGIN_HOST_FAILED", message: "the plugin host could not set the CPU limit of the call: \(String(cString: strerror(errno)))"),
                refusedOutputBytes: nil)
            writer.send(PluginHostWire.Frame(.result, call: call, answer.wireFields))
            return
        }
        let token = CancellationToken(sharedFlag: flags + slot)
        let answer = nodes[index].invokeHere(input: frame.fields[3], stepID: stepID, cancellation: token, events: events, forwardedCall: call)
            ?? NativeNode.RawAnswer(
                status: NODAL_ERROR, output: nil,
                error: StepError(code: "TOO_MANY_CALLS", message: "the plugin host has no free call slot"), refusedOutputBytes: nil)
        writer.send(PluginHostWire.Frame(.result, call: call, answer.wireFields))
    }
}
