import NodalJSON
/// The bounds Nodal puts on what a flow, a configuration or a value may cost, so that no input
/// can exhaust the stack, memory or time of the process (README: Limits and safety).
enum Limits {
    /// Flows inside flows: sub-flow files (`flow: FILE`) and the flows `eval`, `map` and
    /// `iterate` run, counted together along one chain. The top-level flow is level 0.
    static let nesting = 32

    /// Levels of arrays and objects in a JSON or YAML value (the JSON parser's own limit too).
    static let valueDepth = JSONParser.maximumDepth

    /// YAML aliases may expand a document to at most this many nodes, or 10 per byte of its
    /// text when that is more (so a document without aliases is never refused).
    static let aliasExpansionNodes = 1_000_000

    static func aliasExpansion(forBytes bytes: Int) -> Int {
        max(aliasExpansionNodes, bytes.multipliedSaturated(by: 10))
    }

    static let aliasExpansionText = "1,000,000 nodes, or 10 per byte of text if that is more"
}

/// The range a numeric field of a flow or configuration must be in, for its check and its error.
struct NumericRange: Sendable {
    var lowest: Double
    var highest: Double
    /// `lowest` itself is not allowed (a timeout must be more than 0).
    var excludesLowest = false
    var wholeNumbers = false

    /// "a whole number from 0 to 10000", "a number of seconds greater than 0, at most 31536000".
    func text(unit: String = "") -> String {
        let kind = (wholeNumbers ? "a whole number" : "a number") + unit
        let low = excludesLowest ? "greater than \(Self.format(lowest))" : "from \(Self.format(lowest))"
        let high = excludesLowest ? ", at most \(Self.format(highest))" : " to \(Self.format(highest))"
        return kind + " " + low + high
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// The value as a Double when it is a number in range, else nil.
    func check(_ value: JSON) -> Double? {
        guard let number = value.doubleValue, number.isFinite else { return nil }
        if wholeNumbers, number.rounded() != number { return nil }
        if excludesLowest ? number <= lowest : number < lowest { return nil }
        if number > highest { return nil }
        return number
    }

    // The ranges of the numeric keys of a step (README: Limits and safety).
    static let timeout = NumericRange(lowest: 0, highest: 31_536_000, excludesLowest: true)  // 365 days
    static let maxRetries = NumericRange(lowest: 0, highest: 10_000, wholeNumbers: true)
    static let interval = NumericRange(lowest: 0, highest: 86_400)  // a day
    static let multiplier = NumericRange(lowest: 0, highest: 1_000)
    static let jitter = NumericRange(lowest: 0, highest: 1)
}

extension Int {
    /// `self * other`, or `Int.max` (`Int.min`) where that would overflow.
    func multipliedSaturated(by other: Int) -> Int {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        if overflow { return (self < 0) != (other < 0) ? .min : .max }
        return product
    }
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic, messages and JSON.
    package var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// This duration within what a clock can wait for without trapping (`now + self` overflows
    /// for durations near `Int64.max` seconds): between zero and `maximumSeconds`. Durations given
    /// in code (`StepOverride.timeout`, `RunOptions.gracePeriod`) go through it before a timer.
    package var clampedForTimer: Duration {
        if self < .zero { return .zero }
        return min(self, .seconds(Int64(Duration.maximumSeconds)))
    }

    /// `seconds` as a Duration that cannot trap: NaN and negative values give zero, values
    /// beyond `maximumSeconds` (or infinite) give `maximumSeconds`. `Duration.seconds(_: Double)`
    /// itself traps on values it cannot represent.
    package static func clampedSeconds(_ seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }  // also NaN
        if seconds >= maximumSeconds { return .seconds(Int64(maximumSeconds)) }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// About 292 years would fit a nanosecond count in Int64; a year is more than any wait needs.
    static let maximumSeconds: Double = 31_536_000
}

extension JSON {
    /// Whether the value nests arrays and objects more than `limit` levels deep. Iterative, and
    /// stops at the first branch that does, so a value built deeper than any parser allows (by
    /// `iterate` wrapping its value once per run, say) is found without recursing into it.
    func nestsDeeper(than limit: Int) -> Bool {
        switch self {
        case .array, .object: break
        default: return false  // the common case, without allocating
        }
        var stack: [(value: JSON, depth: Int)] = [(self, 0)]
        while let (value, depth) = stack.popLast() {
            switch value {
            case .array(let elements):
                if depth + 1 > limit { return true }
                for element in elements { stack.append((element, depth + 1)) }
            case .object(let object):
                if depth + 1 > limit { return true }
                for (_, element) in object { stack.append((element, depth + 1)) }
            default:
                continue
            }
        }
        return false
    }
}
