/// `%XX` escapes (RFC 3986) undone: in JSON Schema references, HTTP paths and queries, and the
/// `data:` and `file:` URIs of run inputs. One implementation, so every place refuses the same
/// broken escapes.
public enum PercentEncoding {
    /// Where an escape is not `%` and two hex digits: the offset of its `%` in the input's bytes.
    public struct BadEscape: Error, Equatable, Sendable {
        public var position: Int
        public init(position: Int) { self.position = position }
    }

    /// The bytes `text` stands for. With `plusIsSpace` (HTML form encoding, as in queries) `+`
    /// stands for a space.
    public static func decode(_ text: some Collection<UInt8>, plusIsSpace: Bool = false) -> Result<[UInt8], BadEscape> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var position = 0
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return .failure(BadEscape(position: position))
                }
                bytes.append(high << 4 | low)
                position += 3
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
                position += 1
            default:
                bytes.append(byte)
                position += 1
            }
        }
        return .success(bytes)
    }

    /// The text `text` stands for; nil for a broken escape or bytes that are not UTF-8.
    public static func decodedString(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String? {
        guard case .success(let bytes) = decode(text.utf8, plusIsSpace: plusIsSpace) else { return nil }
        return String(validating: bytes, as: UTF8.self)
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
