import Foundation

/// The PostgreSQL server the tests use: `$NODAL_TEST_POSTGRES_URL` when scripts/test started one
/// for the whole run, else a throwaway cluster this test process starts on first use (through
/// scripts/postgres-cluster, as scripts/test does) and stops when it exits. So a plain
/// `swift test --filter ...` runs the PostgreSQL tests too; none is skipped for want of a server.
public enum PostgresTestServer {
    /// The server's URL: the superuser `postgres`, no password, over the Unix socket.
    public static func url() throws -> String { try server.get() }

    /// A new empty database on the server, for one test; its URL. (Databases are not dropped: the
    /// cluster is thrown away with everything in it.)
    public static func freshDatabase(prefix: String = "nodal_test") throws -> String {
        let name = prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try psql("CREATE DATABASE \(name)")
        return try url(database: name)
    }

    /// The database a URL of `freshDatabase` names.
    public static func databaseName(of url: String) -> String {
        String((URLComponents(string: url)?.path ?? "").drop { $0 == "/" })
    }

    /// The server's URL with another database.
    public static func url(database: String) throws -> String {
        let base = try url()
        guard let schemeEnd = base.range(of: "://") else { throw SetupError("not a PostgreSQL URL: \(base)") }
        let afterAuthority = base[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" } ?? base.endIndex
        let queryStart = base[afterAuthority...].firstIndex(of: "?") ?? base.endIndex
        return String(base[..<afterAuthority]) + "/" + database + String(base[queryStart...])
    }

    /// Runs SQL with psql as the superuser (in `database`, else the server URL's); its output.
    @discardableResult
    public static func psql(_ sql: String, database: String? = nil) throws -> String {
        let target = try database.map { try url(database: $0) } ?? url()
        let result = try runProcess("/usr/bin/env", ["psql", "--no-psqlrc", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", target, "-c", sql])
        guard result.status == 0 else { throw SetupError("psql \(sql): \(result.stderr)") }
        return result.stdout
    }

    /// The cluster folder this process started, if it started one (read at exit).
    nonisolated(unsafe) private static var ownCluster: String?

    private static let server: Result<String, SetupError> = {
        if let url = ProcessInfo.processInfo.environment["NODAL_TEST_POSTGRES_URL"], !url.isEmpty { return .success(url) }
        let folder = NSTemporaryDirectory() + "nodal-test-postgres-\(getpid())-" + UUID().uuidString.prefix(8)
        let script = Products.repositoryRoot + "/scripts/postgres-cluster"
        // system(), not Process: this runs inside a lazy static's initializer, with the other tests
        // that want the server blocked on it, and Foundation's Process never saw the script exit
        // there (the script stayed a zombie and waitUntilExit waited for good). system() waits for
        // its own child itself. The script's watcher stops the cluster should this process die
        // before its exit handler runs.
        let output = folder + ".url", log = folder + ".log"
        let status = system(
            "NODAL_CLUSTER_OWNER_PID=\(getpid()) '\(script)' start '\(folder)' >'\(output)' 2>'\(log)' </dev/null")
        let url = (try? String(contentsOfFile: output, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let errors = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: log)
        guard status == 0, !url.isEmpty else {
            return .failure(SetupError("\(script) start \(folder) failed (status \(status)): \(errors)"))
        }
        ownCluster = folder
        atexit {
            guard let folder = PostgresTestServer.ownCluster else { return }
            let script = Products.repositoryRoot + "/scripts/postgres-cluster"
            _ = system("'\(script)' stop '\(folder)' >/dev/null 2>&1")
        }
        return .success(url)
    }()
}
