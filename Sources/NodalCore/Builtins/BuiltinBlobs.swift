import NodalJSON
/// Stepflow's `/builtin/put_blob` and `/builtin/get_blob`: content-addressed JSON values.
///
/// - `put_blob`: `{data: any, blob_type?: "data" | "flow"}` to `{blob_id}`, where the id is the
///   SHA-256 (64 lowercase hex digits) of `data`'s compact JSON with keys in document order
///   (`ContentHash.blobID(of:)`), as Stepflow computes it, so the same data gets the same id in
///   every run, process, and in Stepflow. `blob_type: flow` also checks that
///   `data` reads as a flow.
/// - `get_blob`: `{blob_id}` (an optional `sha256:` prefix is accepted) to `{data}`.
///
/// Blobs go to the run's store when it has one (so they outlive the process with a SQLite
/// store), else to the engine's in-memory store; reads look in both, in that order.
enum BuiltinBlobs {
    static func put(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        guard let data = input["data"] else {
            throw StepError(code: "INVALID_INPUT", message: "put_blob needs 'data': the value to store")
        }
        switch input["blob_type"] {
        case nil, .null?, .string("data")?:
            break
        case .string("flow")?:
            do {
                _ = try Flow(document: data, file: context.flowFile, configuration: engine.configuration)
            } catch {
                throw StepError(code: "INVALID_INPUT", message: "put_blob: 'data' is not a valid flow (blob_type: flow): \(error)")
            }
        case let other?:
            throw StepError(code: "INVALID_INPUT", message: "put_blob: 'blob_type' must be \"data\" or \"flow\", not \(other)")
        }
        let store = context.store ?? engine.memoryStore
        let id: String
        do {
            id = try await store.putBlob(data)
        } catch {
            throw StepError(code: "STORE_ERROR", message: "put_blob: could not store the blob: \(error)")
        }
        return ["blob_id": .string(id)]
    }

    static func get(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        let id = try blobID(input, field: "blob_id", builtin: "get_blob")
        return ["data": try await fetch(id, field: "blob_id", builtin: "get_blob", engine: engine, context: context)]
    }

    /// The blob id under `field` of a builtin's input: 64 hex digits, optionally after `sha256:`,
    /// returned as lowercase hex without the prefix.
    static func blobID(_ input: JSON, field: String, builtin: String) throws(StepError) -> String {
        guard let raw = input[field] else {
            throw StepError(code: "INVALID_INPUT", message: "\(builtin) needs '\(field)': a blob id from put_blob")
        }
        guard case .string(let text) = raw else {
            throw StepError(code: "INVALID_INPUT", message: "\(builtin): '\(field)' must be a blob id string, not \(raw.typeName)")
        }
        guard let id = normalizedBlobID(text) else {
            throw StepError(code: "INVALID_INPUT", message: "\(builtin): '\(field)' is not a blob id (64 hexadecimal digits, optionally after 'sha256:'): \"\(text)\"")
        }
        return id
    }

    static func normalizedBlobID(_ text: String) -> String? {
        let hex = text.hasPrefix("sha256:") ? text.dropFirst(7) : Substring(text)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ $0.isASCIIHexDigit }) else { return nil }
        return hex.lowercased()
    }

    /// The blob with this (normalized) id, from the run's store, else the engine's in-memory one.
    /// Throws `BLOB_NOT_FOUND` naming the id and the field it came from.
    static func fetch(_ id: String, field: String, builtin: String, engine: some BuiltinHost, context: NodeContext) async throws(StepError) -> JSON {
        var stores: [any RunStore] = []
        if let store = context.store { stores.append(store) }
        stores.append(engine.memoryStore)
        for store in stores {
            let found: JSON?
            do {
                found = try await store.blob(id: id)
            } catch {
                throw StepError(code: "STORE_ERROR", message: "\(builtin): could not read blob \(id) (from '\(field)'): \(error)")
            }
            if let found { return found }
        }
        let places = context.store == nil ? "this engine's memory (the run has no store)" : "the run's store or this engine's memory"
        throw StepError(code: "BLOB_NOT_FOUND", message: "\(builtin): no blob with id \(id) (from '\(field)') in \(places); store it first with /builtin/put_blob")
    }
}

extension UInt8 {
    fileprivate var isASCIIHexDigit: Bool {
        (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self)
    }
}
