import ArgumentParser
import Logging
import Nodal
import NodalService
import ServiceLifecycle
import UnixSignals

/// `nodal worker`: claims items from a PostgreSQL store's work queue and runs them (README:
/// Scale-out on PostgreSQL).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run queued items of `nodal serve --store postgres://...` runs: claim, run with checkpoints, record.",
        discussion: """
            Claims items from the store's work queue (FOR UPDATE SKIP LOCKED: no item goes to two workers), runs \
            up to --concurrency of them at once with the plugins found as `nodal run` finds them, and records how they \
            ended. It holds each item under a lease it renews every third of --lease-secs; if it dies or loses the \
            database for longer, another worker takes the item and goes on from its checkpoints. Prints \
            `nodal worker: ID claiming from STORE` on standard error once registered. SIGTERM or SIGINT drains it: \
            it stops claiming, lets running steps finish and checkpoint, gives their items back, and exits 0.
            """)

    @Option(help: "Items run at once, at most (1 to 1024).")
    var concurrency = 4

    @Option(name: .customLong("lease-secs"), help: "How long an item stays this worker's without a heartbeat (1 to 3600 seconds).")
    var leaseSecs = 30.0

    @Option(name: .customLong("poll-secs"), help: "How often an idle worker looks for work with no notification, as for the items of a worker that died (0.05 to 3600 seconds).")
    var pollSecs = 5.0

    @Option(name: .customLong("max-lost-attempts"), help: "How many workers an item may take down (died or lost the store while running it) before it is failed instead of run again (1 to 100).")
    var maxLostAttempts = 3

    @Option(name: .customLong("blocking-threads"), help: "Threads for plugin calls that may block, shared by every item the worker runs.")
    var blockingThreads = ServeCommand.defaultBlockingThreads

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        try await exiting {
            guard (1...1024).contains(concurrency) else { throw CLIError.usage("--concurrency must be 1 to 1024, not \(concurrency)") }
            guard leaseSecs.isFinite, (1...3600).contains(leaseSecs) else { throw CLIError.usage("--lease-secs must be 1 to 3600, not \(leaseSecs)") }
            guard pollSecs.isFinite, (0.05...3600).contains(pollSecs) else { throw CLIError.usage("--poll-secs must be 0.05 to 3600, not \(pollSecs)") }
            guard (1...100).contains(maxLostAttempts) else { throw CLIError.usage("--max-lost-attempts must be 1 to 100, not \(maxLostAttempts)") }
            guard (1...4096).contains(blockingThreads) else { throw CLIError.usage("--blocking-threads must be 1 to 4096, not \(blockingThreads)") }
            let location = try storeOptions.location(configuration: nil)
            guard case .postgres = location else {
                throw CLIError.usage("a worker claims from a PostgreSQL store's queue: give --store postgres://USER@HOST/DATABASE (not \(location))")
            }
            let lease = Duration.milliseconds(Int64(leaseSecs * 1000))
            let engine = try engineOptions.makeEngine(forFlowAt: nil, blockingThreads: blockingThreads, leaseDuration: lease)
            let store = try await storeOptions.open(configuration: engine.configuration)
            let service: RunService
            let worker: RunWorker
            do {
                service = try RunService(engine: engine, store: store, execution: .queued)
                worker = try RunWorker(
                    service: service,
                    options: RunWorker.Options(
                        concurrency: concurrency, lease: lease, pollInterval: .milliseconds(Int64(pollSecs * 1000)),
                        maxLostAttempts: maxLostAttempts))
            } catch {
                try? await store.close()
                throw CLIError.store("\(error)")
            }
            writeAll(2, "nodal worker: \(worker.id) claiming from \(location)\n")
            var handler = LogLines()
            handler.logLevel = .warning
            let logger = Logger(label: "nodal-worker") { _ in handler }
            // Shut down in reverse: the worker drains first, while the service still answers.
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: [.init(service: service), .init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                printError("error: the worker stopped: \(error)")
            }
            await engine.shutdown()
            try? await store.close()
        }
    }
}
