import NodalJSON
import CNodal
#if canImport(Glibc)
import Glibc
#endif

/// `org.nodal.blobs.v1` (include/nodal.h, "Blobs"): content-addressed JSON and bytes in the run's
/// store, with the ids `/builtin/put_blob` gives.
///
/// Blobs go to the calling run's store when it has one, else to the engine's memory; reads look
/// in both, in that order (as the blob builtins do). Nothing of the call's slot is held locked
/// while a store is written or read.
enum BlobsExtension {
    nonisolated(unsafe) static let table: UnsafeMutablePointer<nodal_blobs> = {
        let table = UnsafeMutablePointer<nodal_blobs>.allocate(capacity: 1)
        table.initialize(to: nodal_blobs())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_blobs>.size)
        // Thread: any thread of the call. Ownership: `json` and `type` borrowed; the id is written
        // into the plugin's buffer, the error message is the call's. Returns OK, ERROR (reason in
        // *error) or INVALID (a NULL pointer, a size above PTRDIFF_MAX, a call not in flight).
        table.pointee.put_json = { call, json, length, type, idOut, error in
            guard let json, let idOut, length >= 0, let live = ExtensionCall.live(call) else { return NODAL_INVALID }
            let blobType = type.map { String(cString: $0) }
            let bytes = UnsafeRawBufferPointer(start: json, count: length)
            return answer(call, idOut: idOut, error: error) { () throws(ExtensionError) -> String in
                let run = try live.requireRun("put_json")
                let value: JSON
                do {
                    value = try JSON(parsing: bytes)
                } catch {
                    throw ExtensionError("INVALID_JSON", "put_json: the value is not JSON: \(error)")
                }
                let kind: BlobType
                switch blobType {
                case nil, "data"?: kind = .data
                case "flow"?:
                    kind = .flow
                    do {
                        // Read as runs.submit reads it: relative paths from the current folder.
                        _ = try Flow(document: value, configuration: run.host.configuration)
                    } catch {
                        throw ExtensionError("INVALID_FLOW", "put_json: the value is not a valid flow (blob_type \"flow\"): \(error)")
                    }
                case let other?:
                    throw ExtensionError("INVALID_BLOB_TYPE", "put_json: blob_type must be \"data\" (or NULL) or \"flow\", not \"\(other)\"")
                }
                return try stored(run.putBlob(value, type: kind, in: run.store ?? run.host.memoryStore), "put_json")
            }
        }
        table.pointee.put_bytes = { call, bytes, length, type, idOut, error in
            guard let bytes, let idOut, length >= 0, let live = ExtensionCall.live(call) else { return NODAL_INVALID }
            let content = Array(UnsafeRawBufferPointer(start: bytes, count: length))
            let blobType = type.map { String(cString: $0) } ?? "bytes"
            return answer(call, idOut: idOut, error: error) { () throws(ExtensionError) -> String in
                let run = try live.requireRun("put_bytes")
                try checkBytesType(blobType)
                return try stored(run.putBytes(content, type: blobType, in: run.store ?? run.host.memoryStore), "put_bytes")
            }
        }
        // Thread: any thread of the call. Ownership: `blob_id` borrowed; data, length and type
        // are the call's until it ends. Returns OK, ERROR (no such blob, a malformed id, a store
        // failure: reason in *error) or INVALID.
        table.pointee.get = { call, id, data, length, type, error in
            guard let id, let data, let length, let live = ExtensionCall.live(call) else { return NODAL_INVALID }
            let text = String(cString: id)
            let found: Result<StoredBlob, ExtensionError> = Result { () throws(ExtensionError) -> StoredBlob in
                let run = try live.requireRun("get")
                guard let normalized = normalizedBlobID(text) else {
                    throw ExtensionError("INVALID_BLOB_ID", "get: \"\(RunsExtension.shown(text))\" is not a blob id (64 hexadecimal digits, optionally after \"sha256:\")")
                }
                for store in run.blobStores {
                    if let blob = try stored(run.storedBlob(id: normalized, in: store), "get") { return blob }
                }
                let places = run.store == nil ? "this engine's memory (the run has no store)" : "the run's store or this engine's memory"
                throw ExtensionError("BLOB_NOT_FOUND", "get: no blob with id \(normalized) in \(places)")
            }
            switch found {
            case .success(let blob):
                let content: [UInt8]
                switch blob.content {
                case .json(let value): content = value.serializedBytes()
                case .bytes(let bytes): content = bytes
                }
                guard let kept = ExtensionCall.keep(content, in: call) else { return NODAL_INVALID }
                if let type {
                    guard let keptType = ExtensionCall.keep(blob.type.utf8, in: call) else { return NODAL_INVALID }
                    type.pointee = keptType.pointer
                }
                data.pointee = kept.pointer
                length.pointee = kept.count
                return NODAL_OK
            case .failure(let refusal):
                return refuse(call, refusal, error: error)
            }
        }
        return table
    }()

    /// Writes the id `body` returns into `idOut` (64 digits and a NUL), or its refusal into *error.
    private static func answer(
        _ call: OpaquePointer?, idOut: UnsafeMutablePointer<CChar>, error reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
        _ body: () throws(ExtensionError) -> String
    ) -> nodal_status {
        do {
            let id = try body()
            var index = 0
            for byte in id.utf8.prefix(Int(NODAL_BLOB_ID_SIZE) - 1) {
                idOut[index] = CChar(bitPattern: byte)
                index += 1
            }
            idOut[index] = 0
            return NODAL_OK
        } catch {
            return refuse(call, error, error: reason)
        }
    }

    /// NODAL_ERROR, with the reason in *error (kept in the call's arena) when asked for.
    private static func refuse(_ call: OpaquePointer?, _ refusal: ExtensionError, error: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> nodal_status {
        guard let error else { return NODAL_ERROR }
        guard let kept = ExtensionCall.keep("\(refusal.code): \(refusal.message)".utf8, in: call) else { return NODAL_INVALID }
        error.pointee = kept.pointer
        return NODAL_ERROR
    }

    /// A store's answer, or STORE_ERROR naming the function.
    private static func stored<T>(_ result: Result<T, any Error>, _ function: String) throws(ExtensionError) -> T {
        switch result {
        case .success(let value): return value
        case .failure(let error): throw ExtensionError("STORE_ERROR", "\(function): the store failed: \(error)")
        }
    }

    /// A bytes blob's type: short printable text, and not one of the JSON blobs' types.
    private static func checkBytesType(_ type: String) throws(ExtensionError) {
        if type == BlobType.data.rawValue || type == BlobType.flow.rawValue {
            throw ExtensionError("INVALID_BLOB_TYPE", "put_bytes: \"\(type)\" is a type of JSON blobs (use put_json); give bytes a type such as \"image/png\" or \"bytes\"")
        }
        guard !type.isEmpty, type.utf8.count <= 255, type.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw ExtensionError("INVALID_BLOB_TYPE", "put_bytes: the type must be 1 to 255 bytes of printable text, not \"\(RunsExtension.shown(type))\"")
        }
    }

    /// 64 hexadecimal digits, optionally after `sha256:`, as lowercase hex without the prefix.
    static func normalizedBlobID(_ text: String) -> String? {
        let hex = text.hasPrefix("sha256:") ? text.dropFirst(7) : Substring(text)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        return hex.lowercased()
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool { (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self) }
}
