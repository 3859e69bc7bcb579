import NodalJSON
import CNodal
import Synchronization

/// Sends an extension request of a call to the engine and waits for the reply (in a plugin host,
/// over its socket). Nil when the engine is gone.
package protocol ExtensionForwarder: Sendable {
    @available(*, noasync)
    func forward(call: UInt64, _ request: [[UInt8]]) -> [[UInt8]]?
}

/// In a plugin host, the blobs and runs extensions a plugin gets: each function sends its
/// arguments to the engine, which performs the request with its own tables (`ForwardedRequest`)
/// in the calling step's run, and writes the reply back as the in-process function would. The
/// JSON extension needs no engine and runs in the child as it is.
package enum ForwardingExtensions {
    private static let forwarder = Mutex<(any ExtensionForwarder)?>(nil)

    /// Makes `host->get_extension` in this process hand out the forwarding tables. A plugin host
    /// calls it once, before its first call.
    package static func install(_ forwarder: any ExtensionForwarder) {
        self.forwarder.withLock { $0 = forwarder }
    }

    static var isInstalled: Bool { forwarder.withLock { $0 != nil } }

    /// The request's reply, or nil (the caller answers NODAL_INVALID) when `call` is not in flight,
    /// was not made for the engine, or the engine is gone.
    @available(*, noasync)
    private static func forward(_ call: OpaquePointer?, _ request: [[UInt8]]) -> [[UInt8]]? {
        guard let id = CallTable.withLiveCall(call, { _, context in context.pointee.forwardedCall }), id != 0,
              let forwarder = forwarder.withLock({ $0 })
        else { return nil }
        return forwarder.forward(call: id, request)
    }

    private static func status(_ reply: [[UInt8]]) -> nodal_status {
        reply.first.flatMap { Int32(String(decoding: $0, as: UTF8.self)) } ?? NODAL_INVALID
    }

    /// Keeps `text` in the call's arena and points `*out` at it.
    private static func keep(_ bytes: [UInt8], _ call: OpaquePointer?, into out: UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Bool {
        guard let kept = ExtensionCall.keep(bytes, in: call) else { return false }
        out.pointee = kept.pointer
        return true
    }

    /// The error of a reply ([given, text] at `index`) into `*error`, when asked for.
    private static func setError(_ reply: [[UInt8]], at index: Int, _ call: OpaquePointer?, _ error: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Bool {
        guard let error, reply.count > index + 1, reply[index] == [UInt8(ascii: "1")] else { return true }
        return keep(reply[index + 1], call, into: error)
    }

    nonisolated(unsafe) static let blobs: UnsafeMutablePointer<nodal_blobs> = {
        let table = UnsafeMutablePointer<nodal_blobs>.allocate(capacity: 1)
        table.initialize(to: nodal_blobs())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_blobs>.size)
        // Thread, ownership and returns: as BlobsExtension's (the engine performs them).
        table.pointee.put_json = { call, json, length, type, idOut, error in
            guard let json, let idOut, length >= 0 else { return NODAL_INVALID }
            return put("blobs.put_json", call, UnsafeRawBufferPointer(start: json, count: length), type, idOut, error)
        }
        table.pointee.put_bytes = { call, bytes, length, type, idOut, error in
            guard let bytes, let idOut, length >= 0 else { return NODAL_INVALID }
            return put("blobs.put_bytes", call, UnsafeRawBufferPointer(start: bytes, count: length), type, idOut, error)
        }
        table.pointee.get = { call, id, data, length, type, error in
            guard let id, let data, let length else { return NODAL_INVALID }
            guard let reply = forward(call, ["blobs.get".wireField, Array(String(cString: id).utf8)]), reply.count == 5 else { return NODAL_INVALID }
            let status = status(reply)
            if status == NODAL_OK {
                guard let kept = ExtensionCall.keep(reply[1], in: call) else { return NODAL_INVALID }
                if let type, !keep(reply[2], call, into: type) { return NODAL_INVALID }
                data.pointee = kept.pointer
                length.pointee = kept.count
            } else if !setError(reply, at: 3, call, error) {
                return NODAL_INVALID
            }
            return status
        }
        return table
    }()

    @available(*, noasync)
    private static func put(
        _ function: String, _ call: OpaquePointer?, _ content: UnsafeRawBufferPointer, _ type: UnsafePointer<CChar>?,
        _ idOut: UnsafeMutablePointer<CChar>, _ error: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) -> nodal_status {
        let typeFields: [[UInt8]] = type.map { ["1".wireField, Array(String(cString: $0).utf8)] } ?? ["0".wireField, []]
        guard let reply = forward(call, [function.wireField, Array(content)] + typeFields), reply.count == 4 else { return NODAL_INVALID }
        let status = status(reply)
        if status == NODAL_OK {
            let id = reply[1].prefix(Int(NODAL_BLOB_ID_SIZE) - 1)
            for (index, byte) in id.enumerated() { idOut[index] = CChar(bitPattern: byte) }
            idOut[id.count] = 0
        } else if !setError(reply, at: 2, call, error) {
            return NODAL_INVALID
        }
        return status
    }

    nonisolated(unsafe) static let runs: UnsafeMutablePointer<nodal_runs> = {
        let table = UnsafeMutablePointer<nodal_runs>.allocate(capacity: 1)
        table.initialize(to: nodal_runs())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_runs>.size)
        // Thread, waiting, ownership and returns: as RunsExtension's (the engine performs them and
        // makes up for the waiting thread on its side).
        table.pointee.submit = { call, request, length, reply, replyLength in
            runs("runs.submit", call, request, length, reply, replyLength)
        }
        table.pointee.get = { call, request, length, reply, replyLength in
            runs("runs.get", call, request, length, reply, replyLength)
        }
        table.pointee.cancel = { call, request, length, reply, replyLength in
            runs("runs.cancel", call, request, length, reply, replyLength)
        }
        return table
    }()

    @available(*, noasync)
    private static func runs(
        _ function: String, _ call: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ length: Int,
        _ reply: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ replyLength: UnsafeMutablePointer<Int>?
    ) -> nodal_status {
        guard let request, let reply, let replyLength, length >= 0 else { return NODAL_INVALID }
        let bytes = Array(UnsafeRawBufferPointer(start: request, count: length))
        guard let answer = forward(call, [function.wireField, bytes]), answer.count == 3 else { return NODAL_INVALID }
        if answer[1] == [UInt8(ascii: "1")] {
            guard let kept = ExtensionCall.keep(answer[2], in: call) else { return NODAL_INVALID }
            reply.pointee = kept.pointer
            replyLength.pointee = kept.count
        }
        return status(answer)
    }
}
