import NodalCore
public import NodalJSON

/// `POST/GET/DELETE /flows`: flows are stored as content-addressed flow blobs, checked against
/// the engine before they are kept.
extension RunService {
    public func storeFlow(_ request: JSON) async throws(ServiceError) -> JSON {
        let object = try RequestFields.object(request, known: ["flow", "dryRun"], what: "request")
        guard let document = object["flow"], !document.isNull else {
            throw .invalidField("flow", "the request needs 'flow': the flow definition as a JSON object")
        }
        guard case .object = document else { throw .invalidField("flow", "'flow' must be a JSON object, not \(document.typeName)") }
        let dryRun = try RequestFields.flag(object, "dryRun") ?? false
        let flowID = ContentHash.blobID(of: document)
        var diagnostics = FlowDiagnostics()
        do {
            let flow = try Flow(document: document, configuration: engine.configuration)
            diagnostics.check(flow, document: document, engine: engine)
        } catch {
            diagnostics.add(error, document: document)
        }
        let stored = !dryRun && diagnostics.fatal == 0
        if stored {
            do {
                try await store.putBlob(document, type: .flow)
            } catch {
                throw Self.storeFailed("store flow \(flowID)", error)
            }
        }
        return ["flowId": .string(flowID), "stored": .bool(stored), "diagnostics": diagnostics.json]
    }

    public func flow(id: String) async throws(ServiceError) -> JSON {
        let (flowID, document) = try await flowDocument(id, field: "flowId")
        return ["flowId": .string(flowID), "flow": document, "allExamples": .array(Self.examples(of: document))]
    }

    public func deleteFlow(id: String) async throws(ServiceError) -> JSON {
        let (flowID, _) = try await flowDocument(id, field: "flowId")
        do {
            try await store.deleteBlob(id: flowID)
        } catch {
            throw Self.storeFailed("delete flow \(flowID)", error)
        }
        flows.forget(flowID)
        return [:]
    }

    public func flowVariables(id: String) async throws(ServiceError) -> JSON {
        let (flowID, document) = try await flowDocument(id, field: "flowId")
        return ["flowId": .string(flowID), "variables": FlowVariables.of(document)]
    }

    // MARK: Reading flows

    /// The stored flow document with this id (a blob stored as a flow); 404 `FLOW_NOT_FOUND` for
    /// any other id.
    func flowDocument(_ id: String, field: String) async throws(ServiceError) -> (id: String, document: JSON) {
        guard let flowID = RequestFields.blobID(id) else {
            throw .notFound("FLOW_NOT_FOUND", "no flow with id \"\(RequestFields.shown(id))\" (a flow id is 64 hexadecimal digits)", field: field)
        }
        let blob: StoredBlob?
        do {
            blob = try await store.storedBlob(id: flowID)
        } catch {
            throw Self.storeFailed("read flow \(flowID)", error)
        }
        guard let blob, blob.type == BlobType.flow.rawValue, case .json(let document) = blob.content else {
            throw .notFound("FLOW_NOT_FOUND", "no flow with id \(flowID); store it first (POST /flows)", field: field)
        }
        return (flowID, document)
    }

    /// The flow with this id, read once and kept (`FlowCache`).
    func loadFlow(_ id: String, field: String) async throws(ServiceError) -> (id: String, flow: Flow) {
        if let normalized = RequestFields.blobID(id), let flow = flows.flow(normalized) { return (normalized, flow) }
        let (flowID, document) = try await flowDocument(id, field: field)
        do {
            let flow = try Flow(document: document, configuration: engine.configuration)
            flows.keep(flow, id: flowID)
            return (flowID, flow)
        } catch {
            throw ServiceError(status: 422, code: "INVALID_FLOW", "flow \(flowID) cannot be read here: \(error)", field: field)
        }
    }

    /// `allExamples`: the flow's `examples`, then its test cases, as `{name, description?, input}`.
    static func examples(of document: JSON) -> [JSON] {
        var examples: [JSON] = []
        let lists = [document["examples"]?.arrayValue ?? [], document["test"]?["cases"]?.arrayValue ?? []]
        for list in lists {
            for (index, entry) in list.enumerated() {
                guard case .object(let object) = entry else { continue }
                var example: JSONObject = ["name": .string(object["name"]?.stringValue ?? "example \(index + 1)")]
                if let description = object["description"]?.stringValue { example["description"] = .string(description) }
                example["input"] = object["input"] ?? .null
                examples.append(.object(example))
            }
        }
        return examples
    }

    /// 500 `STORE_ERROR`: the store failed (the request itself was fine).
    static func storeFailed(_ what: String, _ error: any Error) -> ServiceError {
        ServiceError(status: 500, code: "STORE_ERROR", "could not \(what): \(error)")
    }
}
