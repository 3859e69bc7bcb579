#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the host hands a plugin during one call and keeps until the call ends (the extensions'
/// documents, strings, replies and blob contents): the header's "owned by the host, valid until
/// the invoke returns; then the host frees all of it at once".
///
/// One per call, made on first use and dropped by `CallTable.finish`, which frees everything.
/// `@unchecked Sendable`: it lives in the call's `CallState` and is only touched under the call
/// slot's lock (through `CallTable.withLiveCall`), so one thread at a time.
final class CallArena: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawPointer] = []
    /// Objects that must live as long as the call: an extension's documents and writers.
    var objects: [AnyObject] = []

    /// A NUL-terminated copy of `bytes` that stays put until the call ends, and its length
    /// (without the terminator).
    func keep(_ bytes: some Collection<UInt8>) -> (pointer: UnsafePointer<CChar>, count: Int) {
        let count = bytes.count
        let memory = malloc(count + 1)!
        let buffer = UnsafeMutableRawBufferPointer(start: memory, count: count + 1)
        buffer.copyBytes(from: bytes)
        buffer[count] = 0
        buffers.append(memory)
        return (UnsafePointer(memory.assumingMemoryBound(to: CChar.self)), count)
    }

    /// `keep` for a string's UTF-8.
    func keep(_ text: String) -> (pointer: UnsafePointer<CChar>, count: Int) { keep(text.utf8) }

    deinit {
        for buffer in buffers { free(buffer) }
    }
}
