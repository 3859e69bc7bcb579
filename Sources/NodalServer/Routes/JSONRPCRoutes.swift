import Hummingbird
import NodalService

extension ServerRoutes {
    /// `POST /jsonrpc`. JSON-RPC's answers, errors included, are 200; only what is wrong at the
    /// HTTP level (size, content type, token) gets an HTTP error. Nothing to answer is 204.
    static func jsonRPC(_ service: any RunAPI) -> [ServerRoute] {
        let rpc = JSONRPC(service: service)
        return [
            ServerRoute(.post, "/jsonrpc") { request async throws(ServiceError) in
                try RequestBodyReader.checkContentType(request.request)
                let body = try await RequestBodyReader.bytes(of: request.request, limit: request.configuration.maxBodyBytes)
                guard let reply = await ShutdownAware.run(rpc, body) else { return Response(status: .noContent) }
                return .json(reply)
            }
        ]
    }
}
