/// Strict base64 (RFC 4648's standard alphabet) for `data:` URIs: padding may be left off, but
/// nothing else is let through, so a damaged payload is refused rather than silently shortened.
enum Base64 {
    /// The decoded bytes, or what is wrong with `text` (which character, where).
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> Result<[UInt8], DecodingProblem> {
        Self.sextets.withUnsafeBufferPointer { sextets in decode(text, table: sextets) }
    }

    /// The loop, with the alphabet's table by pointer: bounds checks on it made decoding half as fast.
    private static func decode(_ text: UnsafeBufferPointer<UInt8>, table sextets: UnsafeBufferPointer<UInt8>) -> Result<[UInt8], DecodingProblem> {
        var problem: DecodingProblem?
        // Written in place: a 16 MiB file is millions of bytes, and appending one at a time is slow.
        let bytes = [UInt8](unsafeUninitializedCapacity: text.count / 4 * 3 + 3) { output, written in
            written = 0
            var group: UInt32 = 0, inGroup = 0, padding = 0
            for position in text.indices {
                let character = text[position]
                if character == UInt8(ascii: "=") {
                    padding += 1
                    // Padding only completes a group that has 2 or 3 characters.
                    guard inGroup + padding <= 4, inGroup >= 2 else { problem = .misplacedPadding(position); return }
                    continue
                }
                let value = sextets[Int(character)]
                guard padding == 0 else { problem = .misplacedPadding(position); return }
                guard value != 0xff else { problem = .badCharacter(character, position); return }
                group = group << 6 | UInt32(value)
                inGroup += 1
                if inGroup == 4 {
                    output[written] = UInt8(truncatingIfNeeded: group >> 16)
                    output[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    output[written + 2] = UInt8(truncatingIfNeeded: group)
                    written += 3
                    group = 0
                    inGroup = 0
                }
            }
            if (padding > 0 && inGroup + padding != 4) || inGroup == 1 { problem = .truncated; return }
            if inGroup == 2 {
                output[written] = UInt8(truncatingIfNeeded: group >> 4)
                written += 1
            } else if inGroup == 3 {
                output[written] = UInt8(truncatingIfNeeded: group >> 10)
                output[written + 1] = UInt8(truncatingIfNeeded: group >> 2)
                written += 2
            }
        }
        if let problem { return .failure(problem) }
        return .success(bytes)
    }

    enum DecodingProblem: Error, Equatable, CustomStringConvertible {
        case badCharacter(UInt8, Int)
        case misplacedPadding(Int)
        case truncated

        var description: String {
            switch self {
            case .badCharacter(let byte, let position):
                let shown = (0x21...0x7e).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
                return "is not valid base64: \(shown) at position \(position) of the data is not a base64 character (A-Z, a-z, 0-9, +, /)"
            case .misplacedPadding(let position):
                return "is not valid base64: '=' at position \(position) of the data is padding in the wrong place"
            case .truncated:
                return "is not valid base64: the data ends in the middle of a character group"
            }
        }
    }

    /// Each byte's value in the alphabet, 0xff for bytes outside it.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()
}
