/// Paths into a request as errors name them: `input[0].Document.file_metadata.uri`, with keys
/// that are not plain names bracketed and quoted (`input[0]['User Question']`), as the JSON
/// Schema messages write them.
enum InputPath {
    static func appending(_ key: String, to path: String) -> String {
        if isPlainName(key) { return path + "." + key }
        var text = path + "['"
        for character in key {
            if character == "'" || character == "\\" { text.append("\\") }
            text.append(character)
        }
        return text + "']"
    }

    static func appending(index: Int, to path: String) -> String { path + "[\(index)]" }

    /// A key as a message quotes it: whole unless it is long (a client may send a huge one).
    static func shown(_ key: String) -> String {
        key.utf8.count <= 100 ? key : key.prefix(80) + "..."
    }

    private static func isPlainName(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
        }
    }
}
