public import NodalJSON

/// A stored blob (`GET /blobs/{blobId}`): JSON, or bytes with their content type.
public struct Blob: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case json(JSON)
        case bytes([UInt8])
    }

    public var id: String
    public var content: Content
    /// `data`, `flow` or `binary`, as the server says.
    public var blobType: String?
    public var contentType: String?
    public var filename: String?
}
