import ArgumentParser
import FoundationEssentials
import Nodal
import NodalJSON
import NodalService

/// `nodal workers list`: the workers of a PostgreSQL store's queue.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "The workers of a PostgreSQL store's work queue.",
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Workers: id, host, pid, items running of how many, last heartbeat, state.",
            discussion: "Lists the workers heard from within --within seconds. STATE is running or draining while the last heartbeat is within the worker's lease, else lost (killed, hung, or cut off from the database: its items go to other workers once their leases expire). A worker that stopped cleanly leaves the list at once.")

        @Option(help: "Show workers heard from within this many seconds (1 to 86400).")
        var within = 600

        @Flag(help: "One JSON array, as GET /api/v1/health shows workers.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await exiting {
                guard (1...86_400).contains(within) else { throw CLIError.usage("--within must be 1 to 86400 seconds, not \(within)") }
                let location = try storeOptions.location(configuration: nil)
                guard case .postgres = location else {
                    throw CLIError.usage("workers claim from a PostgreSQL store's queue: give --store postgres://USER@HOST/DATABASE (not \(location))")
                }
                let store = try await storeOptions.open(configuration: nil)
                let now = Date()
                let workers: [WorkerRecord]
                do {
                    workers = try await RunService.workers(in: store, since: now.addingTimeInterval(-Double(within)))
                } catch {
                    try? await store.close()
                    throw CLIError.store("\(error)")
                }
                try? await store.close()
                if json {
                    print(JSON.array(workers.map(RunService.workerJSON)).serialized())
                    return
                }
                guard !workers.isEmpty else {
                    print("no live workers (none heard from within \(within)s)")
                    return
                }
                var rows = [["ID", "HOST", "PID", "ITEMS", "HEARTBEAT", "STATE"]]
                for worker in workers {
                    let age = max(0, now.timeIntervalSince(worker.heartbeatAt))
                    rows.append([
                        worker.id, worker.host, String(worker.pid), "\(worker.items)/\(worker.concurrency)",
                        "\(Int(age.rounded()))s ago", !worker.isLive(at: now) ? "lost" : worker.draining ? "draining" : "running",
                    ])
                }
                let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
                for row in rows {
                    print(row.enumerated().map { index, cell in
                        index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
                    }.joined(separator: "  "))
                }
            }
        }
    }
}
