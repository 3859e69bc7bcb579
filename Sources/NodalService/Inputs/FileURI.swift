import NodalCore
import NodalJSON

/// A `file:` URI (RFC 8089) read from the server's disk, only under a folder the server was
/// started with (`--allow-files DIR`): a client must not make the server read whatever the
/// server's user can.
enum FileURI {
    struct File: Equatable {
        /// The path read, symlinks resolved.
        var path: String
        var bytes: [UInt8]
        var mediaType: String
    }

    /// Reads the file `uri` names when it lies under one of `folders` once `..` and symlinks are
    /// resolved; the error says why not, as the end of a sentence about the URI. A path outside
    /// gets the same answer whether or not it exists.
    static func read(_ uri: String, folders: [String], maxBytes: Int) -> Result<File, Problem> {
        let encodedPath: Substring
        let rest = uri.dropFirst(5)
        if rest.hasPrefix("//") {
            // file://host/path: only the local host, spelled empty or `localhost`.
            let authorityAndPath = rest.dropFirst(2)
            let slash = authorityAndPath.firstIndex(of: "/") ?? authorityAndPath.endIndex
            let host = authorityAndPath[..<slash]
            guard host.isEmpty || host.lowercased() == "localhost" else { return .failure(.remoteHost(String(host))) }
            encodedPath = authorityAndPath[slash...]
        } else {
            encodedPath = rest
        }
        if encodedPath.contains("?") || encodedPath.contains("#") { return .failure(.queryOrFragment) }
        guard case .success(let pathBytes) = PercentEncoding.decode(encodedPath.utf8),
              let path = String(validating: pathBytes, as: UTF8.self), !path.contains("\0")
        else { return .failure(.badPath) }
        guard path.hasPrefix("/") else { return .failure(.notAbsolute) }
        if folders.isEmpty { return .failure(.noGrant) }

        let existing = FileSystem.realPath(path)
        let real = existing ?? FileSystem.resolvingExistingAncestor(FileSystem.lexicallyNormalized(path))
        let roots = folders.map { FileSystem.realPath($0) ?? FileSystem.lexicallyNormalized($0) }
        guard roots.contains(where: { FileSystem.isInside(real, folder: $0) }) else { return .failure(.outsideGrants) }
        guard existing != nil, let size = FileSystem.regularFileSize(real) else { return .failure(.missing) }
        guard size <= maxBytes else { return .failure(.tooLarge(maxBytes)) }
        // Read one byte past the size measured: a file that grew since is still caught.
        let bytes: [UInt8]
        do throws(FileSystemError) { bytes = try FileSystem.readPrefix(real, count: size + 1) } catch {
            return .failure(.unreadable(error.reason))
        }
        guard bytes.count <= size else { return .failure(.changed) }
        return .success(File(path: real, bytes: bytes, mediaType: mediaType(of: real)))
    }

    enum Problem: Error, Equatable, CustomStringConvertible {
        case remoteHost(String)
        case queryOrFragment
        case badPath
        case notAbsolute
        case noGrant
        case outsideGrants
        case missing
        case tooLarge(Int)
        case changed
        case unreadable(String)

        var description: String {
            switch self {
            case .remoteHost(let host):
                "names the host '\(host.prefix(80))'; a file: URI here reads the server's own disk (file:///path)"
            case .queryOrFragment:
                "has a query or fragment ('?', '#'), which a file path does not"
            case .badPath:
                "does not name a path (a bad '%' escape, a NUL or bytes that are not UTF-8)"
            case .notAbsolute:
                "does not name an absolute path (file:///path)"
            case .noGrant:
                "is not read: this server reads no files; a server started with `--allow-files DIR` reads files under DIR"
            case .outsideGrants:
                "is outside the folders this server reads files from, after resolving '..' and symlinks; a server started with `--allow-files DIR` for a folder holding it would read it"
            case .missing:
                "names no regular file"
            case .tooLarge(let limit):
                "names a file of more than \(limit) bytes, the most a file input may have on this server"
            case .changed:
                "names a file that grew while it was read; send it again once it is written"
            case .unreadable(let reason):
                "names a file that cannot be read: \(reason)"
            }
        }
    }

    /// The media type a file's extension usually means, for the step to know what it got.
    static func mediaType(of path: String) -> String {
        let name = FileSystem.baseName(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "txt", "text", "log": return "text/plain"
        case "md", "markdown": return "text/markdown"
        case "csv": return "text/csv"
        case "html", "htm": return "text/html"
        case "json": return "application/json"
        case "yaml", "yml": return "application/yaml"
        case "xml": return "application/xml"
        case "pdf": return "application/pdf"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "svg": return "image/svg+xml"
        case "mp3": return "audio/mpeg"
        case "wav": return "audio/wav"
        case "mp4": return "video/mp4"
        case "zip": return "application/zip"
        case "docx": return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case "xlsx": return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        default: return "application/octet-stream"
        }
    }
}
