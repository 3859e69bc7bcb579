import Hummingbird
import Logging
import NodalService

/// The outermost layer: whatever a route or a later middleware throws leaves as a JSON body in
/// `ServiceError.json`'s shape, and a request no route takes is told whether the path is wrong
/// (404) or only the method (405, with `Allow`).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: [ServerRoute]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return .error(error)
        } catch let error as HTTPError where error.status == .notFound {
            // Thrown by the router's own not-found responder: no route for this method and path.
            return unrouted(request)
        } catch let error as HTTPError {
            return .error(ServiceError(status: Int(error.status.code), code: "HTTP_\(error.status.code)", error.body ?? error.status.reasonPhrase))
        } catch {
            context.logger.error("request failed: \(error)")
            return .error(.internalError(error))
        }
    }

    func unrouted(_ request: Request) -> Response {
        let path = request.uri.path
        let methods = path.hasPrefix(ServerRoutes.prefix + "/")
            ? routes.filter { $0.matches(path.dropFirst(ServerRoutes.prefix.count)) }.map(\.method.rawValue) : []
        guard !methods.isEmpty else {
            return .error(ServiceError.notFound("ROUTE_NOT_FOUND", "no route \(path): the API is under \(ServerRoutes.prefix) (GET \(ServerRoutes.prefix)/openapi.json lists it)", field: "path"))
        }
        let allow = Set(methods).sorted().joined(separator: ", ")
        var headers: HTTPFields = [:]
        headers[.allow] = allow
        return .error(ServiceError(status: 405, code: "METHOD_NOT_ALLOWED", "\(path) takes \(allow), not \(request.method.rawValue)", field: "method"), headers: headers)
    }
}
