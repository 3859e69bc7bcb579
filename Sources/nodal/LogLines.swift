import Logging
import Nodal

/// Where plugins' `log` lines go in `nodal`: one line each on standard error,
/// `info: step 'say' (org.nodal.std.log): hello`, through `Console`, so a line written while the
/// progress line is shown clears it first and the progress line is drawn again below it.
/// (`--events` has them as `step.log` events too.)
struct LogLines: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var place = ""
        if let step = merged["step"] { place += " step '\(step)'" }
        if let node = merged["node"] { place += " (\(node))" }
        printError("\(event.level.rawValue):\(place)\(place.isEmpty ? "" : ":") \(event.message)")
    }

    static var logger: Logger { Logger(label: "nodal") { _ in LogLines() } }
}
