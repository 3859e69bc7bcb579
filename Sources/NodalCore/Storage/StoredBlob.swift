public import NodalJSON

/// The type a JSON blob is stored with.
public enum BlobType: String, Sendable, Hashable, CaseIterable {
    /// Any JSON value (`/builtin/put_blob` without `blob_type`).
    case data
    /// A flow document: what the runs extension's `submit` runs by id.
    case flow
}

/// A blob as a store gives it back: JSON or bytes, and the type it was stored with.
public struct StoredBlob: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case json(JSON)
        case bytes([UInt8])
    }

    public var content: Content
    /// `data` or `flow` for JSON blobs; for bytes, the type given to `putBytes`.
    public var type: String

    public init(content: Content, type: String) {
        self.content = content
        self.type = type
    }
}
