#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (fd 2 directly: the C `stderr` global is not concurrency-safe).
func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    line.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

enum OutputFormat: String, CaseIterable {
    case text, json
}
