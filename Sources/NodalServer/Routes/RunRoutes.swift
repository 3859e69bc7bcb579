import Hummingbird
import NodalJSON
import NodalService

extension ServerRoutes {
    /// Runs: create, list, read (optionally waiting), delete, cancel, resume, and a run's items,
    /// steps and flow. Events are in `EventRoutes`.
    static func runs(_ service: any RunAPI) -> [ServerRoute] {
        [
            ServerRoute(.get, "/runs") { request async throws(ServiceError) in
                let query = try request.query()
                let runQuery = RunQuery(
                    status: SpecEnums.specified(try query.enumeration("status", SpecEnums.executionStatuses)),
                    flowName: try query.string("flowName"),
                    rootRunID: try query.string("rootRunId"),
                    parentRunID: try query.string("parentRunId"),
                    rootsOnly: try query.bool("rootsOnly"),
                    maxDepth: try query.uint32("maxDepth"),
                    limit: try query.uint32("limit"),
                    offset: try query.uint32("offset"))
                return .json(try await service.listRuns(runQuery))
            },
            ServerRoute(.post, "/runs") { request async throws(ServiceError) in
                let body = try await request.object()
                let waits = body["wait"]?.boolValue == true
                return .json(try await ShutdownAware.run(cancellingOnShutdown: waits) { () async throws(ServiceError) in
                    try await service.createRun(body)
                })
            },
            ServerRoute(.get, "/runs/{runId}") { request async throws(ServiceError) in
                let query = try request.query()
                let wait = try query.bool("wait") ?? false
                let timeout = try query.uint64("timeoutSecs").map(Duration.seconds(clamping:))
                let id = request.path("runId")
                guard wait else { return .json(try await service.run(id: id, wait: false, timeout: timeout)) }
                do throws(ServiceError) {
                    return .json(try await ShutdownAware.run(cancellingOnShutdown: true) { () async throws(ServiceError) in
                        try await service.run(id: id, wait: true, timeout: timeout)
                    })
                } catch {
                    // A wait cut short so the server can stop is answered with where the run is.
                    guard ShutdownAware.isShuttingDown else { throw error }
                    return .json(try await service.run(id: id, wait: false, timeout: nil))
                }
            },
            ServerRoute(.delete, "/runs/{runId}") { request async throws(ServiceError) in
                .json(try await service.deleteRun(id: request.path("runId")))
            },
            ServerRoute(.post, "/runs/{runId}/cancel") { request async throws(ServiceError) in
                .json(try await service.cancelRun(id: request.path("runId")))
            },
            ServerRoute(.post, "/runs/{runId}/resume") { request async throws(ServiceError) in
                let body = try await request.object()
                return .json(try await ShutdownAware.run(cancellingOnShutdown: body["wait"]?.boolValue == true) { () async throws(ServiceError) in
                    try await service.resumeRun(id: request.path("runId"), body)
                })
            },
            ServerRoute(.get, "/runs/{runId}/items") { request async throws(ServiceError) in
                let order = SpecEnums.specified(try request.query().enumeration("resultOrder", SpecEnums.resultOrders))
                return .json(try await service.items(runID: request.path("runId"), order: order))
            },
            ServerRoute(.get, "/runs/{runId}/steps") { request async throws(ServiceError) in
                let itemIndex = try request.query().uint32("itemIndex")
                return .json(try await service.steps(runID: request.path("runId"), itemIndex: itemIndex))
            },
            ServerRoute(.get, "/runs/{runId}/steps/{stepId}") { request async throws(ServiceError) in
                let query = try request.query()
                let itemIndex = try query.uint32("itemIndex")
                // Read-after-write: this server answers from the store it writes to, so every
                // sequence number it handed out is already visible; the value is only checked.
                _ = try query.uint64("asof")
                return .json(try await service.step(runID: request.path("runId"), stepID: request.path("stepId"), itemIndex: itemIndex))
            },
            ServerRoute(.get, "/runs/{runId}/flow") { request async throws(ServiceError) in
                .json(try await service.runFlow(runID: request.path("runId")))
            },
        ]
    }
}

extension Duration {
    /// Seconds from a query, held to what `Duration` and the service's clocks can add without overflowing.
    static func seconds(clamping seconds: UInt64) -> Duration { .seconds(Int64(min(seconds, UInt64(Int32.max)))) }
}
