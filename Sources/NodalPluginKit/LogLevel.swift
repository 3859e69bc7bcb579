internal import CNodal

/// The level of a line a node logs (the `NODAL_LOG_*` levels of include/nodal.h).
public enum LogLevel: Sendable, Hashable {
    case trace, debug, info, warning, error

    var cValue: Int32 {
        switch self {
        case .trace: NODAL_LOG_TRACE
        case .debug: NODAL_LOG_DEBUG
        case .info: NODAL_LOG_INFO
        case .warning: NODAL_LOG_WARNING
        case .error: NODAL_LOG_ERROR
        }
    }
}
