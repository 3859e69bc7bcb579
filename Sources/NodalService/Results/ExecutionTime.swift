import NodalCore
package import NodalJSON

/// The extras a Noxus result carries beside the output: how long the run took in milliseconds
/// (`execution_time`) and, when it failed, an error message and details (`error_message`,
/// `error_details`). The service puts them on its results under its own field names.
package enum ResultExtras {
    /// Whole milliseconds in `duration`, rounded to the nearest, never negative.
    package static func executionTimeMs(_ duration: Duration) -> Int {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return Int.max }
        let fraction = (attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000
        return Int(clamping: milliseconds) &+ Int(fraction)
    }

    /// The same from a stored result (`RunResult.json`, which `RunRecord.result` holds): its
    /// `durationMs`, rounded; nil when it has none (a run still going).
    package static func executionTimeMs(result: JSON) -> Int? {
        guard let milliseconds = result["durationMs"]?.doubleValue, milliseconds.isFinite else { return nil }
        return milliseconds <= 0 ? 0 : milliseconds >= Double(Int.max) ? Int.max : Int(milliseconds.rounded())
    }

    /// The error message of a result that failed, nil for one that did not.
    package static func errorMessage(result: JSON) -> String? {
        result["error"]?["message"]?.stringValue
    }

    /// The details of a result that failed: the error's `code`, the `step` it came from, the
    /// step's own `details` and the failed `steps`, each when there is one; nil for a result that
    /// did not fail.
    package static func errorDetails(result: JSON) -> JSON? {
        guard case .object(let error)? = result["error"] else { return nil }
        var details = JSONObject()
        for key in ["code", "step", "details", "steps"] {
            if let value = error[key], !value.isNull, value != .array([]) { details[key] = value }
        }
        return .object(details)
    }
}
