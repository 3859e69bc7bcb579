extension JSON {
    /// Compact JSON text; keys in stored order.
    public func serialized() -> String {
        var bytes: [UInt8] = []
        write(to: &bytes, sortedKeys: false)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Compact UTF-8 JSON bytes; keys in stored order.
    public func serializedBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        write(to: &bytes, sortedKeys: false)
        return bytes
    }

    /// The canonical form used for cache keys: keys sorted by their UTF-8 bytes, no
    /// insignificant whitespace. (Blob ids hash `serializedBytes()`, keys in document order.)
    public func canonicalSerialized() -> String {
        var bytes: [UInt8] = []
        write(to: &bytes, sortedKeys: true)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Indented text for people (two spaces, keys in stored order).
    public func prettyPrinted() -> String {
        var out = ""
        pretty(into: &out, indent: 0)
        return out
    }

    package func write(to out: inout [UInt8], sortedKeys: Bool) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .int(let i): Self.writeInt(i, to: &out)
        case .double(let d): Self.writeDouble(d, to: &out)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out, sortedKeys: sortedKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            let entries = sortedKeys
                ? object.entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                : object.entries
            for (index, entry) in entries.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(entry.key, to: &out)
                out.append(UInt8(ascii: ":"))
                entry.value.write(to: &out, sortedKeys: sortedKeys)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    package static func writeInt(_ value: Int, to out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        out.append(contentsOf: String(value).utf8)
    }

    /// Writes a finite double as Stepflow's serde_json does (checked against Stepflow 0.13's
    /// blob ids), so that text and blob ids match: the shortest digits that read back the same,
    /// `42.0` for whole numbers, plain decimals from `0.00001` up to 16 integer digits, and
    /// `1e+16` / `1.5e-7` beyond.
    package static func writeDouble(_ value: Double, to out: inout [UInt8]) {
        // JSON has no NaN or infinity.
        guard value.isFinite else { out.append(contentsOf: Array("null".utf8)); return }
        if value.sign == .minus { out.append(UInt8(ascii: "-")) }
        if value == 0 { out.append(contentsOf: Array("0.0".utf8)); return }
        // Whole numbers of up to 16 digits read as their digits and ".0": no text formatting.
        if value.rounded(.towardZero) == value, abs(value) < 1e16 {
            writeInt(Int(abs(value)), to: &out)
            out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
            return
        }
        let (digits, pointPosition) = shortestDigits(abs(value))
        let length = digits.count
        let zeros = pointPosition - length  // ryu's k: value = digits × 10^k
        if zeros >= 0 && pointPosition <= 16 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: zeros))
            out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
        } else if pointPosition > 0 && pointPosition <= 16 {
            out.append(contentsOf: digits[..<pointPosition])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[pointPosition...])
        } else if pointPosition > -5 && pointPosition <= 0 {
            out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -pointPosition))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if length > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            if pointPosition - 1 > 0 { out.append(UInt8(ascii: "+")) }
            out.append(contentsOf: String(pointPosition - 1).utf8)
        }
    }

    /// The shortest round-tripping decimal digits of a positive finite double (from Swift's own
    /// shortest formatting) without leading or trailing zeros, and where the decimal point goes:
    /// the value is `0.digits × 10^pointPosition`.
    static func shortestDigits(_ value: Double) -> (digits: [UInt8], pointPosition: Int) {
        let text = Array(value.description.utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(of: UInt8(ascii: "e")) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(mantissa.count)
        var integerDigits = 0
        var seenPoint = false
        for byte in mantissa {
            if byte == UInt8(ascii: ".") { seenPoint = true; continue }
            digits.append(byte)
            if !seenPoint { integerDigits += 1 }
        }
        var pointPosition = integerDigits + exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, pointPosition)
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    package static func writeString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                switch byte {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                default:
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private func pretty(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent)
        let innerPad = String(repeating: "  ", count: indent + 1)
        switch self {
        case .array(let array) where !array.isEmpty:
            out += "[\n"
            for (index, element) in array.enumerated() {
                out += innerPad
                element.pretty(into: &out, indent: indent + 1)
                out += index == array.count - 1 ? "\n" : ",\n"
            }
            out += pad + "]"
        case .object(let object) where !object.isEmpty:
            out += "{\n"
            for (index, entry) in object.entries.enumerated() {
                out += innerPad + JSON.string(entry.key).serialized() + ": "
                entry.value.pretty(into: &out, indent: indent + 1)
                out += index == object.count - 1 ? "\n" : ",\n"
            }
            out += pad + "}"
        default:
            out += serialized()
        }
    }
}
