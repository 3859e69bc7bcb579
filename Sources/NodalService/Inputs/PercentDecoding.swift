/// `%XX` escapes in URIs (RFC 3986), for `data:` payloads written without base64 and `file:` paths.
enum PercentDecoding {
    /// The bytes `text` stands for, or the position of an escape that is not `%` and two hex digits.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> Result<[UInt8], BadEscape> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < text.count, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) else {
                    return .failure(BadEscape(position: index))
                }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return .success(bytes)
    }

    /// The same for text that is not in one piece already.
    static func decode(_ text: Substring) -> Result<[UInt8], BadEscape> {
        var text = String(text)
        return text.withUTF8 { decode($0) }
    }

    struct BadEscape: Error, Equatable {
        var position: Int
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
