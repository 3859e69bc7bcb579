import Hummingbird
import NodalService

extension ServerRoutes {
    /// Flows, stored as content-addressed blobs: `/flows`, `/flows/{flowId}`, `/flows/{flowId}/variables`.
    static func flows(_ service: any RunAPI) -> [ServerRoute] {
        [
            ServerRoute(.post, "/flows") { request async throws(ServiceError) in
                .json(try await service.storeFlow(try await request.object()))
            },
            ServerRoute(.get, "/flows/{flowId}") { request async throws(ServiceError) in
                .json(try await service.flow(id: request.path("flowId")))
            },
            ServerRoute(.delete, "/flows/{flowId}") { request async throws(ServiceError) in
                .json(try await service.deleteFlow(id: request.path("flowId")))
            },
            ServerRoute(.get, "/flows/{flowId}/variables") { request async throws(ServiceError) in
                .json(try await service.flowVariables(id: request.path("flowId")))
            },
        ]
    }
}
