// `pattern` and `patternProperties`: regular expressions through the standard library's `Regex`
// (`_StringProcessing`, no Foundation), configured to behave like ECMA-262 with the `u` flag.

/// A compiled `pattern`. Matching is a search (patterns are not anchored), by Unicode scalar,
/// with `\d`, `\w` and `\b` limited to ASCII as in ECMA-262; `^` and `$` are the ends of the
/// string (no multiline mode), `.` stops at line terminators, and `\p{...}` works as with the
/// `u` flag. Where `Regex` differs from ECMA-262, as measured with Swift 6.3: `.` also stops at
/// U+0085, `\s` is Unicode's White_Space (U+0085 in, U+FEFF out); lookbehind, `[^]` and `\cX`
/// are refused (so the schema is refused, naming the pattern); `Regex`'s own extensions, such as
/// inline options `(?i)`, are accepted.
///
/// Backtracking is not bounded: a pattern such as `(a+)+$` takes exponential time on some
/// strings, as it does in ECMA-262 engines. It cannot overflow the stack (the engine keeps its
/// backtracking state on the heap).
final class SchemaPattern: @unchecked Sendable {
    // `Regex` is not declared Sendable, but a compiled regex is immutable: its program is built
    // once, lazily, and published with an atomic compare-and-swap (`Regex.Program.loweredProgram`
    // in swift-experimental-string-processing), so concurrent matching is safe. It is built eagerly
    // in `init` anyway, by the probe match, so no two threads race to build it.
    private let regex: Regex<AnyRegexOutput>
    let source: String

    init(_ source: String) throws(SchemaPatternError) {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(source)
        } catch {
            throw SchemaPatternError(reason: "\(error)")
        }
        self.regex =
            regex
            .matchingSemantics(.unicodeScalar)
            .asciiOnlyDigits()
            .asciiOnlyWordCharacters()
            .wordBoundaryKind(.simple)
        self.source = source
        _ = matches("")
    }

    func matches(_ string: String) -> Bool {
        // `firstMatch` only throws when a custom component in a regex builder throws; parsed
        // regexes have none. Treat the impossible error as no match rather than crash.
        (try? regex.firstMatch(in: string)) != nil
    }
}

struct SchemaPatternError: Error {
    var reason: String
}
