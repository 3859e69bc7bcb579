import FoundationEssentials
import Hummingbird
import NodalJSON
import NodalService

extension ServerRoutes {
    /// `POST /blobs` and `GET /blobs/{blobId}`; the latter answers raw bytes to a client that
    /// prefers `application/octet-stream` (Stepflow's content negotiation).
    static func blobs(_ service: any RunAPI) -> [ServerRoute] {
        [
            ServerRoute(.post, "/blobs") { request async throws(ServiceError) in
                .json(try await service.putBlob(try await request.object()))
            },
            ServerRoute(.get, "/blobs/{blobId}") { request async throws(ServiceError) in
                let blob = try await service.blob(id: request.path("blobId"))
                guard AcceptHeader.prefersOctetStream(request.request.headers[.accept]) else { return .json(blob) }
                return try rawBlob(blob)
            },
        ]
    }

    /// A binary blob's bytes under its own content type (and `X-Blob-Filename`); a JSON blob's
    /// data as JSON text, which is its content.
    static func rawBlob(_ blob: JSON) throws(ServiceError) -> Response {
        var headers: HTTPFields = [:]
        if let filename = blob["filename"]?.stringValue, !filename.contains(where: { $0.isNewline }) {
            headers[.blobFilename] = filename
        }
        if case .string(let encoded)? = blob["rawData"] {
            guard let data = Data(base64Encoded: encoded) else {
                throw ServiceError(status: 500, code: "INTERNAL", "the stored blob's rawData is not base64")
            }
            headers[.contentType] = blob["contentType"]?.stringValue ?? "application/octet-stream"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        return .json(blob["jsonData"] ?? .null, headers: headers)
    }
}

/// Which of JSON and raw bytes an `Accept` header asks for, by quality (`q=`); a tie, `*/*` or
/// no header is JSON.
enum AcceptHeader {
    static func prefersOctetStream(_ accept: String?) -> Bool {
        guard let accept else { return false }
        var json = 0.0
        var octets = 0.0
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingSpaces().lowercased() }
            guard let type = parts.first else { continue }
            let quality = parts.dropFirst().compactMap { $0.hasPrefix("q=") ? Double($0.dropFirst(2)) : nil }.first ?? 1
            switch type {
            case "application/json": json = max(json, quality)
            case "application/octet-stream": octets = max(octets, quality)
            case "application/*", "*/*":
                json = max(json, quality)
                octets = max(octets, quality)
            default: continue
            }
        }
        return octets > json
    }
}
