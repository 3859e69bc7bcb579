import NodalJSON

/// A flow's variables as `GET /flows/{id}/variables` lists them, from its variables schema:
/// Stepflow's `schemas.properties.variables` or `variables_schema`, or Nodal's `variables` when
/// it is a schema. A flow without one has no declared variables (`{}`); `{$variable}` references
/// still work, with their defaults.
enum FlowVariables {
    static func of(_ document: JSON) -> JSON {
        let candidates = [
            document["schemas"]?["properties"]?["variables"], document["variables_schema"], document["variablesSchema"],
            document["variables"],
        ]
        guard let schema = candidates.compactMap({ $0 }).first(where: { $0["properties"]?.objectValue != nil }),
              let properties = schema["properties"]?.objectValue
        else { return [:] }
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        var variables: JSONObject = [:]
        for (name, property) in properties {
            var variable: JSONObject = [:]
            if let description = property["description"]?.stringValue { variable["description"] = .string(description) }
            if let value = property["default"] { variable["defaultValue"] = value }
            variable["required"] = .bool(required.contains(name))
            variable["schema"] = property
            if let environment = (property["env_var"] ?? property["envVar"])?.stringValue { variable["envVar"] = .string(environment) }
            variables[name] = .object(variable)
        }
        return .object(variables)
    }
}
