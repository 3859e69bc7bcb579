import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for what an HTTP test client hides: reading a response
/// as it streams, and hanging up in the middle of one. Blocking calls run on a Dispatch thread,
/// never on the cooperative pool the server's handlers need.
final class LoopbackConnection: Sendable {
    let descriptor: Int32

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(port: Int) async throws {
        descriptor = try await Self.blocking {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else {
                Glibc.close(descriptor)
                throw Failure(description: "connect to port \(port): errno \(errno)")
            }
            return descriptor
        }
    }

    func send(_ text: String) async throws {
        let descriptor = descriptor
        try await Self.blocking {
            var bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeMutableBytes { Glibc.send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw Failure(description: "send: errno \(errno)") }
                sent += count
            }
        }
    }

    /// Reads until `marker` has arrived (returning everything read), or until the server closes
    /// the connection when `marker` is nil.
    func read(until marker: String?) async throws -> String {
        let descriptor = descriptor
        return try await Self.blocking {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if let marker, String(decoding: received, as: UTF8.self).contains(marker) { break }
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count == 0 {
                    if marker == nil { break }
                    throw Failure(description: "the server closed the connection before '\(marker!)'; got: \(String(decoding: received, as: UTF8.self))")
                }
                guard count > 0 else { throw Failure(description: "recv: errno \(errno)") }
                received.append(contentsOf: buffer[0..<count])
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    func close() { _ = Glibc.close(descriptor) }

    private static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
