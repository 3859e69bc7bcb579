/// One event of a `text/event-stream` body, as the WHATWG HTML standard frames it.
package struct ServerSentEvent: Sendable, Hashable {
    /// The `id` field of this event's own lines (nil when it had none).
    package var id: String?
    /// The `event` field; nil when absent (a browser calls that "message").
    package var name: String?
    /// The `data` lines joined with line feeds.
    package var data: String

    package init(id: String? = nil, name: String? = nil, data: String) {
        self.id = id
        self.name = name
        self.data = data
    }
}

/// Turns the bytes of an event stream into events, however the bytes are cut into chunks.
///
/// Lines end with LF, CR or CRLF (a CR at the end of a chunk waits to see whether LF follows);
/// `:` lines are comments (keep-alives); a blank line ends an event; an event with no `data`
/// line is dropped, as the standard says; an event cut off by the end of the stream is dropped.
/// A line longer than `maximumLineLength` is refused, so a broken server cannot make the client
/// hold an unbounded line.
package struct ServerSentEventParser: Sendable {
    package static let defaultMaximumLineLength = 16 << 20

    private let maximumLineLength: Int
    private var line: [UInt8] = []
    private var afterCR = false
    private var atStart = true
    private var id: String?
    private var name: String?
    private var data: [String] = []
    /// The last `retry` field: the reconnection delay the server asks for, in milliseconds. It
    /// applies at once, whether or not its event has data.
    package private(set) var retryMilliseconds: Int?
    /// Lines read so far (comments included): a stream that sends keep-alives is alive.
    package private(set) var linesRead = 0

    package struct LineTooLong: Error, CustomStringConvertible {
        package var limit: Int
        package var description: String { "an event-stream line is longer than \(limit) bytes" }
    }

    package init(maximumLineLength: Int = ServerSentEventParser.defaultMaximumLineLength) {
        self.maximumLineLength = maximumLineLength
    }

    /// The events that `chunk` completes.
    package mutating func feed(_ chunk: [UInt8]) throws(LineTooLong) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in chunk {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A, 0x0D:
                afterCR = byte == 0x0D
                if let event = endLine() { events.append(event) }
            default:
                guard line.count < maximumLineLength else { throw LineTooLong(limit: maximumLineLength) }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        linesRead += 1
        var bytes = line[...]
        // A byte order mark may open the stream, once.
        if atStart {
            atStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        if bytes.isEmpty { return dispatch() }
        if bytes.first == UInt8(ascii: ":") { return nil }
        let field: String
        let value: ArraySlice<UInt8>
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: bytes[..<colon], as: UTF8.self)
            var rest = bytes[bytes.index(after: colon)...]
            if rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
            value = rest
        } else {
            field = String(decoding: bytes, as: UTF8.self)
            value = bytes[bytes.endIndex...]
        }
        let text = String(decoding: value, as: UTF8.self)
        switch field {
        case "event": name = text
        case "data": data.append(text)
        // An id holding NUL is ignored, as the standard says.
        case "id" where !text.contains("\u{0}"): id = text
        case "retry": if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { retryMilliseconds = Int(text) }
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            id = nil
            name = nil
            data = []
        }
        guard !data.isEmpty else { return nil }
        return ServerSentEvent(id: id, name: name, data: data.joined(separator: "\n"))
    }
}
