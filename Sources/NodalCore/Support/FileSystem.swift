import NodalJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system call that failed, with the path and the system's reason.
package struct FileSystemError: Error, CustomStringConvertible {
    package var path: String
    package var reason: String
    package var description: String { "\(path): \(reason)" }
}

/// The few file operations the engine needs, straight on the C library (no Foundation on this path).
package enum FileSystem {
    package static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    package static func readBytes(_ path: String) throws(FileSystemError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw FileSystemError(path: path, reason: errnoText()) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count {
                if ferror(file) != 0 { throw FileSystemError(path: path, reason: errnoText()) }
                break
            }
        }
        return bytes
    }

    package static func readText(_ path: String) throws(FileSystemError) -> String {
        let bytes = try readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FileSystemError(path: path, reason: "not valid UTF-8 text")
        }
        return text
    }

    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    package static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// A regular file this process may execute.
    package static func isExecutableFile(_ path: String) -> Bool {
        isFile(path) && access(path, X_OK) == 0
    }

    /// Names in a directory (not `.`/`..`), sorted so that scans are deterministic.
    package static func contentsOfDirectory(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The size of a regular file (following symlinks); nil when the path is missing or not a file.
    package static func regularFileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// An absolute path with `.`, `..` and repeated slashes removed, without touching the disk
    /// (so a `..` after a symlink is not what the kernel would make of it: use `realPath` for
    /// paths that exist).
    package static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    package static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    package static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    package static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    package static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    package static var currentDirectory: String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    package static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The running executable's path (Linux: /proc/self/exe).
    package static var executablePath: String? { realPath("/proc/self/exe") }
}

extension FileSystem {
    /// The first `count` bytes of a file (fewer if it is shorter).
    package static func readPrefix(_ path: String, count: Int) throws(FileSystemError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw FileSystemError(path: path, reason: errnoText()) }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, count, file) }
        return Array(bytes[0..<read])
    }
}

// Confinement: whether a path lies inside a folder, symlinks resolved (load_file, sub-flows).
extension FileSystem {
    package static func isInside(_ path: String, folder: String) -> Bool {
        if folder == "/" { return true }
        return path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// For a path that does not exist: its deepest existing ancestor with symlinks resolved, plus
    /// the rest, so a missing file under a symlink that leads out is still seen to be outside.
    package static func resolvingExistingAncestor(_ path: String) -> String {
        var ancestor = path
        var rest: [String] = []
        while ancestor != "/" {
            if let real = realPath(ancestor) {
                return rest.reversed().reduce(real) { join($0, $1) }
            }
            rest.append(baseName(ancestor))
            ancestor = directoryName(ancestor)
        }
        return path
    }
}
