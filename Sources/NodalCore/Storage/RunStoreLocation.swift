public import NodalJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a run store lives, as written in `--store`, `NODAL_STORE` or a Stepflow config's
/// `storageConfig`, and the way to open it.
///
/// Accepted spellings:
///
/// | written | store |
/// |---|---|
/// | `inMemory`, `memory` | ``InMemoryRunStore`` |
/// | `sqlite::memory:`, `sqlite://:memory:`, `:memory:` | ``SQLiteRunStore`` in memory |
/// | `sqlite:path/to/file.db`, `sqlite://rel.db`, `sqlite:///abs/path.db`, `file:...` | ``SQLiteRunStore`` at that path |
/// | `path/to/file.db`, `/abs/path.db`, `~/nodal.db` | ``SQLiteRunStore`` at that path |
/// | `postgres://user@host/db`, `postgresql://...` | `PostgresRunStore` (NodalPostgres): see ``PostgresLocation`` |
///
/// For SQLite a query (`?mode=rwc`) or fragment is ignored; `%XX` escapes in URLs are decoded;
/// relative paths are relative to `relativeTo` when given (a config file's folder), else to the
/// working directory.
public enum RunStoreLocation: Sendable, Hashable, CustomStringConvertible {
    case inMemory
    /// An SQLite database file, or `":memory:"`.
    case sqlite(path: String)
    /// A PostgreSQL database; opened by `PostgresRunStore` in NodalPostgres.
    case postgres(PostgresLocation)

    public init(parsing text: String, relativeTo directory: String? = nil) throws(RunStoreError) {
        let trimmed = text.trimmingWhitespace
        guard !trimmed.isEmpty else {
            throw RunStoreError(.unsupportedLocation, "the run store location is empty")
        }
        switch trimmed.lowercased() {
        case "inmemory", "in-memory", "in_memory", "memory", "memory:", "mem:":
            self = .inMemory
            return
        default: break
        }
        let scheme = Self.scheme(of: trimmed)
        switch scheme?.lowercased() {
        case nil:
            self = .sqlite(path: Self.resolve(trimmed, relativeTo: directory))
        case "sqlite", "sqlite3", "file":
            var rest = String(trimmed.dropFirst(scheme!.count + 1))
            if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = String(rest[..<cut]) }
            if rest.hasPrefix("//") { rest.removeFirst(2) }  // sqlite://rel.db, sqlite:///abs.db
            rest = Self.percentDecoded(rest)
            if rest.isEmpty {
                throw RunStoreError(.unsupportedLocation, "the run store location '\(text)' names no database file")
            }
            if rest == ":memory:" {
                self = .sqlite(path: ":memory:")
            } else {
                self = .sqlite(path: Self.resolve(rest, relativeTo: directory))
            }
        case "postgres", "postgresql":
            self = .postgres(try PostgresLocation(url: trimmed))
        default:
            throw RunStoreError(
                .unsupportedLocation,
                "unsupported run store location '\(PostgresLocation.redacted(trimmed))': use a file path, sqlite:PATH, sqlite::memory:, "
                    + "postgres://USER@HOST/DATABASE or inMemory")
        }
    }

    /// A Stepflow config's `storageConfig` (or `stateStore`): `{type: inMemory}`,
    /// `{type: sqlite, databaseUrl: "sqlite:workflow_state.db"}` or
    /// `{type: postgres, databaseUrl: "postgres://..."}`. `maxConnections` sets a PostgreSQL store's
    /// pool size (unless the URL's `pool_size` does); `autoMigrate` is accepted and ignored:
    /// migrations always run.
    public init(storageConfig: JSON, relativeTo directory: String? = nil) throws(RunStoreError) {
        guard case .object(let object) = storageConfig else {
            throw RunStoreError(.unsupportedLocation, "storageConfig must be a mapping with a 'type'")
        }
        guard let type = object["type"]?.stringValue else {
            throw RunStoreError(.unsupportedLocation, "storageConfig needs 'type' (inMemory or sqlite)")
        }
        switch type.lowercased() {
        case "inmemory", "memory", "in-memory":
            self = .inMemory
        case "sqlite":
            guard let url = object["databaseUrl"]?.stringValue ?? object["databaseURL"]?.stringValue
                ?? object["path"]?.stringValue
            else {
                throw RunStoreError(.unsupportedLocation, "storageConfig of type sqlite needs 'databaseUrl' (e.g. \"sqlite:nodal.db\")")
            }
            self = try RunStoreLocation(parsing: url, relativeTo: directory)
            if case .inMemory = self { self = .sqlite(path: ":memory:") }
        case "postgres", "postgresql":
            guard let url = object["databaseUrl"]?.stringValue ?? object["databaseURL"]?.stringValue else {
                throw RunStoreError(.unsupportedLocation, "storageConfig of type \(type) needs 'databaseUrl' (e.g. \"postgres://nodal@db/nodal\")")
            }
            var location = try PostgresLocation(url: url)
            if let size = object["maxConnections"]?.intValue, !url.contains("pool_size=") {
                guard (1...1000).contains(size) else {
                    throw RunStoreError(.unsupportedLocation, "storageConfig maxConnections must be 1 to 1000, not \(size)")
                }
                location.poolSize = size
            }
            self = .postgres(location)
        default:
            throw RunStoreError(.unsupportedLocation, "unknown storageConfig type '\(type)' (known: inMemory, sqlite, postgres)")
        }
    }

    public var description: String {
        switch self {
        case .inMemory: "inMemory"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }

    // MARK: The default location

    /// The CLI's store when neither `--store` nor a config names one:
    /// 1. `$NODAL_STORE`, if set and not empty (any spelling `init(parsing:)` accepts);
    /// 2. else `$XDG_DATA_HOME/nodal/nodal.db`, if `XDG_DATA_HOME` is an absolute path;
    /// 3. else `~/.local/share/nodal/nodal.db` (on macOS `~/Library/Application Support/nodal/nodal.db`),
    ///    `~` being `$HOME`, or the user's home folder from the password database;
    /// 4. else `nodal.db` in the working directory.
    public static var defaultPath: String {
        defaultPath { FileSystem.environment($0) }
    }

    /// `defaultPath` for the given environment variables (for tests and for hosts with their own).
    public static func defaultPath(environment: [String: String]) -> String {
        defaultPath { environment[$0] }
    }

    static func defaultPath(_ variable: (String) -> String?) -> String {
        if let store = variable("NODAL_STORE"), !store.isEmpty { return store }
        #if !os(macOS)
        if let data = variable("XDG_DATA_HOME"), data.hasPrefix("/") {
            return FileSystem.join(data, "nodal/nodal.db")
        }
        #endif
        guard let home = variable("HOME").flatMap({ $0.isEmpty ? nil : $0 }) ?? passwordHome() else {
            return "nodal.db"
        }
        #if os(macOS)
        return FileSystem.join(home, "Library/Application Support/nodal/nodal.db")
        #else
        return FileSystem.join(home, ".local/share/nodal/nodal.db")
        #endif
    }

    /// The default location, parsed.
    public static var `default`: RunStoreLocation {
        get throws(RunStoreError) { try RunStoreLocation(parsing: defaultPath) }
    }

    // MARK: Parsing helpers

    /// `sqlite` in `sqlite:...`: letters, digits, `+`, `-`, `.` before the first colon, at least two
    /// characters (so a Windows drive letter is not a scheme). `nil` for a plain path.
    private static func scheme(of text: String) -> String? {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        let candidate = text[..<colon]
        guard candidate.count >= 2, candidate.first!.isLetter,
            candidate.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        return String(candidate)
    }

    private static func resolve(_ path: String, relativeTo directory: String?) -> String {
        if path == ":memory:" { return path }
        if path == "~" || path.hasPrefix("~/") {
            if let home = FileSystem.environment("HOME") ?? passwordHome() {
                return FileSystem.join(home, String(path.dropFirst(2)))
            }
        }
        if path.hasPrefix("/") { return path }
        if let directory { return FileSystem.join(directory, path) }
        return path
    }

    private static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8.removeFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func passwordHome() -> String? {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
        let home = String(cString: directory)
        return home.isEmpty ? nil : home
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

/// File operations the store needs beyond `FileSystem`'s.
package enum StoreFiles {
    /// `mkdir -p`: creates `path` and missing parents (mode 0755, less the umask).
    package static func createDirectories(_ path: String) throws(FileSystemError) {
        if path.isEmpty || path == "." || path == "/" || FileSystem.isDirectory(path) { return }
        let parent = FileSystem.directoryName(path)
        if parent != path { try createDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw FileSystemError(path: path, reason: FileSystem.errnoText())
        }
        if !FileSystem.isDirectory(path) {
            throw FileSystemError(path: path, reason: "exists and is not a folder")
        }
    }
}
