import NodalJSON
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The framed protocol between the engine and a plugin host (`nodal plugin-host`), over a
/// socketpair the child has as file descriptor 3.
///
/// A frame is: a 4-byte little-endian length of what follows, one byte of ``Kind``, the call it is
/// about (8 bytes, 0 for none), a tag (4 bytes: the extension request a reply answers), then fields,
/// each a 4-byte length and that many bytes. JSON travels as bytes, never re-encoded: a node's
/// input and output cross as the very bytes the plugin read and wrote.
package enum PluginHostWire {
    /// Cancel flags per child: one 32-bit word each, in shared memory (file descriptor 4). A child
    /// never has more calls in flight than this.
    package static let cancelSlots = ProcessIsolation.maximumCallsPerChild

    package enum Kind: UInt8, Sendable {
        // Engine to host.
        /// Call a node: [node index, cancel slot, step id, input].
        case call = 1
        /// The answer to an extension request: [status, results...].
        case extensionReply = 2
        /// Finish what is in flight and exit.
        case shutdown = 3
        // Host to engine.
        /// The plugin loaded: [description JSON]; or it did not: [reason] with `loadFailed`.
        case ready = 10
        case loadFailed = 11
        /// A call's answer: [status, output (absent: no field), error JSON, refused output size].
        case result = 12
        /// A `log` of a call: [level, message].
        case log = 13
        /// A `report_progress` of a call: [fraction or "", message or absent].
        case progress = 14
        /// An extension function of a call, for the engine to perform: [function, arguments...].
        case extensionRequest = 15
    }

    /// A frame's header and fields. Fields are byte strings; numbers travel as decimal text, which
    /// keeps the format readable in a hex dump and free of byte-order questions.
    package struct Frame: Sendable {
        package var kind: Kind
        package var call: UInt64
        package var tag: UInt32
        package var fields: [[UInt8]]

        package init(_ kind: Kind, call: UInt64 = 0, tag: UInt32 = 0, _ fields: [[UInt8]] = []) {
            self.kind = kind
            self.call = call
            self.tag = tag
            self.fields = fields
        }

        package func string(_ index: Int) -> String? {
            index < fields.count ? String(decoding: fields[index], as: UTF8.self) : nil
        }

        package func int(_ index: Int) -> Int? { string(index).flatMap { Int($0) } }

        /// The bytes on the wire.
        package var encoded: [UInt8] {
            var body: [UInt8] = []
            body.reserveCapacity(13 + fields.reduce(0) { $0 + 4 + $1.count })
            body.append(kind.rawValue)
            append(call, bytes: 8, to: &body)
            append(UInt64(tag), bytes: 4, to: &body)
            for field in fields {
                append(UInt64(field.count), bytes: 4, to: &body)
                body.append(contentsOf: field)
            }
            var frame: [UInt8] = []
            frame.reserveCapacity(4 + body.count)
            append(UInt64(body.count), bytes: 4, to: &frame)
            frame.append(contentsOf: body)
            return frame
        }

        /// Reads a frame's body (what follows its length). Nil when it is malformed.
        package init?(body: UnsafeRawBufferPointer) {
            guard body.count >= 13, let kind = Kind(rawValue: body[0]) else { return nil }
            self.kind = kind
            call = Self.number(body, at: 1, bytes: 8)
            tag = UInt32(Self.number(body, at: 9, bytes: 4))
            fields = []
            var offset = 13
            while offset < body.count {
                guard body.count - offset >= 4 else { return nil }
                let length = Int(Self.number(body, at: offset, bytes: 4))
                offset += 4
                guard body.count - offset >= length else { return nil }
                fields.append(Array(body[offset..<offset + length]))
                offset += length
            }
        }

        private static func number(_ bytes: UnsafeRawBufferPointer, at offset: Int, bytes count: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<count { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            return value
        }

        private func append(_ value: UInt64, bytes count: Int, to buffer: inout [UInt8]) {
            for index in 0..<count { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
        }
    }

    /// Why a connection ended.
    package enum ReadFailure: Error, Sendable {
        /// The other side closed it (or died).
        case closed
        /// A frame longer than allowed, or one that does not parse: the peer is not to be trusted.
        case malformed(String)
        case system(String)
    }

    /// Writes whole frames to a socket. Frames from several threads never interleave.
    package final class Writer: Sendable {
        let descriptor: Int32
        private let lock = ConditionLock(())

        package init(descriptor: Int32) { self.descriptor = descriptor }

        /// False when the peer is gone. Never raises SIGPIPE.
        @discardableResult
        package func send(_ frame: Frame) -> Bool {
            let bytes = frame.encoded
            return lock.withLock { _ in
                bytes.withUnsafeBytes { buffer -> Bool in
                    var offset = 0
                    while offset < buffer.count {
                        #if os(Linux)
                        let flags = Int32(MSG_NOSIGNAL)
                        #else
                        let flags: Int32 = 0
                        #endif
                        let written = Glibc.send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, flags)
                        if written < 0 {
                            if errno == EINTR { continue }
                            return false
                        }
                        offset += written
                    }
                    return true
                }
            }
        }
    }

    /// Reads frames from a socket, one thread at a time.
    package struct Reader: ~Copyable {
        let descriptor: Int32
        /// The longest frame body accepted: a peer that announces more is cut off.
        let maximumFrameBytes: Int
        /// Bytes `start..<end` are read and not yet taken; the rest is room for the next read.
        private var buffer = [UInt8](repeating: 0, count: 65_536)
        private var start = 0
        private var end = 0

        package init(descriptor: Int32, maximumFrameBytes: Int) {
            self.descriptor = descriptor
            self.maximumFrameBytes = maximumFrameBytes
        }

        /// The next frame; blocks the calling thread.
        package mutating func next() throws(ReadFailure) -> Frame {
            try fill(4)
            let length = Int(buffer[start]) | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2]) << 16 | Int(buffer[start + 3]) << 24
            guard length <= maximumFrameBytes else {
                throw .malformed("a frame of \(length) bytes, more than the \(maximumFrameBytes) allowed")
            }
            try fill(4 + length)
            let bodyStart = start + 4
            let frame = buffer.withUnsafeBytes { Frame(body: UnsafeRawBufferPointer(rebasing: $0[bodyStart..<bodyStart + length])) }
            start = bodyStart + length
            if start == end {
                start = 0
                end = 0
                // A large frame (an output, a blob) does not keep its buffer for the child's life.
                if buffer.count > 1 << 20 { buffer = [UInt8](repeating: 0, count: 65_536) }
            }
            guard let frame else { throw .malformed("a frame that does not parse") }
            return frame
        }

        /// Reads until `count` bytes from `start` are buffered, in as few reads as the peer allows.
        private mutating func fill(_ count: Int) throws(ReadFailure) {
            if end - start >= count { return }
            if buffer.count - start < count {
                // Move what is there to the front, and grow when the frame is larger than the room.
                let pending = end - start
                if start > 0 {
                    buffer.withUnsafeMutableBytes { bytes in
                        guard let base = bytes.baseAddress else { return }
                        memmove(base, base + start, pending)
                    }
                    start = 0
                    end = pending
                }
                if buffer.count < count { buffer += [UInt8](repeating: 0, count: count - buffer.count) }
            }
            while end - start < count {
                let room = buffer.count - end
                let read = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + end, room) }
                if read > 0 {
                    end += read
                    continue
                }
                if read == 0 { throw .closed }
                if errno == EINTR { continue }
                throw .system(FileSystem.errnoText())
            }
        }
    }
}

extension Int {
    /// Decimal text, as wire fields carry numbers.
    var wireField: [UInt8] { Array(String(self).utf8) }
}

extension String {
    var wireField: [UInt8] { Array(utf8) }
}
