package import Hummingbird
package import NodalJSON
package import NodalService

/// Reads a request's JSON body within the configured size, refusing what cannot be a JSON request
/// with a 4xx whose `field` is `body` (or the header at fault).
package enum RequestBodyReader {
    /// The body's bytes; 413 as soon as they pass `limit` (at once when `Content-Length` says so).
    package static func bytes(of request: Request, limit: Int) async throws(ServiceError) -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw tooLarge(limit)
        }
        var bytes: [UInt8] = []
        do {
            for try await buffer in request.body {
                if bytes.count + buffer.readableBytes > limit { throw tooLarge(limit) }
                bytes.append(contentsOf: buffer.readableBytesView)
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(status: 400, code: "BODY_UNREADABLE", "the request body could not be read: \(error)", field: "body")
        }
        return bytes
    }

    /// The body as JSON: a `Content-Type` other than JSON is 415, an empty or malformed body 400
    /// (with the line and column where reading stopped).
    package static func json(of request: Request, limit: Int) async throws(ServiceError) -> JSON {
        try checkContentType(request)
        let bytes = try await bytes(of: request, limit: limit)
        return try parse(bytes)
    }

    /// The body as a JSON object, as every operation with a body takes.
    package static func object(of request: Request, limit: Int) async throws(ServiceError) -> JSON {
        let value = try await json(of: request, limit: limit)
        guard case .object = value else {
            throw ServiceError(status: 400, code: "INVALID_BODY", "the request body must be a JSON object, not \(value.typeName)", field: "body")
        }
        return value
    }

    /// A missing `Content-Type` is read as JSON (the body is parsed anyway); one naming another
    /// type is refused, since the client meant something else.
    package static func checkContentType(_ request: Request) throws(ServiceError) {
        guard let contentType = request.headers[.contentType] else { return }
        if contentType == "application/json" { return }  // what nearly every client sends
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            throw ServiceError(
                status: 415, code: "UNSUPPORTED_MEDIA_TYPE",
                "the request body must be JSON (Content-Type: application/json), not \(contentType)", field: "Content-Type")
        }
    }

    package static func parse(_ bytes: [UInt8]) throws(ServiceError) -> JSON {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw ServiceError(status: 400, code: "INVALID_JSON", "the request needs a JSON body; this one is empty", field: "body")
        }
        do {
            return try JSON(parsing: bytes)
        } catch {
            throw ServiceError(status: 400, code: "INVALID_JSON", "the request body is not valid JSON: \(describe(error, in: bytes))", field: "body")
        }
    }

    /// `<reason> at line L, column C` (both from 1; the column counts characters, not bytes).
    package static func describe(_ error: JSONParseError, in bytes: [UInt8]) -> String {
        let offset = min(max(error.offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        // UTF-8 continuation bytes (10xxxxxx) do not start a character.
        let column = 1 + bytes[lineStart..<offset].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        return "\(error.reason) at line \(line), column \(column)"
    }

    static func tooLarge(_ limit: Int) -> ServiceError {
        ServiceError(status: 413, code: "BODY_TOO_LARGE", "the request body is larger than this server accepts (\(limit) bytes, set with --max-body-bytes)", field: "body")
    }
}

extension Substring {
    /// On the UTF-8 bytes: spaces and tabs are single bytes, and walking Characters (grapheme
    /// breaking, twice, reversed) cost 3% of a request under load.
    func trimmingSpaces() -> String {
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = utf8.firstIndex(where: { !isBlank($0) }), let last = utf8.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}
