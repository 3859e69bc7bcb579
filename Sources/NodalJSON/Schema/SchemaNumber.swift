// Numbers as schema keywords see them: JSON keeps integers and doubles apart, and comparisons
// between the two must be exact (a 64-bit integer does not always fit a double).

/// A number from a schema (`minimum: 3`, `multipleOf: 0.01`), kept as it was written.
enum SchemaNumber: Sendable {
    case int(Int)
    case double(Double)

    init?(_ json: JSON) {
        switch json {
        case .int(let i): self = .int(i)
        case .double(let d) where d.isFinite: self = .double(d)
        default: return nil
        }
    }

    var json: JSON {
        switch self {
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        }
    }

    /// The number's JSON text, for messages.
    var text: String { json.serialized() }

    var isPositive: Bool {
        switch self {
        case .int(let i): i > 0
        case .double(let d): d > 0
        }
    }
}

enum NumberComparison {
    /// Whether `value` keeps a bound: `accepts` is given -1, 0 or 1 as `value` is below, equal to
    /// or above `limit`. A value that is not a number keeps every bound (the keyword does not apply
    /// to it), and NaN, which no JSON text holds but YAML can write (`.nan`), keeps none: it is
    /// neither below, equal to nor above any number.
    static func keeps(_ value: JSON, _ limit: SchemaNumber, _ accepts: (Int) -> Bool) -> Bool {
        if case .double(let number) = value, number.isNaN { return false }
        guard let order = compare(value, limit) else { return true }
        return accepts(order)
    }

    /// -1, 0 or 1 as `value` is below, equal to or above `limit`. Nil when `value` is not a number
    /// or is NaN.
    static func compare(_ value: JSON, _ limit: SchemaNumber) -> Int? {
        if case .double(let number) = value, number.isNaN { return nil }
        switch (value, limit) {
        case (.int(let a), .int(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.double(let a), .double(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.int(let a), .double(let b)): return compare(a, b)
        case (.double(let a), .int(let b)): return -compare(b, a)
        default: return nil
        }
    }

    /// Exact comparison of an integer with a finite double (NaN counts as above every integer,
    /// rather than trapping on the conversion below).
    static func compare(_ a: Int, _ b: Double) -> Int {
        if b.isNaN { return -1 }
        if b >= 9_223_372_036_854_775_808.0 { return -1 }  // 2^63: above every Int
        if b < -9_223_372_036_854_775_808.0 { return 1 }
        let whole = b.rounded(.down)  // now in Int's range
        let wholeInt = Int(whole)
        if a != wholeInt { return a < wholeInt ? -1 : 1 }
        return whole == b ? 0 : -1  // equal integer parts: b's fraction puts it above a
    }

    /// Whether `value` is an integer multiple of the positive `divisor`, exactly: both are read
    /// as the decimals they print as (so 0.3 is a multiple of 0.1, which a floating-point
    /// quotient gets wrong), and the divisibility is decided in integers.
    static func isMultiple(_ value: JSON, of divisor: SchemaNumber) -> Bool {
        if case .int(let a) = value, case .int(let b) = divisor { return a % b == 0 }
        guard let x = decimal(value), let m = decimal(divisor.json), m.mantissa > 0 else { return false }
        if x.mantissa == 0 { return true }
        let a = x.mantissa.magnitude
        let b = m.mantissa.magnitude
        if x.exponent >= m.exponent {
            // value / divisor = (a / b) * 10^k: an integer exactly when b divides a * 10^k.
            let k = x.exponent - m.exponent
            return multiplyModulo(a % b, powerOf10Modulo(k, b), b) == 0
        }
        // value / divisor = a / (b * 10^k): b * 10^k must divide a, so it cannot be larger.
        var scaled = b
        for _ in 0..<(m.exponent - x.exponent) {
            let (next, overflow) = scaled.multipliedReportingOverflow(by: 10)
            if overflow || next > a { return false }
            scaled = next
        }
        return a % scaled == 0
    }

    private static func multiplyModulo(_ x: UInt, _ y: UInt, _ modulus: UInt) -> UInt {
        // x, y < modulus, so the high word of the product is below the modulus.
        modulus.dividingFullWidth(x.multipliedFullWidth(by: y)).remainder
    }

    private static func powerOf10Modulo(_ exponent: Int, _ modulus: UInt) -> UInt {
        var result: UInt = 1 % modulus
        var base: UInt = 10 % modulus
        var exponent = exponent
        while exponent > 0 {
            if exponent & 1 == 1 { result = multiplyModulo(result, base, modulus) }
            base = multiplyModulo(base, base, modulus)
            exponent >>= 1
        }
        return result
    }

    /// `value` as mantissa × 10^exponent, read from its shortest round-trip text.
    static func decimal(_ value: JSON) -> (mantissa: Int, exponent: Int)? {
        switch value {
        case .int(let i):
            return (i, 0)
        case .double(let d):
            guard d.isFinite else { return nil }
            var mantissa = 0
            var exponent = 0
            var negative = false
            var afterPoint = false
            var utf8 = d.description.utf8[...]
            while let byte = utf8.first {
                utf8 = utf8.dropFirst()
                switch byte {
                case UInt8(ascii: "-"): negative = true
                case UInt8(ascii: "."): afterPoint = true
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let (times10, overflow1) = mantissa.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                    if overflow1 || overflow2 { return nil }
                    mantissa = sum
                    if afterPoint { exponent -= 1 }
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    guard let power = Int(String(decoding: utf8, as: UTF8.self)) else { return nil }
                    exponent += power
                    utf8 = utf8.suffix(0)
                default:
                    return nil
                }
            }
            return (negative ? -mantissa : mantissa, exponent)
        default:
            return nil
        }
    }
}
