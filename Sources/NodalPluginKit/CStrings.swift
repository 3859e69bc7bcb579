// Strings on their way to C: the host reads them up to the first NUL, so a NUL inside a Swift
// string would cut it short. It is replaced, so the whole text arrives.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension String {
    /// The string with each NUL replaced by U+FFFD.
    var withoutNULs: String {
        utf8.contains(0) ? String(map { $0 == "\0" ? "\u{FFFD}" : $0 }) : self
    }

    /// A copy in memory that is never freed, for descriptors the host reads for the life of the
    /// process. A string with a NUL would be cut short in C: it is copied without it.
    var permanentCString: UnsafePointer<CChar> {
        guard let copy = strdup(withoutNULs) else {
            fatalError("NodalPluginKit: out of memory while building the plugin's descriptors")
        }
        return UnsafePointer(copy)
    }
}

/// Calls `body` with C strings for each of `strings` (nil stays NULL), NULs replaced.
func withOptionalCString<Result>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let string else { return body(nil) }
    return string.withoutNULs.withCString { body($0) }
}
