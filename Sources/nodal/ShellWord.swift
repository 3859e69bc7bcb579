import Foundation

/// Paths as the files `nodal plugins new` writes must spell them: a nodal or a header folder
/// under a prefix with a blank, a quote, `$` or `#` in it is still one word there.
enum ShellWord {
    /// `text` as one word of a POSIX shell: as it is when it holds only characters no shell
    /// reads specially, else in single quotes (a quote inside written as '\'').
    static func quoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "/._-+,:=@%".unicodeScalars.contains(scalar)
        }
        if plain, !text.isEmpty { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// `text` (shell text) as a Makefile line carries it to the recipe's shell: `$` doubled and
    /// `#` escaped, which make would otherwise read as a variable and a comment.
    static func forMake(_ text: String) -> String {
        text.replacingOccurrences(of: "$", with: "$$").replacingOccurrences(of: "#", with: "\\#")
    }

    /// `text` inside a Swift string literal.
    static func swiftLiteral(_ text: String) -> String {
        text.replacingOccurrences(of: #"\"#, with: #"\\"#).replacingOccurrences(of: "\"", with: #"\""#)
    }
}
