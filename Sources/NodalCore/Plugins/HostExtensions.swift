import CNodal

/// The extensions `host->get_extension` offers (include/nodal.h, "Host extensions"), by id.
///
/// Each table is a static struct allocated once and never freed or written after it is made, as
/// the header promises ("stays valid for the life of the process").
enum HostExtensions {
    /// The table for `id`, or nil when this host does not offer it (the header's NULL).
    static func table(for id: String) -> UnsafeRawPointer? {
        switch id {
        // Each extension adds its case: `case NODAL_EXT_X: UnsafeRawPointer(XExtension.table)`.
        case NODAL_EXT_JSON: UnsafeRawPointer(JSONExtension.table)
        // In a plugin host, blobs and runs are the engine's: the forwarding tables send them there.
        case NODAL_EXT_BLOBS: ForwardingExtensions.isInstalled ? UnsafeRawPointer(ForwardingExtensions.blobs) : UnsafeRawPointer(BlobsExtension.table)
        case NODAL_EXT_RUNS: ForwardingExtensions.isInstalled ? UnsafeRawPointer(ForwardingExtensions.runs) : UnsafeRawPointer(RunsExtension.table)
        default: nil
        }
    }
}
