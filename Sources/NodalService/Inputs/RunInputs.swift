package import NodalJSON
package import NodalCore

/// Which file inputs given by URI a server accepts besides `data:` URIs (README: The run service).
public struct InputGrants: Sendable, Hashable {
    /// `file:` URIs are read when the file lies under one of these folders (absolute paths).
    public var fileFolders: [String]
    /// URI schemes (`https`, ...) passed to the step as they are, for the step to fetch.
    public var passThroughSchemes: Set<String>

    public init(fileFolders: [String] = [], passThroughSchemes: Set<String> = []) {
        self.fileFolders = fileFolders
        self.passThroughSchemes = passThroughSchemes
    }
}

/// One item of a run as it will run: the flow's input, and step input fields set from the request.
package struct ResolvedItem: Sendable, Hashable {
    package var input: JSON
    package var stepInputs: [StepInputOverride]

    package init(input: JSON, stepInputs: [StepInputOverride] = []) {
        self.input = input
        self.stepInputs = stepInputs
    }
}

/// Reads a run's item the way a Noxus user writes it (README: The run service, "Inputs").
package enum RunInputs {
    /// The most bytes one file input may hold, decoded, unless the server says otherwise.
    package static let defaultMaxFileBytes = 16 << 20
    /// The most file inputs (stored or checked blobs) one item may carry.
    package static let defaultMaxFiles = 64

    /// Resolves one item's body for `flow`. `field` is where the item sits in the request
    /// (`input[3]`, `inputs[0]`) and prefixes every error's field. Files given by URI are put
    /// into `store` as blobs.
    ///
    /// A body that is an object is read key by key: a key is a property of the flow's input
    /// schema by its name, else by its `title` (exactly, else ignoring case when only one title
    /// matches), else `STEP_ID::FIELD` (a field of a step's input, set as a literal), else it is
    /// refused, unless the schema lists no properties or welcomes others (then it is the input's
    /// own key). A property the flow fixes (`readOnly: true`) is refused unless it is also
    /// `"x-nodal-overridable": true`; top-level properties left out are filled with their
    /// `default` (a fixed one's `const` when it has no default). Any other body is the input as
    /// it is. File inputs anywhere in the values are resolved (``FileInputs``).
    ///
    /// Refusals are ``ServiceError/invalidInput(_:_:)`` (400 `INVALID_INPUT`), `field` the full
    /// path (`input[0].Document.file_metadata.uri`); a store that fails is a 500 `STORE_FAILED`.
    package static func resolve(
        _ body: JSON, flow: Flow, grants: InputGrants, store: any RunStore, field: String,
        maxFileBytes: Int = defaultMaxFileBytes, maxFiles: Int = defaultMaxFiles
    ) async throws(ServiceError) -> ResolvedItem {
        var files = FileInputs(grants: grants, store: store, maxFileBytes: maxFileBytes, maxFiles: maxFiles)
        guard case .object(let object) = body else {
            return ResolvedItem(input: try await files.resolving(body, at: field))
        }
        let form = InputForm(flow: flow)
        // Every key is checked before any file is stored, so a body refused for a key leaves no blobs.
        var entries: [(name: String, path: String, value: JSON)] = []
        var setBy: [String: String] = [:]
        var overrides: [(override: StepInputOverride, path: String)] = []
        for (key, value) in object {
            let path = InputPath.appending(key, to: field)
            switch form.match(key) {
            case .property(let index):
                let property = form.properties[index]
                if let earlier = setBy[property.name] {
                    throw .invalidInput(path, "'\(key)' and '\(earlier)' both set the input '\(property.name)'; give it once")
                }
                if property.fixed && !property.overridable {
                    throw .invalidInput(path, """
                        the input '\(property.name)'\(key == property.name ? "" : " ('\(key)')") is fixed by the flow \
                        (readOnly: true) and cannot be set by a run; a flow lets runs set it by marking the property \
                        "x-nodal-overridable": true
                        """)
                }
                setBy[property.name] = key
                entries.append((property.name, path, value))
            case .ambiguous(let names):
                throw .invalidInput(path, "'\(key)' is the title of several inputs (\(names.map { "'\($0)'" }.joined(separator: ", "))); name one of them by its property name")
            case .none:
                if let override = try stepInput(key, value: value, flow: flow, path: path) {
                    overrides.append((override, path))
                } else if form.acceptsOtherKeys {
                    entries.append((key, path, value))
                } else {
                    throw .invalidInput(path, """
                        '\(InputPath.shown(key))' names no input of the flow; it takes \(NameSuggestions.listed(form.acceptedNames, nearestTo: key)) \
                        (by property name or title), or STEP_ID::FIELD to set a field of a step's input
                        """)
                }
            }
        }

        var input = JSONObject()
        input.reserveCapacity(entries.count)
        for entry in entries {
            input[entry.name] = try await files.resolving(entry.value, at: entry.path)
        }
        for property in form.properties where setBy[property.name] == nil && input[property.name] == nil {
            guard let value = property.value else { continue }
            input[property.name] = try await files.resolving(value, at: InputPath.appending(property.name, to: field))
        }
        var stepInputs: [StepInputOverride] = []
        for (var override, path) in overrides {
            override.value = try await files.resolving(override.value, at: path)
            stepInputs.append(override)
        }
        return ResolvedItem(input: .object(input), stepInputs: stepInputs)
    }

    /// `key` read as `STEP_ID::FIELD`, or nil when it has no `::`. A step id may itself hold
    /// `::`: the first split whose left side is a step of the flow is taken.
    private static func stepInput(_ key: String, value: JSON, flow: Flow, path: String) throws(ServiceError) -> StepInputOverride? {
        let separators = key.ranges(of: "::")
        guard let first = separators.first else { return nil }
        let range = separators.first { flow.stepIndexes[String(key[..<$0.lowerBound])] != nil } ?? first
        let override = StepInputOverride(step: String(key[..<range.lowerBound]), field: String(key[range.upperBound...]), value: value)
        if let reason = flow.refusal(of: override) {
            var message = "'\(InputPath.shown(key))' sets a field of a step's input (STEP_ID::FIELD), but \(reason)"
            if flow.stepIndexes[override.step] == nil {
                message += "; its steps are \(NameSuggestions.listed(flow.stepIDs, nearestTo: override.step)) (steps inside sub-flows are not reached)"
            }
            throw .invalidInput(path, message)
        }
        return override
    }
}
