import NodalJSON
package import NodalService

/// The OpenAPI document as this server serves it: the template (`OpenAPIDocument+Template.swift`)
/// with the run service's limits written where the template marks them with `x-nodal-limit`, so
/// what the document allows is what this server accepts (`--max-wait`, `--max-items`).
package enum OpenAPIDocument {
    package static func served(limits: ServiceLimits) -> String {
        // The template is this file's own constant: a parse failure is a bug a test catches.
        guard let document = try? JSON(parsing: template) else { return template }
        return fillingLimits(document, limits).prettyPrinted()
    }

    static func fillingLimits(_ value: JSON, _ limits: ServiceLimits) -> JSON {
        switch value {
        case .array(let array):
            return .array(array.map { fillingLimits($0, limits) })
        case .object(var object):
            if case .string(let limit)? = object["x-nodal-limit"] {
                object["x-nodal-limit"] = nil
                let maxWait = Int(limits.maxWait.components.seconds)
                switch limit {
                case "maxWaitSeconds": object["maximum"] = .int(maxWait)
                case "maxWaitSecondsText": object["pattern"] = .string(DecimalRange.pattern(upTo: maxWait, fractions: true))
                case "maxWaitSecondsDigits": object["pattern"] = .string(DecimalRange.pattern(upTo: maxWait, fractions: false))
                case "maxItemsPerRun": object["maxItems"] = .int(limits.maxItemsPerRun)
                default: break
                }
            }
            var filled = JSONObject()
            for (key, member) in object { filled[key] = fillingLimits(member, limits) }
            return .object(filled)
        default:
            return value
        }
    }
}

/// A regular expression for the decimal numbers from 0 to `maximum` (leading zeros allowed, and a
/// fraction when `fractions`, none past `maximum` itself): how a document bounds a number that
/// the spec writes as a string.
package enum DecimalRange {
    package static func pattern(upTo maximum: Int, fractions: Bool) -> String {
        let digits = Array(String(max(0, maximum)))
        var below: [String] = []
        // Fewer digits than the maximum.
        if digits.count > 1 { below.append("[0-9]{1,\(digits.count - 1)}") }
        // As many digits: the same up to some place, then a smaller digit there, then any.
        for (place, digit) in digits.enumerated() where digit != "0" {
            let rest = digits.count - place - 1
            let smaller = digit == "1" ? "0" : "[0-\(Character(UnicodeScalar(digit.asciiValue! - 1)))]"
            below.append(String(digits[..<place]) + smaller + (rest > 0 ? "[0-9]{\(rest)}" : ""))
        }
        let exact = String(digits)
        let fraction = fractions ? "(\\.[0-9]+)?" : ""
        let exactFraction = fractions ? "(\\.0+)?" : ""
        let alternatives = below.isEmpty ? "" : "(" + below.joined(separator: "|") + ")" + fraction + "|"
        return "^0*(" + alternatives + exact + exactFraction + ")$"
    }
}
