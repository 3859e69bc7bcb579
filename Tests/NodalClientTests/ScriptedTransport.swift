@testable import NodalClient
import NodalJSON
import Synchronization

/// A transport that answers from the test's closures and records what it was sent: for the
/// client's logic (URLs, waits, reconnections) without a server.
final class ScriptedTransport: ClientTransport {
    typealias Answer = @Sendable (_ request: TransportRequest, _ index: Int) async throws -> TransportResponse
    typealias StreamAnswer = @Sendable (_ request: TransportRequest, _ index: Int) async throws -> TransportStream

    private let answer: Answer
    private let streamAnswer: StreamAnswer
    private let sent = Mutex<[TransportRequest]>([])
    private let streamed = Mutex<[TransportRequest]>([])

    init(
        answer: @escaping Answer = { request, _ in throw TestFailure("no answer scripted for \(request.method) \(request.url)") },
        stream: @escaping StreamAnswer = { request, _ in throw TestFailure("no stream scripted for \(request.url)") }
    ) {
        self.answer = answer
        self.streamAnswer = stream
    }

    var requests: [TransportRequest] { sent.withLock { $0 } }
    var streamRequests: [TransportRequest] { streamed.withLock { $0 } }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let index = sent.withLock { sent in
            sent.append(request)
            return sent.count - 1
        }
        return try await answer(request, index)
    }

    func stream(_ request: TransportRequest) async throws -> TransportStream {
        let index = streamed.withLock { streamed in
            streamed.append(request)
            return streamed.count - 1
        }
        return try await streamAnswer(request, index)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension TransportResponse {
    static func json(_ json: JSON, status: Int = 200) -> TransportResponse {
        TransportResponse(status: status, body: json.serializedBytes())
    }
}

extension TransportStream {
    /// A 200 stream that sends `chunks` and then ends, or fails with `error` if one is given.
    static func sending(_ chunks: [String], thenFailing error: (any Error)? = nil) -> TransportStream {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        for chunk in chunks { continuation.yield(Array(chunk.utf8)) }
        continuation.finish(throwing: error)
        return TransportStream(status: 200, chunks: stream)
    }
}

/// A summary as the REST API writes it.
func summaryJSON(_ id: String, _ status: String, total: Int = 1, completed: Int = 0) -> JSON {
    [
        "runId": .string(id), "flowId": "f", "flowName": "demo", "status": .string("EXECUTION_STATUS_" + status),
        "items": ["total": .int(total), "completed": .int(completed)], "createdAt": "2025-01-15T10:30:00Z",
    ]
}

/// The SSE framing of one journal event.
func frame(_ sequence: Int, _ name: String, _ payload: JSON) -> String {
    var camel = ""
    var upper = false
    for character in name {
        if character == "_" { upper = true; continue }
        camel += upper ? character.uppercased() : String(character)
        upper = false
    }
    let data: JSON = ["sequenceNumber": .string(String(sequence)), "timestamp": "2025-01-15T10:30:00Z", camel: payload]
    return "id: \(sequence)\nevent: \(name)\ndata: \(data.serialized())\n\n"
}
