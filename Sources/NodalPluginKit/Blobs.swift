internal import CNodal

/// Content-addressed values in the run's store: the host's `org.nodal.blobs.v1` extension
/// (include/nodal.h: "Blobs"). Ids are the ones `/builtin/put_blob` gives.
///
/// Get it from `context.blobs`; use it only while `run` runs, from its thread or threads it starts
/// and waits for. What the host returns is copied before a function returns. Storing may block:
/// a node that stores blobs should not be flagged `.nonBlocking`.
public struct Blobs: Sendable {
    public static let extensionID = NODAL_EXT_BLOBS

    let table: ExtensionTable<nodal_blobs>
    let call: CallHandle

    /// Stores a JSON value; returns its id (SHA-256 of its compact JSON). `type` is `data` or
    /// `flow` (a flow that `runs.submit` can run by this id).
    public func put(_ value: JSON, type: String = "data") throws(NodeError) -> String {
        guard let put = table.field(\.put_json).flatMap({ $0 }) else { throw missing("put_json") }
        let bytes = value.serializedBytes()
        return try store("put_json") { id, error in
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { text in
                    type.withoutNULs.withCString { put(call.pointer, text.baseAddress, text.count, $0, id, error) }
                }
            }
        }
    }

    /// Stores a flow (as JSON) for `runs.submit`; returns its id.
    public func putFlow(_ flow: JSON) throws(NodeError) -> String { try put(flow, type: "flow") }

    /// Stores bytes with a type of the node's choosing (a media type such as `image/png`).
    public func put(bytes: [UInt8], type: String = "bytes") throws(NodeError) -> String {
        guard let put = table.field(\.put_bytes).flatMap({ $0 }) else { throw missing("put_bytes") }
        return try store("put_bytes") { id, error in
            bytes.withUnsafeBytes { buffer in
                type.withoutNULs.withCString { put(call.pointer, buffer.baseAddress, buffer.count, $0, id, error) }
            }
        }
    }

    /// Reads blob `id` (64 hexadecimal digits, optionally after `sha256:`). Throws the host's
    /// reason when there is no such blob.
    public func get(_ id: String) throws(NodeError) -> Blob {
        guard let get = table.field(\.get).flatMap({ $0 }) else { throw missing("get") }
        var data: UnsafePointer<CChar>?
        var length = 0
        var type: UnsafePointer<CChar>?
        var error: UnsafePointer<CChar>?
        let status = id.withoutNULs.withCString { get(call.pointer, $0, &data, &length, &type, &error) }
        guard status == NODAL_OK, let data else { throw failure("get", status, error) }
        // The host's buffers last until the call ends: copied here.
        let bytes = Array(UnsafeRawBufferPointer(start: data, count: length))
        return Blob(id: id, type: type.map { String(cString: $0) } ?? "data", bytes: bytes)
    }

    /// Runs one put with a buffer for the id and a slot for the host's reason.
    private func store(
        _ name: String,
        _ body: (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> nodal_status
    ) throws(NodeError) -> String {
        var id = [CChar](repeating: 0, count: Int(NODAL_BLOB_ID_SIZE))
        var error: UnsafePointer<CChar>?
        let status = id.withUnsafeMutableBufferPointer { body($0.baseAddress!, &error) }
        guard status == NODAL_OK else { throw failure(name, status, error) }
        id[id.count - 1] = 0  // a host that filled all 65 bytes still leaves a terminated string
        return id.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private func missing(_ name: String) -> NodeError {
        NodeError(code: "EXTENSION_UNAVAILABLE", message: "this host's \(Self.extensionID) has no \(name) function")
    }

    private func failure(_ name: String, _ status: nodal_status, _ reason: UnsafePointer<CChar>?) -> NodeError {
        if status == NODAL_ERROR {
            return NodeError(code: "BLOB_ERROR", message: "blobs.\(name): \(reason.map { String(cString: $0) } ?? "refused by the host")")
        }
        return NodeError(
            code: "HOST_REFUSED",
            message: "the host refused blobs.\(name) (status \(status)): it works only while the node's run is in progress")
    }
}

/// A blob read from the store.
public struct Blob: Sendable, Equatable {
    public var id: String
    /// `data` or `flow` for JSON blobs, or the type given to `put(bytes:type:)`.
    public var type: String
    /// The content: compact JSON text for a JSON blob.
    public var bytes: [UInt8]

    /// The content as JSON; throws `INVALID_INPUT` when it is not JSON.
    public func json() throws(NodeError) -> JSON {
        do { return try JSON(parsing: bytes) } catch {
            throw NodeError.invalidInput("blob \(id) (type \(type)) is not JSON: \(error)")
        }
    }
}
