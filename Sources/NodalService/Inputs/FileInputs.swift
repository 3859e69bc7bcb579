import NodalCore
import NodalJSON

/// Turns the file inputs of an item's body into blobs the steps can read. A file input is any
/// object, at any depth, with a `file_metadata` object whose `uri` is a string (the Noxus SDK's
/// shape); what becomes of it depends on the URI's scheme:
///
/// - `data:`: decoded and stored as a bytes blob of the URI's media type;
/// - `file:`: read and stored likewise, only under the server's `--allow-files` folders;
/// - `nodal-blob:<id>`: a blob already in the store (`POST /blobs`), checked to exist;
/// - a scheme in `--allow-uri-scheme`: left as it is, for the step to fetch;
/// - anything else: refused.
///
/// A stored file becomes `{file_metadata: {...as sent, uri: "nodal-blob:<id>"}, blobId, contentType,
/// size}` (the object's other keys kept), so the step reads the bytes through the blobs extension.
struct FileInputs {
    let grants: InputGrants
    let store: any RunStore
    let maxFileBytes: Int
    let maxFiles: Int
    /// Files stored or checked so far in this item, bounded by `maxFiles`: a small body of many
    /// `file:` URIs must not make the server read gigabytes.
    private(set) var count = 0

    /// Deeper than this the body is refused: values built in code are not bounded by the parser.
    static let maximumDepth = 512

    init(grants: InputGrants, store: any RunStore, maxFileBytes: Int, maxFiles: Int) {
        self.grants = grants
        self.store = store
        self.maxFileBytes = maxFileBytes
        self.maxFiles = maxFiles
    }

    /// `value` with every file input in it resolved; `path` names `value` in errors.
    mutating func resolving(_ value: JSON, at path: String, depth: Int = 0) async throws(ServiceError) -> JSON {
        guard depth < Self.maximumDepth else {
            throw .invalidInput(path, "the value is nested more than \(Self.maximumDepth) levels deep")
        }
        switch value {
        case .array(let elements):
            var resolved: [JSON] = []
            resolved.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                resolved.append(try await resolving(element, at: InputPath.appending(index: index, to: path), depth: depth + 1))
            }
            return .array(resolved)
        case .object(let object):
            if let metadata = object["file_metadata"] {
                return try await file(object, metadata: metadata, at: path)
            }
            var resolved = JSONObject()
            resolved.reserveCapacity(object.count)
            for (key, element) in object {
                resolved.appendUnchecked(key, try await resolving(element, at: InputPath.appending(key, to: path), depth: depth + 1))
            }
            return .object(resolved)
        default:
            return value
        }
    }

    private mutating func file(_ object: JSONObject, metadata: JSON, at path: String) async throws(ServiceError) -> JSON {
        let metadataPath = InputPath.appending("file_metadata", to: path)
        let uriPath = InputPath.appending("uri", to: metadataPath)
        guard case .object(var fields) = metadata else {
            throw .invalidInput(metadataPath, "'file_metadata' must be an object with a 'uri', not \(metadata.typeName)")
        }
        guard let uriValue = fields["uri"] else {
            throw .invalidInput(uriPath, "a file input needs a 'uri' (data:<type>;base64,<data>, or another scheme this server accepts)")
        }
        guard case .string(let uri) = uriValue else {
            throw .invalidInput(uriPath, "'uri' must be a string, not \(uriValue.typeName)")
        }
        guard let scheme = Self.scheme(of: uri) else {
            throw .invalidInput(uriPath, "'\(Self.shown(uri))' is not a URI (it needs a scheme, as in data:application/pdf;base64,...)")
        }

        let stored: (id: String, type: String, size: Int)
        switch scheme {
        case "data", "file", "nodal-blob":
            count += 1
            guard count <= maxFiles else {
                throw .invalidInput(uriPath, "the item has more than \(maxFiles) file inputs, the most this server takes in one item")
            }
            stored = try await store(scheme: scheme, uri: uri, at: uriPath)
        default:
            if grants.passThroughSchemes.contains(where: { $0.lowercased() == scheme }) { return .object(object) }
            throw .invalidInput(uriPath, """
                a file input by '\(scheme):' URI is not allowed; this server reads data: URIs (and file: URIs under \
                --allow-files folders), and a server started with `--allow-uri-scheme \(scheme)` passes such URIs to the step as they are
                """)
        }

        fields["uri"] = .string("nodal-blob:" + stored.id)
        var resolved = object
        resolved["file_metadata"] = .object(fields)
        resolved["blobId"] = .string(stored.id)
        resolved["contentType"] = .string(stored.type)
        resolved["size"] = .int(stored.size)
        return .object(resolved)
    }

    private func store(scheme: String, uri: String, at uriPath: String) async throws(ServiceError) -> (id: String, type: String, size: Int) {
        switch scheme {
        case "data":
            switch DataURI.parse(uri, maxBytes: maxFileBytes) {
            case .success(let data): return try await put(data.bytes, type: data.mediaType, at: uriPath)
            case .failure(let problem): throw .invalidInput(uriPath, "the data: URI " + problem.description)
            }
        case "file":
            switch FileURI.read(uri, folders: grants.fileFolders, maxBytes: maxFileBytes) {
            case .success(let file): return try await put(file.bytes, type: file.mediaType, at: uriPath)
            case .failure(let problem): throw .invalidInput(uriPath, "the file URI '\(Self.shown(uri))' " + problem.description)
            }
        default:
            let id = String(uri.dropFirst("nodal-blob:".count))
            guard id.utf8.count == 64, id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw .invalidInput(uriPath, "'\(Self.shown(uri))' does not name a blob (nodal-blob: and 64 lowercase hex digits, as POST /blobs gives)")
            }
            let blob: StoredBlob?
            do { blob = try await store.storedBlob(id: id) } catch { throw Self.storeFailed(error, at: uriPath) }
            guard let blob else { throw .invalidInput(uriPath, "there is no blob '\(id)' (store it first with POST /blobs)") }
            switch blob.content {
            case .bytes(let bytes): return (id, blob.type, bytes.count)
            case .json(let value): return (id, "application/json", value.serializedBytes().count)
            }
        }
    }

    private func put(_ bytes: [UInt8], type: String, at uriPath: String) async throws(ServiceError) -> (id: String, type: String, size: Int) {
        do {
            return (try await store.putBytes(bytes, type: type), type, bytes.count)
        } catch {
            throw Self.storeFailed(error, at: uriPath)
        }
    }

    private static func storeFailed(_ error: any Error, at field: String) -> ServiceError {
        ServiceError(status: 500, code: "STORE_FAILED", "the store failed while keeping a file input: \(error)", field: field)
    }

    /// The scheme of `uri` in lowercase (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
    static func scheme(of uri: String) -> String? {
        guard let colon = uri.firstIndex(of: ":"), colon != uri.startIndex else { return nil }
        let scheme = uri[..<colon]
        guard let first = scheme.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic,
              scheme.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) })
        else { return nil }
        return scheme.lowercased()
    }

    /// A URI as an error quotes it: short, since a data: URI may be megabytes.
    static func shown(_ uri: String) -> String {
        uri.utf8.count <= 120 ? uri : uri.prefix(100) + "..."
    }
}
