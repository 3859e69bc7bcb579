import NodalJSON
import CNodal
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The `nodal_host` table every plugin receives: one static instance for the life of the process.
///
/// Every service that takes a `nodal_call *` reaches the call through `CallTable.withLiveCall`:
/// under the call's lock, and only while the call is in flight. So the services may be called
/// from any thread during invoke (the header's rule), and a handle kept past its invoke gets
/// NODAL_INVALID instead of reaching a finished call.
enum HostServices {
    static let engineVersion = "0.1.0"
    /// For lines logged outside a call (from `initialize`, say): no engine is at hand there.
    static let fallbackLogger = Logger(label: "nodal.plugin")

    static func levelName(_ level: Int32) -> String {
        switch level {
        case NODAL_LOG_TRACE: "trace"
        case NODAL_LOG_DEBUG: "debug"
        case NODAL_LOG_INFO: "info"
        case NODAL_LOG_WARNING: "warning"
        default: "error"
        }
    }

    /// The level `levelName` gave this name (a plugin host's log lines travel by name).
    static func level(named name: String) -> Int32 {
        switch name {
        case "trace": NODAL_LOG_TRACE
        case "debug": NODAL_LOG_DEBUG
        case "info": NODAL_LOG_INFO
        case "warning": NODAL_LOG_WARNING
        default: NODAL_LOG_ERROR
        }
    }

    static func swiftLevel(_ level: Int32) -> Logger.Level {
        switch level {
        case NODAL_LOG_TRACE: .trace
        case NODAL_LOG_DEBUG: .debug
        case NODAL_LOG_INFO: .info
        case NODAL_LOG_WARNING: .warning
        default: .error
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
            // A length that is negative as a signed size (a `(size_t)-1` from an error path) is
            // refused rather than trapping in the copy.
            guard let json, length >= 0 else { return NODAL_INVALID }
            // Copied under the call's lock, once the size is known to be within the node's limit:
            // an output over it is refused before a byte is copied, and fails the step.
            return CallTable.withLiveCall(call) { state, context in
                guard length <= context.pointee.node?.maxOutputBytes ?? Int.max else {
                    state.output = nil
                    state.refusedOutputBytes = length
                    return NODAL_ERROR
                }
                state.output = Array(UnsafeRawBufferPointer(start: json, count: length))
                return NODAL_OK
            } ?? NODAL_INVALID
        }
        table.pointee.set_error = { call, code, message, details, detailsLength in
            var detailsJSON: JSON?
            if let details, detailsLength > 0 {
                let bytes = UnsafeRawBufferPointer(start: details, count: detailsLength)
                detailsJSON = (try? JSON(parsing: bytes)) ?? .string(String(decoding: bytes, as: UTF8.self))
            }
            let error = StepError(
                code: code.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "NODE_FAILED",
                message: message.map { String(cString: $0) } ?? "",
                details: detailsJSON)
            return CallTable.withLiveCall(call) { state, _ in state.error = error; return NODAL_OK } ?? NODAL_INVALID
        }
        table.pointee.log = { call, level, message in
            guard let message else { return NODAL_INVALID }
            let text = String(cString: message)
            var metadata: Logger.Metadata = [:]
            var logger = HostServices.fallbackLogger
            if call != nil {
                // The event is emitted under the call's lock, so it is never delivered after the
                // step's own completion event.
                let live = CallTable.withLiveCall(call) { _, context in
                    let context = context.pointee
                    metadata["step"] = .string(context.stepID)
                    metadata["node"] = .string(context.nodeID)
                    logger = context.node?.logger ?? HostServices.fallbackLogger
                    context.events?.emit(.log(step: context.stepID, level: levelName(level), message: text))
                    return true
                }
                guard live == true else { return NODAL_INVALID }
            }
            logger.log(level: swiftLevel(level), "\(text)", metadata: metadata)
            return NODAL_OK
        }
        table.pointee.is_cancelled = { call in
            CallTable.withLiveCall(call) { _, context in
                context.pointee.cancellation?.isCancelled == true ? 1 : 0
            } ?? NODAL_INVALID
        }
        table.pointee.report_progress = { call, fraction, message in
            let text = message.map { String(cString: $0) }
            let fraction = fraction >= 0 && fraction.isFinite ? min(fraction, 1) : nil
            return CallTable.withLiveCall(call) { _, context in
                let context = context.pointee
                context.events?.emit(.progress(step: context.stepID, fraction: fraction, message: text))
                return NODAL_OK
            } ?? NODAL_INVALID
        }
        table.pointee.get_extension = { host, id in
            // NULL means "not available", as the header promises, for a NULL host or id too.
            guard host != nil, let id else { return nil }
            return HostExtensions.table(for: String(cString: id))
        }
        return table
    }()
}
