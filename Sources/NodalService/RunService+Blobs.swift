import NodalCore
public import NodalJSON
import FoundationEssentials

/// `POST /blobs`, `GET /blobs/{id}`: content-addressed blobs, JSON (data or flow) or bytes.
///
/// A store keeps one type per blob: `data` or `flow` for JSON, the content type (`application/pdf`)
/// for bytes (`application/octet-stream` when none was given). A filename is answered back from
/// `POST` but not kept, so `GET` has none.
extension RunService {
    public func putBlob(_ request: JSON) async throws(ServiceError) -> JSON {
        let object = try RequestFields.object(request, known: ["jsonData", "rawData", "blobType", "filename", "contentType"], what: "request")
        let blobType: String?
        switch object["blobType"] {
        case nil, .null?: blobType = nil
        case .string(let type)? where ["data", "flow", "binary"].contains(type): blobType = type
        case let other?: throw .invalidField("blobType", "'blobType' must be \"data\", \"flow\" or \"binary\", not \(other.serialized())")
        }
        let filename = try Self.optionalString(object, "filename")
        let contentType = try Self.optionalString(object, "contentType")
        let json = object["jsonData"]
        let raw = object["rawData"]
        let id: String
        do {
            switch (json, raw) {
            case (let value?, nil):
                guard blobType != "binary" else { throw ServiceError.invalidField("blobType", "'jsonData' is stored as \"data\" or \"flow\"; binary blobs take 'rawData'") }
                if blobType == "flow" {
                    do {
                        _ = try Flow(document: value, configuration: engine.configuration)
                    } catch {
                        throw ServiceError.invalidField("jsonData", "a flow blob must hold a flow: \(error)")
                    }
                    id = try await store.putBlob(value, type: .flow)
                } else {
                    id = try await store.putBlob(value, type: .data)
                }
            case (nil, .string(let text)?):
                guard blobType == nil || blobType == "binary" else {
                    throw ServiceError.invalidField("blobType", "'rawData' is stored as a \"binary\" blob, not \"\(blobType!)\"")
                }
                guard let data = Data(base64Encoded: text) else { throw ServiceError.invalidField("rawData", "'rawData' must be base64") }
                id = try await store.putBytes(Array(data), type: contentType ?? "application/octet-stream")
            case (nil, let other?):
                throw ServiceError.invalidField("rawData", "'rawData' must be a base64 string, not \(other.typeName)")
            case (nil, nil):
                throw ServiceError.invalidField("jsonData", "the request needs 'jsonData' (JSON) or 'rawData' (base64 bytes)")
            case (_?, _?):
                throw ServiceError.invalidField("rawData", "give either 'jsonData' or 'rawData', not both")
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw Self.storeFailed("store the blob", error)
        }
        var reply: JSONObject = ["blobId": .string(id)]
        if let filename { reply["filename"] = .string(filename) }
        return .object(reply)
    }

    public func blob(id: String) async throws(ServiceError) -> JSON {
        guard let blobID = RequestFields.blobID(id) else {
            throw .notFound("BLOB_NOT_FOUND", "no blob with id \"\(RequestFields.shown(id))\" (a blob id is 64 hexadecimal digits)", field: "blobId")
        }
        let blob: StoredBlob?
        do {
            blob = try await store.storedBlob(id: blobID)
        } catch {
            throw Self.storeFailed("read blob \(blobID)", error)
        }
        guard let blob else { throw .notFound("BLOB_NOT_FOUND", "no blob with id \(blobID)", field: "blobId") }
        switch blob.content {
        case .json(let value):
            return ["blobId": .string(blobID), "blobType": .string(blob.type), "jsonData": value]
        case .bytes(let bytes):
            return [
                "blobId": .string(blobID), "blobType": "binary", "rawData": .string(Data(bytes).base64EncodedString()),
                "contentType": .string(blob.type),
            ]
        }
    }

    static func optionalString(_ object: JSONObject, _ key: String) throws(ServiceError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw .invalidField(key, "'\(key)' must be a string, not \(other.typeName)")
        }
    }
}
