import ArgumentParser
import Logging
import Nodal
import NodalServer
import NodalService
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the run service: Stepflow's REST API and JSON-RPC under /api/v1, over the run store.",
        discussion: """
            Listens on 127.0.0.1:7837 unless told otherwise and prints `nodal serve: listening on http://HOST:PORT` on \
            standard error once it does (with the real port when --port 0 asked for a free one). Listening on any other \
            address needs a token (--token-file or NODAL_TOKEN), which every route but /api/v1/health then checks. \
            SIGTERM or SIGINT stops it gracefully: it stops accepting, ends waits and event streams, lets running steps \
            finish and checkpoint for up to --drain-timeout, and exits 0; the next start resumes the runs that did not end.
            """)

    @Option(help: "The address to listen on. Anything but a loopback address needs a token.")
    var host = ServerConfiguration.defaultHost

    @Option(help: "The port to listen on; 0 picks a free one (printed).")
    var port = ServerConfiguration.defaultPort

    @Option(name: .customLong("token-file"), help: ArgumentHelp("A file holding the bearer token clients must send (Authorization: Bearer TOKEN). Default: $NODAL_TOKEN.", valueName: "FILE"))
    var tokenFile: String?

    @Option(name: .customLong("max-body-bytes"), help: "The largest request body, in bytes (larger: 413).")
    var maxBodyBytes = ServerConfiguration.defaultMaxBodyBytes

    @Option(name: .customLong("max-items"), help: "The most items one run may have (more: 413, naming the input).")
    var maxItems = ServiceLimits.default.maxItemsPerRun

    @Option(name: .customLong("max-wait"), help: "The longest wait a request may ask for, in seconds (wait=true, timeoutSecs).")
    var maxWait = Int(ServiceLimits.default.maxWait.components.seconds)

    @Option(name: .customLong("allow-files"), help: ArgumentHelp("A folder whose files inputs may name as file: URIs. Repeatable.", valueName: "DIR"))
    var allowFiles: [String] = []

    @Option(name: .customLong("allow-uri-scheme"), help: ArgumentHelp("A URI scheme (https, s3, ...) file inputs may use, passed to the step as it is. Repeatable.", valueName: "SCHEME"))
    var allowURISchemes: [String] = []

    @Option(name: .customLong("drain-timeout"), help: "On shutdown, how long running steps may take to finish and checkpoint, in seconds.")
    var drainTimeout = Int(ServiceLimits.default.drainTimeout.components.seconds)

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may send nothing while the server waits for its request before it is closed.")
    var idleTimeout = Int(ServerConfiguration.defaultIdleTimeout.components.seconds)

    @Option(name: .customLong("blocking-threads"), help: "Threads for plugin calls that may block (most C nodes, /std/sleep), shared by every run of the server; calls past them wait their turn.")
    var blockingThreads = ServeCommand.defaultBlockingThreads

    /// A server runs many runs at once, each of which may sit in a slow blocking call: far more
    /// threads than `nodal run`'s 2 per core. An idle thread costs its stack's address space only.
    static let defaultBlockingThreads = 64

    @Option(help: "With a PostgreSQL store: items this server runs itself at once, as an in-process worker (0: only `nodal worker` processes run them).")
    var workers = 0

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        try await exiting {
            let configuration = try serverConfiguration()
            let limits = configuration.serviceLimits
            let grants = try inputGrants()
            guard (1...4096).contains(blockingThreads) else { throw CLIError.usage("--blocking-threads must be 1 to 4096, not \(blockingThreads)") }
            let engine = try engineOptions.makeEngine(forFlowAt: nil, blockingThreads: blockingThreads)
            guard (0...1024).contains(workers) else { throw CLIError.usage("--workers must be 0 to 1024, not \(workers)") }
            let location = try storeOptions.location(configuration: engine.configuration)
            // A shared store: runs go to its work queue, for workers in any process.
            let queued: Bool
            if case .postgres = location { queued = true } else { queued = false }
            if workers > 0 && !queued {
                throw CLIError.usage("--workers needs a PostgreSQL store (--store postgres://...): with \(location) the server runs every item itself")
            }
            let store = try await storeOptions.open(configuration: engine.configuration)
            // One server per store file: it recovers the runs it finds running, which would be
            // the other server's live runs. Held until the process ends.
            let lock: ExclusiveFileLock?
            do {
                lock = try storeLock(for: storeOptions.location(configuration: engine.configuration))
            } catch {
                try? await store.close()
                throw error
            }
            defer { withExtendedLifetime(lock) {} }
            let service: RunService
            var inProcessWorkers: [any Service] = []
            do {
                service = try RunService(engine: engine, store: store, limits: limits, grants: grants, execution: queued ? .queued : .inProcess)
                if workers > 0 { inProcessWorkers = [try RunWorker(service: service, options: RunWorker.Options(concurrency: workers))] }
            } catch {
                try? await store.close()
                throw CLIError.store("\(error)")
            }
            if queued && workers == 0 {
                writeAll(2, "nodal serve: runs go to the work queue of \(location); start `nodal worker --store ...` to run them (or --workers N here)\n")
            }
            var handler = LogLines()
            // The server's own info lines (started, listening) would repeat the one line below.
            handler.logLevel = .warning
            let logger = Logger(label: "nodal-serve") { _ in handler }
            do {
                try await runServer(service: service, configuration: configuration, workers: inProcessWorkers, logger: logger) { host, port in
                    // Written at once (not through a buffer): scripts and tests wait for this line.
                    writeAll(2, "nodal serve: listening on \(ServerConfiguration.url(host: host, port: port))\n")
                }
            } catch {
                // Most often the port is taken: 69, sysexits' "service unavailable", as for a server the CLI cannot reach.
                try? await store.close()
                printError("error: cannot serve on \(ServerConfiguration.url(host: host, port: port)): \(error)")
                throw ExitStatus.plugin.exitCode
            }
            try? await store.close()
        }
    }

    /// The lock on an SQLite store file; none for a store in memory, which no other process sees.
    func storeLock(for location: RunStoreLocation) throws -> ExclusiveFileLock? {
        guard case .sqlite(let path) = location, path != ":memory:" else { return nil }
        do {
            return try ExclusiveFileLock(path: path)
        } catch {
            if error.held {
                throw CLIError.store("the run store \(path) is in use by another `nodal serve` (one server per store file: it recovers the runs it finds running)")
            }
            throw CLIError.store("cannot lock the run store: \(error)")
        }
    }

    func serverConfiguration() throws -> ServerConfiguration {
        guard (0...65535).contains(port) else { throw CLIError.usage("--port must be 0 to 65535, not \(port)") }
        guard maxBodyBytes >= 1 else { throw CLIError.usage("--max-body-bytes must be 1 or more, not \(maxBodyBytes)") }
        guard (1...86_400).contains(idleTimeout) else { throw CLIError.usage("--idle-timeout must be 1 to 86400 seconds, not \(idleTimeout)") }
        let configuration = ServerConfiguration(
            host: host, port: port, token: try token(), maxBodyBytes: maxBodyBytes, serviceLimits: try serviceLimits(),
            idleTimeout: .seconds(idleTimeout))
        if let problem = configuration.problem() { throw CLIError.usage(problem) }
        return configuration
    }

    /// `--token-file` wins over `NODAL_TOKEN`; surrounding whitespace (a file's last newline) is not
    /// part of the token, and an empty one is refused rather than read as "no token".
    func token() throws -> String? {
        let text: String
        let source: String
        if let tokenFile {
            try requireReadableFile(tokenFile, what: "--token-file")
            do { text = try FileSystem.readText(tokenFile) } catch { throw CLIError.notFound("--token-file \(error)") }
            source = "--token-file \(tokenFile)"
        } else if let environment = FileSystem.environment("NODAL_TOKEN") {
            text = environment
            source = "NODAL_TOKEN"
        } else {
            return nil
        }
        let token = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !token.isEmpty else { throw CLIError.usage("\(source) is empty: give a token, or none") }
        guard !token.contains(where: \.isNewline), token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw CLIError.usage("\(source): a token is one line of printable ASCII without spaces")
        }
        return token
    }

    func serviceLimits() throws -> ServiceLimits {
        guard maxItems >= 1 else { throw CLIError.usage("--max-items must be 1 or more, not \(maxItems)") }
        guard maxWait >= 0 else { throw CLIError.usage("--max-wait must be 0 or more seconds, not \(maxWait)") }
        guard drainTimeout >= 0 else { throw CLIError.usage("--drain-timeout must be 0 or more seconds, not \(drainTimeout)") }
        var limits = ServiceLimits.default
        limits.maxItemsPerRun = maxItems
        limits.maxWait = .seconds(maxWait)
        limits.defaultWait = min(limits.defaultWait, limits.maxWait)
        limits.drainTimeout = .seconds(drainTimeout)
        return limits
    }

    /// Folders as absolute, resolved paths (a grant names the folder, not a link into another);
    /// schemes in lowercase, as URIs compare them.
    func inputGrants() throws -> InputGrants {
        var folders: [String] = []
        for folder in allowFiles {
            guard FileSystem.isDirectory(folder), let resolved = FileSystem.realPath(folder) else {
                throw CLIError.notFound("--allow-files \(folder): no such folder")
            }
            folders.append(resolved)
        }
        var schemes: Set<String> = []
        for scheme in allowURISchemes {
            let lowered = scheme.lowercased()
            guard let first = lowered.first, first.isLetter, first.isASCII,
                lowered.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
            else { throw CLIError.usage("--allow-uri-scheme \(scheme): a scheme is a letter then letters, digits, +, - or . (https, s3)") }
            guard lowered != "data" else { throw CLIError.usage("--allow-uri-scheme data: data: URIs are always read; no grant is needed") }
            schemes.insert(lowered)
        }
        return InputGrants(fileFolders: folders, passThroughSchemes: schemes)
    }
}
