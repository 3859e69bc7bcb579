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

extension Duration {
    /// `seconds` as a Duration that cannot trap: NaN and negative values give zero, values
    /// beyond `maximumSeconds` (or infinite) give `maximumSeconds`. `Duration.seconds(_: Double)`
    /// itself traps on values it cannot represent.
    static func clampedSeconds(_ seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }  // also NaN
        if seconds >= maximumSeconds { return .seconds(Int64(maximumSeconds)) }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// About 292 years would fit a nanosecond count in Int64; a year is more than any wait needs.
    static let maximumSeconds: Double = 31_536_000
}
