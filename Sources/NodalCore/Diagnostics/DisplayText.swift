/// Text from a flow or configuration (keys, step ids) as messages show it: control characters
/// escaped, so that a key holding a newline, a carriage return or a terminal escape sequence
/// cannot forge lines of output or drive the terminal that reads the message.
package enum DisplayText {
    /// `text` with C0 and C1 control characters, DEL and the bidirectional overrides written as
    /// escapes (`\n`, `\r`, `\t`, `\u{1B}`); other text unchanged. With `keepingNewlines`, line
    /// feeds and tabs stay as they are (for whole messages, which may span lines on purpose).
    package static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if keepingNewlines, scalar == "\n" || scalar == "\t" {
                out.unicodeScalars.append(scalar)
                continue
            }
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        // Bidirectional embeddings, overrides and isolates: they reorder the text shown after them.
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
