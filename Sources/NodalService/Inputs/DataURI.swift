import NodalJSON

/// A `data:` URI (RFC 2397): `data:[<media type>][;base64],<data>`, the data base64 or
/// percent-encoded. A file input written this way carries its bytes in the request.
struct DataURI: Equatable {
    /// The media type with its parameters as written (`text/plain;charset=utf-8`), `text/plain`
    /// (with the parameters, if any) when the URI names none.
    var mediaType: String
    var bytes: [UInt8]

    /// Reads `uri` (which starts with `data:`, in any case), refusing more than `maxBytes` decoded
    /// bytes; the error says what is wrong, as the end of a sentence about the URI.
    static func parse(_ uri: String, maxBytes: Int) -> Result<DataURI, Problem> {
        let rest = uri.dropFirst(5)
        // Found by bytes: a megabytes-long URI without a comma is refused at once.
        guard let comma = rest.utf8.firstIndex(of: UInt8(ascii: ",")) else { return .failure(.missingComma) }
        var parameters = rest[..<comma].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var base64 = false
        if parameters.count > 1, let last = parameters.last, !last.contains("=") {
            guard last.lowercased() == "base64" else { return .failure(.unknownEncoding(last)) }
            base64 = true
            parameters.removeLast()
        }
        let type = parameters[0]
        if !type.isEmpty, !isMediaType(type) { return .failure(.badMediaType(type)) }
        for parameter in parameters.dropFirst() where !isParameter(parameter) {
            return .failure(.badParameter(parameter))
        }
        let mediaType = ([type.isEmpty ? "text/plain" : type] + parameters.dropFirst()).joined(separator: ";")

        var payload = String(rest[rest.index(after: comma)...])
        return payload.withUTF8 { payload in
            // Base64 has no '%': such a payload is decoded as it is, unless some writer escaped
            // characters in it ('+', '/' as %2B, %2F), which are unescaped first.
            guard payload.contains(UInt8(ascii: "%")) else { return decode(payload, base64: base64, mediaType: mediaType, maxBytes: maxBytes) }
            switch PercentEncoding.decode(payload) {
            case .success(let bytes): return bytes.withUnsafeBufferPointer { decode($0, base64: base64, mediaType: mediaType, maxBytes: maxBytes) }
            case .failure(let bad): return .failure(.badEscape(bad.position))
            }
        }
    }

    private static func decode(_ data: UnsafeBufferPointer<UInt8>, base64: Bool, mediaType: String, maxBytes: Int) -> Result<DataURI, Problem> {
        guard base64 else {
            guard data.count <= maxBytes else { return .failure(.tooLarge(maxBytes)) }
            return .success(DataURI(mediaType: mediaType, bytes: Array(data)))
        }
        // Checked before decoding, so an oversized payload is never decoded.
        if data.count / 4 * 3 - 2 > maxBytes { return .failure(.tooLarge(maxBytes)) }
        switch Base64.decode(data) {
        case .success(let bytes):
            guard bytes.count <= maxBytes else { return .failure(.tooLarge(maxBytes)) }
            return .success(DataURI(mediaType: mediaType, bytes: bytes))
        case .failure(let problem):
            return .failure(.base64(problem))
        }
    }

    enum Problem: Error, Equatable, CustomStringConvertible {
        case missingComma
        case unknownEncoding(String)
        case badMediaType(String)
        case badParameter(String)
        case badEscape(Int)
        case base64(Base64.DecodingProblem)
        case tooLarge(Int)

        var description: String {
            switch self {
            case .missingComma:
                "has no ',' before its data (a data: URI is data:[<type>][;base64],<data>)"
            case .unknownEncoding(let name):
                "names the encoding '\(name.prefix(40))', which is not one a data: URI has (only ';base64', or none for percent-encoded data)"
            case .badMediaType(let type):
                "has '\(type.prefix(80))' where its media type goes (a type/subtype such as application/pdf)"
            case .badParameter(let parameter):
                "has the parameter '\(parameter.prefix(80))', which is not name=value"
            case .badEscape(let position):
                "has a '%' at position \(position) of its data that is not followed by two hex digits"
            case .base64(let problem):
                problem.description
            case .tooLarge(let limit):
                "holds more than \(limit) bytes, the most a file input may have on this server"
            }
        }
    }

    private static func isToken(_ text: Substring) -> Bool {
        // RFC 2045 token characters: printable ASCII but space and tspecials.
        !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && !"()<>@,;:\\\"/[]?=".utf8.contains($0) }
    }

    private static func isMediaType(_ text: String) -> Bool {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 && isToken(parts[0]) && isToken(parts[1])
    }

    private static func isParameter(_ text: String) -> Bool {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 && isToken(parts[0]) && !parts[1].isEmpty
    }
}
