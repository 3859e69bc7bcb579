import Hummingbird
import NodalService

extension ServerRoutes {
    /// `GET /components`, `GET /health` and `GET /openapi.json`.
    static func service(_ service: any RunAPI, limits: ServiceLimits) -> [ServerRoute] {
        let document = ByteBuffer(string: OpenAPIDocument.served(limits: limits))
        return [
            ServerRoute(.get, "/components") { request async throws(ServiceError) in
                let excludeSchemas = try request.query().bool("excludeSchemas") ?? false
                return .json(try await service.components(excludeSchemas: excludeSchemas))
            },
            ServerRoute(.get, "/health") { _ async throws(ServiceError) in
                .json(await service.health())
            },
            ServerRoute(.get, "/openapi.json") { _ async throws(ServiceError) in
                var headers: HTTPFields = [:]
                headers[.contentType] = "application/json"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: document))
            },
        ]
    }
}
