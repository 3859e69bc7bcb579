import NodalJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a JSON-lines file (one JSON value per line) incrementally, as batch items.
///
/// The file is read with `read(2)` in chunks; memory stays at one chunk plus the longest line
/// (at most `maximumLineLength`), however long the file. Each non-blank line is one item:
/// a line that is not valid JSON, or longer than `maximumLineLength`, is an item whose input is
/// a `BatchInputError` naming the line, and reading goes on. Blank lines (only whitespace) are
/// skipped but still counted, so line numbers are the file's. `\r\n` endings and a UTF-8 byte
/// order mark at the start are accepted. Only an I/O error ends the sequence with an error.
///
/// The path `-` reads standard input. Reading a pipe blocks the calling thread while it waits.
///
/// Single pass: the reader is its own iterator, and is not `Sendable`; use it from one task.
public final class JSONLinesReader: AsyncSequence, AsyncIteratorProtocol {
    public typealias Element = BatchInput
    public typealias Failure = BatchInputError

    /// Lines longer than this (default 16 MiB) are refused as their item's error.
    public static let defaultMaximumLineLength = 16 << 20

    public let path: String
    public let maximumLineLength: Int
    /// The last line read (1-based); 0 before the first.
    public private(set) var lineNumber = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let chunkSize: Int
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// Unconsumed bytes are buffer[start..<end]; no newline in buffer[start..<scanned].
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var atEnd = false
    /// Dropping the rest of an overlong line until its newline.
    private var skipping = false

    /// Opens the file; throws if it cannot be opened or is a directory.
    public convenience init(path: String, maximumLineLength: Int = JSONLinesReader.defaultMaximumLineLength) throws(BatchInputError) {
        try self.init(path: path, maximumLineLength: maximumLineLength, chunkSize: 1 << 16)
    }

    /// `chunkSize`: bytes asked of each `read(2)` (tests use tiny chunks to cross boundaries).
    init(path: String, maximumLineLength: Int, chunkSize: Int) throws(BatchInputError) {
        self.path = path
        self.maximumLineLength = Swift.max(1, maximumLineLength)
        self.chunkSize = Swift.max(1, chunkSize)
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else { throw BatchInputError(path: path, reason: Self.errnoText()) }
            var info = stat()
            if fstat(opened, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw BatchInputError(path: path, reason: "is a directory, not a JSON-lines file")
            }
            descriptor = opened
            ownsDescriptor = true
        }
        capacity = self.chunkSize
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
        buffer.deallocate()
    }

    public func makeAsyncIterator() -> JSONLinesReader { self }

    /// The next item, or nil at the end of the file. Synchronous: it reads the file directly.
    public func next() throws(BatchInputError) -> BatchInput? {
        while true {
            if let newline = findNewline() {
                let lineStart = start
                start = newline + 1
                scanned = start
                lineNumber += 1
                if skipping {
                    skipping = false
                    return overlong()
                }
                if let item = item(from: lineStart, to: newline) { return item }
                continue
            }
            if atEnd {
                guard start < end || skipping else { return nil }
                let lineStart = start
                let lineEnd = end
                start = end
                scanned = end
                lineNumber += 1
                if skipping {
                    skipping = false
                    return overlong()
                }
                if let item = item(from: lineStart, to: lineEnd) { return item }
                return nil
            }
            try fill()
        }
    }

    private func findNewline() -> Int? {
        guard scanned < end else { return nil }
        guard let found = memchr(buffer + scanned, 0x0A, end - scanned) else {
            scanned = end
            return nil
        }
        return buffer.distance(to: found)
    }

    /// Reads more of the file, making room first: consumed bytes are dropped and the buffer grows
    /// (up to the line limit). A partial line over the limit is dropped and its line skipped.
    private func fill() throws(BatchInputError) {
        if end - start > maximumLineLength {
            skipping = true
            start = 0
            end = 0
            scanned = 0
        }
        if start > 0 {
            let count = end - start
            if count > 0 { memmove(buffer, buffer + start, count) }
            scanned -= start
            end = count
            start = 0
        }
        if capacity - end < Swift.max(1, chunkSize / 2) {
            let newCapacity = Swift.max(capacity * 2, end + chunkSize)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            grown.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        while true {
            let count = read(descriptor, buffer + end, capacity - end)
            if count > 0 {
                end += count
                return
            }
            if count == 0 {
                atEnd = true
                return
            }
            if errno == EINTR { continue }
            throw BatchInputError(path: displayPath, line: lineNumber + 1, reason: "cannot read: \(Self.errnoText())")
        }
    }

    /// The item for buffer[from..<to], or nil for a blank line.
    private func item(from: Int, to: Int) -> BatchInput? {
        var first = from
        if lineNumber == 1, to - from >= 3,
            buffer.load(fromByteOffset: from, as: UInt8.self) == 0xEF,
            buffer.load(fromByteOffset: from + 1, as: UInt8.self) == 0xBB,
            buffer.load(fromByteOffset: from + 2, as: UInt8.self) == 0xBF
        {
            first += 3  // UTF-8 byte order mark
        }
        let bytes = UnsafeRawBufferPointer(start: buffer + first, count: to - first)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        if to - from > maximumLineLength { return overlong() }
        do {
            return BatchInput(try JSON(parsing: bytes), line: lineNumber)
        } catch {
            return BatchInput(error: BatchInputError(
                path: displayPath, line: lineNumber, reason: "invalid JSON at column \(error.offset + 1): \(error.reason)"))
        }
    }

    private func overlong() -> BatchInput {
        BatchInput(error: BatchInputError(
            path: displayPath, line: lineNumber, reason: "the line is longer than \(maximumLineLength) bytes"))
    }

    private var displayPath: String { path == "-" ? "standard input" : path }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
