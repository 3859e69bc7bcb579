import NodalJSON
import CNodal

/// An extension function a plugin host's plugin called, performed in the engine by the very
/// function an in-process call reaches (`BlobsExtension`, `RunsExtension`), through the
/// engine-side call: same checks, same store, same sub-runs, same errors.
///
/// Requests: [function, arguments...]; replies: [status, results...], as `ForwardingExtensions`
/// in the child writes and reads them:
/// - `blobs.put_json` / `blobs.put_bytes` [content, type given "1"/"0", type] →
///   [status, id, error given, error]
/// - `blobs.get` [id] → [status, data, type, error given, error]
/// - `runs.submit` / `runs.get` / `runs.cancel` [request] → [status, reply given, reply]
enum ForwardedRequest {
    @available(*, noasync, message: "may wait on a sub-run")
    static func perform(_ frame: PluginHostWire.Frame, handle: OpaquePointer) -> [[UInt8]] {
        let fields = frame.fields
        guard let function = frame.string(0) else { return [Int(NODAL_INVALID).wireField] }
        switch function {
        case "blobs.put_json", "blobs.put_bytes":
            guard fields.count == 4 else { return [Int(NODAL_INVALID).wireField] }
            let typeGiven = fields[2] == [UInt8(ascii: "1")]
            var id = [CChar](repeating: 0, count: Int(NODAL_BLOB_ID_SIZE))
            var error: UnsafePointer<CChar>?
            // NUL-terminated, so the pointer is never NULL, even for no bytes.
            let content = fields[1].map { CChar(bitPattern: $0) } + [0]
            let count = fields[1].count
            let status = content.withUnsafeBufferPointer { content in
                withOptionalCString(typeGiven ? frame.string(3) : nil) { type in
                    function == "blobs.put_json"
                        ? BlobsExtension.table.pointee.put_json(handle, content.baseAddress!, count, type, &id, &error)
                        : BlobsExtension.table.pointee.put_bytes(handle, content.baseAddress!, count, type, &id, &error)
                }
            }
            let idText = status == NODAL_OK ? String(decoding: id.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            return [Int(status).wireField, idText.wireField] + optional(error)
        case "blobs.get":
            guard fields.count == 2 else { return [Int(NODAL_INVALID).wireField] }
            var data: UnsafePointer<CChar>?
            var length = 0
            var type: UnsafePointer<CChar>?
            var error: UnsafePointer<CChar>?
            let status = (frame.string(1) ?? "").withCString { BlobsExtension.table.pointee.get(handle, $0, &data, &length, &type, &error) }
            let content = data.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
            return [Int(status).wireField, content, (type.map { String(cString: $0) } ?? "").wireField] + optional(error)
        case "runs.submit", "runs.get", "runs.cancel":
            guard fields.count == 2 else { return [Int(NODAL_INVALID).wireField] }
            var reply: UnsafePointer<CChar>?
            var length = 0
            let request = fields[1].map { CChar(bitPattern: $0) } + [0]
            let count = fields[1].count
            let status = request.withUnsafeBufferPointer { request in
                let pointer = request.baseAddress!
                switch function {
                case "runs.submit": return RunsExtension.table.pointee.submit(handle, pointer, count, &reply, &length)
                case "runs.get": return RunsExtension.table.pointee.get(handle, pointer, count, &reply, &length)
                default: return RunsExtension.table.pointee.cancel(handle, pointer, count, &reply, &length)
                }
            }
            guard let reply else { return [Int(status).wireField, "0".wireField, []] }
            return [Int(status).wireField, "1".wireField, Array(UnsafeRawBufferPointer(start: reply, count: length))]
        default:
            return [Int(NODAL_INVALID).wireField]
        }
    }

    /// [given "1"/"0", text].
    private static func optional(_ text: UnsafePointer<CChar>?) -> [[UInt8]] {
        guard let text else { return ["0".wireField, []] }
        return ["1".wireField, String(cString: text).wireField]
    }

    private static func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}
