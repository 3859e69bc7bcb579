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

/// A step's input field set from the request (`STEP_ID::FIELD`), replacing what the flow wires there.
package struct StepInputOverride: Sendable, Hashable {
    package var step: String
    package var field: String
    package var value: JSON

    package init(step: String, field: String, value: JSON) {
        self.step = step
        self.field = field
        self.value = value
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
    /// Resolves one item's body for `flow`. `field` is where the item sits in the request
    /// (`input[3]`, `inputs[0]`) and prefixes every error's field. Files given by URI are put
    /// into `store` as blobs.
    ///
    /// This first version takes the body as the flow's input as it is; names by title,
    /// `STEP_ID::FIELD`, defaults, fixed inputs and file URIs come with the inputs work.
    package static func resolve(
        _ body: JSON, flow: Flow, grants: InputGrants, store: any RunStore, field: String
    ) async throws(ServiceError) -> ResolvedItem {
        ResolvedItem(input: body)
    }
}
