/// The OpenAPI 3.0.3 document of what this server answers, served at `/api/v1/openapi.json`.
/// Kept in the source so an installed `nodal` (one executable, no resource bundle) serves it.
enum OpenAPIDocument {
    static let text = #"""
{"openapi": "3.0.3", "info": {"title": "Nodal API", "version": "0.1.0"}, "paths": {}}
"""#
}
