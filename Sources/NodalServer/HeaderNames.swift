// Hummingbird re-exports `HTTPFields` but not `HTTPField`, whose `Name` custom headers need.
package import HTTPTypes

extension HTTPField.Name {
    /// The last event a reconnecting event-stream client saw.
    package static let lastEventID = HTTPField.Name("Last-Event-ID")!
    /// Tells nginx not to buffer an event stream.
    package static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
    /// A raw blob's file name (Stepflow's content negotiation for `GET /blobs/{blobId}`).
    package static let blobFilename = HTTPField.Name("X-Blob-Filename")!
}
