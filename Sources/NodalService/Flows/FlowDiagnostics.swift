import NodalCore
import NodalJSON

/// Stepflow's `Diagnostics` for a flow being stored: what stops it from running is fatal (it is
/// not stored), what only deserves a look is a warning (`FlowWarning`).
struct FlowDiagnostics {
    private(set) var entries: [JSON] = []
    private(set) var fatal = 0
    private(set) var warnings = 0

    /// Checks a flow that was read: that the engine can run it, and what it has to say about it.
    mutating func check(_ flow: Flow, document: JSON, engine: Engine) {
        do {
            try engine.validate(flow)
        } catch {
            add(error, document: document)
        }
        for warning in flow.warnings + engine.warnings(for: flow) {
            warnings += 1
            entries.append(Self.entry(
                kind: "flowWarning", level: "DIAGNOSTIC_LEVEL_WARNING", formatted: warning.description,
                path: Self.path(step: warning.step, field: warning.field, in: document)))
        }
    }

    /// An error that stops the flow from running.
    mutating func add(_ error: any Error, document: JSON) {
        fatal += 1
        if let error = error as? FlowError {
            entries.append(Self.entry(
                kind: "invalidFlow", level: "DIAGNOSTIC_LEVEL_FATAL", formatted: error.description,
                path: Self.path(step: error.step, field: error.field, in: document)))
        } else if error is PluginLoadError {
            entries.append(Self.entry(kind: "pluginUnavailable", level: "DIAGNOSTIC_LEVEL_FATAL", formatted: String(describing: error), path: nil))
        } else {
            entries.append(Self.entry(kind: "invalidFlow", level: "DIAGNOSTIC_LEVEL_FATAL", formatted: String(describing: error), path: nil))
        }
    }

    var json: JSON {
        ["diagnostics": .array(entries), "numFatal": .int(fatal), "numError": 0, "numWarning": .int(warnings)]
    }

    private static func entry(kind: String, level: String, formatted: String, path: String?) -> JSON {
        var object: JSONObject = ["kind": .string(kind), "level": .string(level), "formatted": .string(formatted)]
        if let path { object["path"] = .string(path) }
        object["experimental"] = false
        return .object(object)
    }

    /// `$.steps[2].input.prompt` for a step's field, `$.output` for a flow's; nil when neither is known.
    private static func path(step: String?, field: String?, in document: JSON) -> String? {
        var path = "$"
        if let step {
            guard let index = (document["steps"]?.arrayValue ?? []).firstIndex(where: { $0["id"]?.stringValue == step }) else { return nil }
            path += ".steps[\(index)]"
        }
        if let field, !field.isEmpty { path += "." + field }
        return path == "$" ? nil : path
    }
}
