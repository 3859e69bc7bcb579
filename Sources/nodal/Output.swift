#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (fd 2 directly: the C `stderr` global is not concurrency-safe).
func printError(_ message: String) {
    writeAll(2, message + "\n")
}

enum OutputFormat: String, CaseIterable {
    case text, json
}
