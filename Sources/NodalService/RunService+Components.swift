package import NodalCore
public import NodalJSON
import FoundationEssentials

/// `GET /components` and `GET /health`.
extension RunService {
    /// Nodal's version, as `nodal --version` prints it.
    public static let version = "0.1.0"

    public func components(excludeSchemas: Bool) async throws(ServiceError) -> JSON {
        var entries: [(path: String, entry: JSON)] = []
        for plugin in engine.plugins {
            for node in plugin.nodes {
                let path = "/\(plugin.name)/\(node.name)"
                var entry: JSONObject = ["componentId": .string(node.name)]
                if let description = node.description { entry["description"] = .string(description) }
                if !excludeSchemas {
                    entry["inputSchema"] = node.inputSchema ?? .null
                    entry["outputSchema"] = node.outputSchema ?? .null
                }
                entry["path"] = .string(path)
                entry["plugin"] = .string(plugin.name)
                entries.append((path, .object(entry)))
            }
        }
        for route in engine.builtinRoutes {
            let name = String(route.dropFirst("/builtin/".count))
            var entry: JSONObject = ["componentId": .string(name)]
            if !excludeSchemas {
                // The builtins that take any input (the flows map, eval and iterate run, a
                // blob's data) declare none, as Stepflow's.
                let schemas = BuiltinSchemas.documents[name]
                entry["inputSchema"] = schemas?.input ?? .null
                entry["outputSchema"] = schemas?.output ?? .null
            }
            entry["path"] = .string(route)
            entry["plugin"] = "builtin"
            entries.append((route, .object(entry)))
        }
        let failures = engine.pluginLoadErrors
        return [
            "components": .array(entries.sorted { $0.path < $1.path }.map(\.entry)),
            "complete": .bool(failures.isEmpty),
            "failedPlugins": .array(failures.map { ["plugin": .string($0.file), "error": .string($0.reason)] }),
        ]
    }

    public func health() async -> JSON {
        #if DEBUG
        let profile = "debug"
        #else
        let profile = "release"
        #endif
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "aarch64"
        #else
        let architecture = "unknown"
        #endif
        #if os(Linux)
        let system = "unknown-linux-gnu"
        #elseif os(macOS)
        let system = "apple-darwin"
        #else
        let system = "unknown"
        #endif
        var health: JSONObject = [
            "status": .string(isShuttingDown ? "shutting_down" : "healthy"),
            "timestamp": .string(WireNames.timestamp(Date())),
            "build": ["gitVersion": .string(Self.version), "profile": .string(profile), "target": .string("\(architecture)-\(system)")],
            "liveRuns": .int(liveCount),
            "store": .string(String(describing: type(of: store))),
        ]
        if queue != nil {
            // Runs go to workers: the ones heard from within their lease (null when the store did not answer).
            health["execution"] = "queued"
            health["workers"] = await liveWorkers().map { workers in .array(workers.map(Self.workerJSON)) } ?? .null
        }
        return .object(health)
    }
}

extension RunService {
    /// A worker as `GET /health` and `nodal workers list --json` show it.
    package static func workerJSON(_ worker: WorkerRecord) -> JSON {
        [
            "id": .string(worker.id), "host": .string(worker.host), "pid": .int(Int(worker.pid)),
            "startedAt": .string(WireNames.timestamp(worker.startedAt)), "lastHeartbeat": .string(WireNames.timestamp(worker.heartbeatAt)),
            "concurrency": .int(worker.concurrency), "items": .int(worker.items), "draining": .bool(worker.draining),
            "leaseSecs": .double(worker.lease.inSeconds), "live": .bool(worker.isLive(at: Date())),
        ]
    }
}
