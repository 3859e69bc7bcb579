import NodalJSON
import CNodal
#if canImport(Glibc)
import Glibc
#endif
internal import Logging

/// The state of one native node call, reached from the host-service callbacks through the
/// opaque `nodal_call *` the plugin passes back.
///
/// Written by the plugin during `invoke` (on the calling thread, per the header's contract) and
/// read by the host after `invoke` returns, so it needs no lock.
final class NativeCallContext {
    var output: [UInt8]?
    var error: StepError?
    let cancellation: CancellationToken?
    let stepID: String
    let nodeID: String
    let events: EventSink?

    init(stepID: String, nodeID: String, cancellation: CancellationToken?, events: EventSink?) {
        self.stepID = stepID
        self.nodeID = nodeID
        self.cancellation = cancellation
        self.events = events
    }

    static func from(_ call: OpaquePointer?) -> NativeCallContext? {
        guard let call else { return nil }
        return Unmanaged<NativeCallContext>.fromOpaque(UnsafeRawPointer(call)).takeUnretainedValue()
    }
}

/// The `nodal_host` table every plugin receives: one static instance for the life of the process.
enum HostServices {
    static let engineVersion = "0.1.0"
    static let logger = Logger(label: "nodal.plugin")

    static func levelName(_ level: Int32) -> String {
        switch level {
        case NODAL_LOG_TRACE: "trace"
        case NODAL_LOG_DEBUG: "debug"
        case NODAL_LOG_INFO: "info"
        case NODAL_LOG_WARNING: "warning"
        default: "error"
        }
    }

    nonisolated(unsafe) static let table: UnsafeMutablePointer<nodal_host> = {
        let table = UnsafeMutablePointer<nodal_host>.allocate(capacity: 1)
        table.initialize(to: nodal_host())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_host>.size)
        table.pointee.abi_major = UInt32(NODAL_ABI_MAJOR)
        table.pointee.abi_minor = UInt32(NODAL_ABI_MINOR)
        table.pointee.host_name = UnsafePointer(strdup("nodal"))
        table.pointee.host_version = UnsafePointer(strdup(engineVersion))
        table.pointee.write_output = { call, json, length in
            guard let context = NativeCallContext.from(call), let json else { return NODAL_INVALID }
            context.output = Array(UnsafeRawBufferPointer(start: json, count: length))
            return NODAL_OK
        }
        table.pointee.set_error = { call, code, message, details, detailsLength in
            guard let context = NativeCallContext.from(call) else { return NODAL_INVALID }
            var detailsJSON: JSON?
            if let details, detailsLength > 0 {
                let bytes = UnsafeRawBufferPointer(start: details, count: detailsLength)
                detailsJSON = (try? JSON(parsing: bytes)) ?? .string(String(decoding: bytes, as: UTF8.self))
            }
            context.error = StepError(
                code: code.map { String(cString: $0) } ?? "NODE_FAILED",
                message: message.map { String(cString: $0) } ?? "",
                details: detailsJSON)
            return NODAL_OK
        }
        table.pointee.log = { call, level, message in
            guard let message else { return }
            let text = String(cString: message)
            let context = NativeCallContext.from(call)
            var metadata: Logger.Metadata = [:]
            if let context {
                metadata["step"] = .string(context.stepID)
                metadata["node"] = .string(context.nodeID)
            }
            context?.events?.emit(.log(step: context!.stepID, level: levelName(level), message: text))
            let swiftLevel: Logger.Level = switch level {
            case NODAL_LOG_TRACE: .trace
            case NODAL_LOG_DEBUG: .debug
            case NODAL_LOG_INFO: .info
            case NODAL_LOG_WARNING: .warning
            default: .error
            }
            logger.log(level: swiftLevel, "\(text)", metadata: metadata)
        }
        table.pointee.is_cancelled = { call in
            guard let context = NativeCallContext.from(call) else { return 0 }
            return context.cancellation?.isCancelled == true ? 1 : 0
        }
        table.pointee.report_progress = { call, fraction, message in
            guard let context = NativeCallContext.from(call) else { return }
            context.events?.emit(.progress(
                step: context.stepID, fraction: fraction >= 0 && fraction.isFinite ? min(fraction, 1) : nil,
                message: message.map { String(cString: $0) }))
        }
        table.pointee.get_extension = { _, _ in
            // No extensions are offered yet; NULL means "not available", as the header promises.
            nil
        }
        return table
    }()
}
