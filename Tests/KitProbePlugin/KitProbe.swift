// A Swift plugin built on NodalPluginKit for the tests only (product `kitprobe`): its one node
// drives the blobs and runs extensions of the real host, so the Kit's wrappers are checked
// against the engine and not only against a fake host table (PluginKitTests).

public import NodalPluginKit

/// `{names: [...]}`: stores a one-step flow as a blob, runs it over the names (waiting, two at a
/// time), round-trips a bytes blob, and answers what came back.
let orchestrate = Node(name: "orchestrate", version: "1.0.0") { input, context in
    let flow: JSON = [
        "schema": "https://stepflow.org/schemas/v1/flow.json",
        "name": "probe-echo",
        "steps": [["id": "echo", "component": "/builtin/noop", "input": ["$input": "$"]]],
        "output": ["$step": "echo"],
    ]
    let flowID = try context.blobs.putFlow(flow)
    let names = input["names"]?.arrayValue ?? []
    let status = try context.runs.submit(flowID: flowID, inputs: names.map { ["name": $0] }, wait: true, maxConcurrency: 2)
    let polled = try context.runs.get(status.runID, wait: true, includeResults: true)
    let bytesID = try context.blobs.put(bytes: [0, 1, 2, 255], type: "application/octet-stream")
    let bytes = try context.blobs.get(bytesID)
    let values: [JSON] = (polled.results ?? []).map { item in
        switch item.result {
        case .success(let value): value
        case .failure(let error): .string("failed: \(error.code)")
        }
    }
    return [
        "status": .string(status.status.rawValue),
        "total": .int(status.items.total),
        "success": .int(status.items.success),
        "values": .array(values),
        "parentRunId": status.parentRunID.map(JSON.string) ?? .null,
        "bytesType": .string(bytes.type),
        "bytesRoundTrip": .bool(bytes.bytes == [0, 1, 2, 255]),
    ]
}

let plugin = Plugin(id: "org.nodal.test.kitprobe", name: "kitprobe", version: "1.0.0", nodes: [orchestrate])

#if compiler(>=6.3.1)
@c(nodal_plugin_entry_v1)
#else
@_cdecl("nodal_plugin_entry_v1")
#endif
public func nodalPluginEntryV1(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> PluginEntry {
    plugin.entry(hostABIMajor, hostABIMinor)
}
