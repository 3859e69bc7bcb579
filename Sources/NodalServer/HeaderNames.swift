// Hummingbird re-exports `HTTPFields` but not `HTTPField`, whose `Name` custom headers need.
import HTTPTypes

extension HTTPField.Name {
    /// The last event a reconnecting event-stream client saw.
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    /// Tells nginx not to buffer an event stream.
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
    /// A raw blob's file name (Stepflow's content negotiation for `GET /blobs/{blobId}`).
    static let blobFilename = HTTPField.Name("X-Blob-Filename")!
}
