import NodalJSON
/// Reading the text of flows and configuration files: a UTF-8 byte order mark at the start is
/// skipped (editors on Windows write one), and parse errors say where without quoting the text.
enum TextInput {
    static func droppingByteOrderMark(_ text: String) -> String {
        text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
    }

    /// Parses JSON text for a flow, a configuration or an input file. The error names the line
    /// and column and the parser's reason, not the character found there.
    static func parseJSON(_ text: String, file: String?) throws(FlowError) -> JSON {
        let text = droppingByteOrderMark(text)
        do {
            return try JSON(parsing: text)
        } catch {
            let (line, column) = lineAndColumn(ofByte: error.offset, in: Array(text.utf8))
            throw FlowError(file: file, "malformed JSON at line \(line), column \(column): \(reasonWithoutText(error.reason))")
        }
    }

    /// "unexpected character 'x'" is "unexpected character": the reason, without what was found.
    static func reasonWithoutText(_ reason: String) -> String {
        guard let quote = reason.firstRange(of: " '") else { return reason }
        return String(reason[..<quote.lowerBound])
    }

    /// 1-based line and column (in bytes) of a byte offset.
    static func lineAndColumn(ofByte offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, lineStart = 0
        let end = min(max(offset, 0), bytes.count)
        for index in 0..<end where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, end - lineStart + 1)
    }
}
