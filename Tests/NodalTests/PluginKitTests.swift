import CNodal
import Logging
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
import NodalPluginKit

// NodalPluginKit, the Swift plugin SDK: its C glue called by the engine's real host services
// (a Kit plugin declared in this file, and the stats plugin loaded from its .so), and its runs
// and blobs wrappers against a host table of the tests' own.

// MARK: - A plugin declared with the Kit, in this test binary

struct Disk: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
}

struct Order: CodableNode {
    struct Customer: Decodable { var name: String; var vip: Bool? }
    struct Item: Decodable { var sku: String; var qty: Int }
    struct Input: Decodable { var customer: Customer; var items: [Item] }
    struct Line: Encodable { var sku: String; var qty: UInt8 }
    struct Output: Encodable { var total: Int; var vip: Bool; var lines: [Line]; var note: String?; var ratio: Double }

    let name = "order"
    let version: String? = "2.1.0"
    let flags: NodalPluginKit.NodeFlags = .pure
    let inputSchema: JSON? = ["type": "object", "required": ["customer", "items"]]

    func run(_ input: Input, context: NodalPluginKit.NodeContext) throws -> Output {
        let total = input.items.reduce(0) { $0 + $1.qty }
        return Output(
            total: total, vip: input.customer.vip ?? false,
            lines: try input.items.map { item in
                guard let qty = UInt8(exactly: item.qty) else { throw NodeError.invalidInput("qty \(item.qty) is too large") }
                return Line(sku: item.sku, qty: qty)
            },
            note: nil, ratio: Double(total) / Double(input.items.count))
    }
}

struct Doubling: Decodable { var x: Double }

let kitPlugin = NodalPluginKit.Plugin(
    id: "org.test.kit", name: "kit", version: "1.3.0", vendor: "Tests", description: "Kit under test",
    license: "MIT", homepage: "https://example.org/kit",
    nodes: [
        Node(name: "echo", flags: [.threadSafe, .nonBlocking]) { input, _ in input },
        Node(name: "fail") { _, _ in throw NodeError(code: "E42", message: "nope", details: ["n": 1]) },
        Node(name: "boom") { _, _ in throw Disk() },
        Node(name: "nan") { _, _ in ["stats": ["mean": .double(.nan)]] },
        Node(name: "cancel", id: "org.test.kit.custom-cancel", flags: .cancellable) { _, context in
            try context.checkCancellation()
            return "ran to the end"
        },
        Node(name: "talk") { _, context in
            context.log("hello\u{0}there", level: .warning)
            context.reportProgress(0.5, message: "half")
            context.reportProgress(nil)
            return ["host": .string(context.hostName), "abi": .string(context.hostABI), "node": .string(context.nodeID)]
        },
        Order(),
        Node(name: "double", decoding: Doubling.self) { input, _ in ["x": input.x * 2] },
        Node(name: "overflow", decoding: Doubling.self) { input, _ in ["x": input.x * .infinity] },
        Node(name: "orchestrate") { input, context in
            let blobs = try context.blobs
            let flow = try blobs.putFlow(["steps": [], "output": ["$input": "$"]])
            let stored = try blobs.get(flow)
            let runs = try context.runs
            let done = try runs.submit(flowID: flow, inputs: input["items"]?.arrayValue ?? [], wait: true, maxConcurrency: 2)
            let later = try runs.get(done.runID, wait: true, includeResults: true, resultOrder: .byCompletion)
            let cancelled = try runs.cancel(done.runID)
            return [
                "flowType": .string(stored.type), "flowBack": try stored.json(),
                "status": .string(done.status.rawValue), "finished": .bool(done.status.isFinished),
                "total": .int(done.items.total), "parent": done.parentRunID.map(JSON.string) ?? .null,
                "results": .array((done.results ?? []).map { item in
                    switch item.result {
                    case .success(let value): ["index": .int(item.itemIndex), "value": value]
                    case .failure(let error): ["index": .int(item.itemIndex), "error": .string(error.code)]
                    }
                }),
                "later": .string(later.runID), "cancelled": .string(cancelled.status.rawValue),
            ]
        },
        Node(name: "unknown-flow") { _, context in
            _ = try context.runs.submit(flowID: "missing", inputs: [])
            return nil
        },
        Node(name: "bytes") { _, context in
            let blobs = try context.blobs
            let id = try blobs.put(bytes: [0, 1, 2, 255], type: "application/octet-stream")
            let back = try blobs.get(id)
            do {
                _ = try blobs.get(String(repeating: "0", count: 64))
                return "found a blob that was never stored"
            } catch let error as NodeError {
                return ["id": .string(id), "type": .string(back.type), "bytes": .array(back.bytes.map { .int(Int($0)) }), "missing": .string(error.message)]
            }
        },
        Node(name: "offers") { _, context in
            let offered: JSON = ["runs": .bool(context.offers(Runs.extensionID)), "blobs": .bool(context.offers(Blobs.extensionID))]
            do {
                _ = try context.runs
                return ["offered": offered, "runs": "available"]
            } catch let error as NodeError {
                return ["offered": offered, "code": .string(error.code), "message": .string(error.message)]
            }
        },
    ])

/// The Kit plugin's descriptor, as the host receives it from the entry function.
var kitDescriptor: UnsafePointer<nodal_plugin> {
    UnsafePointer<nodal_plugin>(kitPlugin.entry(UInt32(NODAL_ABI_MAJOR), UInt32(NODAL_ABI_MINOR))!)
}

/// The descriptor of the Kit plugin's node `name`.
func kitNodeDescriptor(_ name: String) throws -> UnsafePointer<nodal_node> {
    let plugin = kitDescriptor.pointee
    for index in 0..<Int(plugin.node_count) {
        if let node = plugin.nodes[index], String(cString: node.pointee.name) == name { return node }
    }
    throw SetupError("no node \(name) in the Kit plugin")
}

/// The Kit plugin's node `name` as the engine calls it: through the real host services.
func kitNode(_ name: String) throws -> NativeNode {
    let descriptor = try kitNodeDescriptor(name)
    let node = descriptor.pointee
    let info = NodeInfo(
        id: String(cString: node.id), name: name, version: String(cString: node.version),
        description: nil, flags: NodalCore.NodeFlags(rawValue: node.flags),
        inputSchema: nil, outputSchema: nil, configSchema: nil)
    return NativeNode(info: info, descriptor: descriptor, invoke: try #require(node.invoke), logger: Logger(label: "test"), maxOutputBytes: 1 << 20)
}

extension NodeOutcome {
    var output: JSON? { if case .success(let payload) = self { payload.json } else { nil } }
    var error: StepError? { if case .failure(let error) = self { error } else { nil } }
}

@Suite struct PluginKitTests {
    func call(_ name: String, _ input: String, cancellation: CancellationToken? = nil, events: EventSink? = nil) throws -> NodeOutcome {
        try kitNode(name).call(input: Array(input.utf8), stepID: "s", cancellation: cancellation, events: events)
    }

    @Test func theDescriptionCarriesTheMetadataAndTheToolchain() throws {
        let plugin = kitDescriptor.pointee
        #expect(kitDescriptor == UnsafePointer<nodal_plugin>(kitPlugin.entry(1, 0)!), "the entry returns one description")
        #expect(kitPlugin.entry(2, 0) == nil, "a host of another ABI major is refused")
        #expect(plugin.struct_size == UInt32(MemoryLayout<nodal_plugin>.size))
        #expect(plugin.abi_major == UInt32(NODAL_ABI_MAJOR))
        #expect(String(cString: plugin.id) == "org.test.kit")
        #expect(String(cString: plugin.license) == "MIT")
        #expect(String(cString: plugin.homepage) == "https://example.org/kit")
        #expect(String(cString: plugin.swift_toolchain) == PluginLoader.hostSwiftToolchain)
        #expect(Int(plugin.node_count) == kitPlugin.nodes.count)

        let order = try kitNodeDescriptor("order").pointee
        #expect(String(cString: order.id) == "org.test.kit.order")
        #expect(String(cString: order.version) == "2.1.0")
        #expect(order.flags == UInt64(NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING | NODAL_NODE_DETERMINISTIC))
        #expect(try JSON(parsing: String(cString: order.input_schema)) == ["type": "object", "required": ["customer", "items"]])
        #expect(order.output_schema == nil)
        let cancel = try kitNodeDescriptor("cancel").pointee
        #expect(String(cString: cancel.id) == "org.test.kit.custom-cancel")
        #expect(String(cString: cancel.version) == "1.3.0", "a node without a version has the plugin's")
        #expect(cancel.flags == UInt64(NODAL_NODE_CANCELLABLE))
    }

    @Test func outputsAndErrorsReachTheHost() throws {
        #expect(try call("echo", #"{"a": [1, "two", null]}"#).output == ["a": [1, "two", nil]])
        #expect(try call("fail", "{}").error == StepError(code: "E42", message: "nope", details: ["n": 1]))
        #expect(try call("boom", "{}").error == StepError(code: "NODE_FAILED", message: "disk on fire"))
        let notJSON = try #require(try call("echo", "{oops").error)
        #expect(notJSON.code == "INVALID_INPUT")
        #expect(notJSON.message.hasPrefix("input is not valid JSON"))
        let nan = try #require(try call("nan", "{}").error)
        #expect(nan.code == "OUT_OF_RANGE")
        #expect(nan.message.contains("'stats.mean'"), "\(nan.message)")
    }

    @Test func cancellationEndsTheCallCancelledOnlyWhenTheHostSaysSo() throws {
        let token = CancellationToken()
        #expect(try call("cancel", "{}", cancellation: token).output == "ran to the end")
        token.cancel()
        guard case .canceled = try call("cancel", "{}", cancellation: token) else {
            Issue.record("a cancelled call did not end cancelled")
            return
        }
    }

    @Test func logLinesAndProgressAreEventsOfTheStep() throws {
        let seen = Mutex<[RunEvent.Kind]>([])
        let record: @Sendable (RunEvent) -> Void = { event in seen.withLock { $0.append(event.kind) } }
        let sink = try #require(EventSink(runID: "r", callback: record, stream: nil))
        let output = try #require(try call("talk", "{}", events: sink).output)
        #expect(output == ["host": "nodal", "abi": .string("\(NODAL_ABI_MAJOR).\(NODAL_ABI_MINOR)"), "node": "org.test.kit.talk"])
        let events = seen.withLock { $0 }
        #expect(events.count == 3)
        guard case .log(let step, let level, let message) = events.first else { Issue.record("no log event: \(events)"); return }
        #expect(step == "s" && level == "warning")
        #expect(message == "hello\u{FFFD}there", "a NUL inside the message does not cut it short")
        guard case .progress(_, let fraction, let text) = events[1], case .progress(_, let unknown, nil) = events[2] else {
            Issue.record("no progress events: \(events)")
            return
        }
        #expect(fraction == 0.5 && text == "half")
        #expect(unknown == nil)
    }

    @Test func codableNodesDecodeTheirInputAndEncodeTheirOutput() throws {
        let output = try call("order", #"{"customer": {"name": "Ada"}, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3.0}]}"#).output
        #expect(output == ["total": 5, "vip": false, "lines": [["sku": "a", "qty": 2], ["sku": "b", "qty": 3]], "ratio": 2.5])
        #expect(try call("double", #"{"x": 21}"#).output == ["x": 42])
        // A whole Double is written as JSONEncoder writes it: 2, not 2.0.
        guard case .success(let payload) = try call("order", #"{"customer": {"name": "Ada"}, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 2}]}"#) else {
            Issue.record("the order failed")
            return
        }
        #expect(String(decoding: payload.bytes ?? [], as: UTF8.self).hasSuffix(#""ratio":2}"#))
    }

    @Test(arguments: [
        (#"{"items": []}"#, "missing required field 'customer'"),
        (#"{"customer": {"name": 7}, "items": []}"#, "field 'customer.name' must be a string"),
        (#"{"customer": {"name": "Ada", "vip": "yes"}, "items": []}"#, "field 'customer.vip' must be a boolean"),
        (#"{"customer": {"name": "Ada"}, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 1.5}]}"#, "field 'items[1].qty' must be an integer"),
        (#"{"customer": {"name": "Ada"}, "items": [{"sku": "a"}]}"#, "missing required field 'items[0].qty'"),
        (#"{"customer": {"name": "Ada"}, "items": null}"#, "field 'items' must be an array, got null"),
        (#"{"customer": {"name": "Ada"}, "items": [{"sku": "a", "qty": 1e300}]}"#, "field 'items[0].qty' is invalid"),
        (#"[1, 2]"#, "input must be a JSON object"),
    ])
    func decodingErrorsNameTheField(input: String, message: String) throws {
        let error = try #require(try call("order", input).error)
        #expect(error.code == "INVALID_INPUT")
        #expect(error.message.hasPrefix(message), "\(error.message)")
    }

    @Test func aNonFiniteNumberInACodableOutputIsNamed() throws {
        let error = try #require(try call("overflow", #"{"x": 1}"#).error)
        #expect(error == StepError(code: "OUT_OF_RANGE", message: "the output field 'x' is not a finite number, which JSON cannot hold"))
        // An error the node throws itself comes through unchanged.
        #expect(try call("order", #"{"customer": {"name": "Ada"}, "items": [{"sku": "a", "qty": 300}]}"#).error
            == StepError(code: "INVALID_INPUT", message: "qty 300 is too large"))
    }

    @Test func withoutExtensionsTheContextSaysWhichIsMissing() throws {
        let result = try FakeHost.invoke("offers", "{}", host: FakeHost.bare)
        #expect(result.output?["offered"] == ["runs": false, "blobs": false])
        #expect(result.output?["code"] == "EXTENSION_UNAVAILABLE")
        #expect(result.output?["message"]?.stringValue?.contains("org.nodal.runs.v1") == true)
        #expect(result.output?["message"]?.stringValue?.contains("fake 9.9.9, ABI 1.2") == true)
    }

    @Test func runsAndBlobsGoThroughTheHostsExtensions() throws {
        let result = try FakeHost.invoke("orchestrate", #"{"items": [1, "fail", 3]}"#, host: FakeHost.full)
        #expect(result.error == nil, "\(String(describing: result.error))")
        let output = try #require(result.output)
        #expect(output["flowType"] == "flow")
        #expect(output["flowBack"] == ["steps": [], "output": ["$input": "$"]])
        #expect(output["status"] == "success")
        #expect(output["finished"] == true)
        #expect(output["total"] == 3)
        #expect(output["parent"] == "parent-run")
        #expect(output["results"] == [["index": 0, "value": ["doubled": 2]], ["index": 1, "error": "BAD_ITEM"], ["index": 2, "value": ["doubled": 6]]])
        #expect(output["cancelled"] == "cancelled")
        // What the Kit asked, field for field.
        let requests = result.requests
        #expect(requests.count == 3)
        #expect(requests.first?["inputs"] == [1, "fail", 3])
        #expect(requests.first?["wait"] == true)
        #expect(requests.first?["maxConcurrency"] == 2)
        #expect(requests.first?["flowId"]?.stringValue?.count == 64)
        #expect(requests[1] == ["runId": output["later"]!, "wait": true, "includeResults": true, "resultOrder": "byCompletion"])
        #expect(requests[2] == ["runId": output["later"]!])
    }

    @Test func refusalsOfTheExtensionsBecomeNodeErrors() throws {
        let refused = try FakeHost.invoke("unknown-flow", "{}", host: FakeHost.full)
        #expect(refused.error?.code == "NOT_FOUND")
        #expect(refused.error?.message == "no flow 'missing'")
        let bytes = try FakeHost.invoke("bytes", "{}", host: FakeHost.full)
        #expect(bytes.output?["bytes"] == [0, 1, 2, 255])
        #expect(bytes.output?["type"] == "application/octet-stream")
        #expect(bytes.output?["id"]?.stringValue?.count == 64)
        #expect(bytes.output?["missing"] == "blobs.get: no blob 0000000000000000000000000000000000000000000000000000000000000000")
    }
}

// MARK: - The stats plugin, rewritten on the Kit

@Suite struct StatsPluginTests {
    static let loaded = Result { () throws(PluginLoadError) -> PluginLoader.Loaded in
        try PluginLoader.load(Products.plugin("nodal_stats"), logger: Logger(label: "test"), maxOutputBytes: 1 << 20)
    }

    /// Calls a stats node directly, without the engine's check of its input schema, so that the
    /// node's own messages are what comes back.
    func call(_ name: String, _ input: String) throws -> NodeOutcome {
        let loaded = try Self.loaded.get()
        let node = try #require(loaded.nodes.first { $0.info.name == name })
        return node.call(input: Array(input.utf8), stepID: "s", cancellation: nil)
    }

    @Test func metadataIsKept() throws {
        let info = try Self.loaded.get().info
        #expect(info.id == "org.nodal.stats" && info.name == "stats" && info.version == "1.0.0" && info.vendor == "Nodal")
        #expect(info.swiftToolchain == PluginLoader.hostSwiftToolchain)
        #expect(info.nodes.map(\.id) == ["org.nodal.stats.mean", "org.nodal.stats.summary", "org.nodal.stats.histogram"])
        for node in info.nodes {
            #expect(node.version == "1.0.0")
            #expect(node.flags == [.threadSafe, .nonBlocking, .deterministic])
            #expect(node.inputSchema?["required"]?.arrayValue?.contains("values") == true)
            #expect(node.outputSchema?["type"] == "object")
        }
    }

    @Test(arguments: [
        ("mean", #"{"values": [1, 2, 3, 6]}"#, #"{"mean": 3}"#),
        ("mean", #"{"values": [1e308, 1e308]}"#, #"{"mean": 1e308}"#),
        ("summary", #"{"values": [2, 4, 4, 4, 5, 5, 7, 9]}"#, #"{"count": 8, "min": 2, "max": 9, "mean": 5, "stddev": 2}"#),
        ("histogram", #"{"values": [0, 1, 2, 3, 4], "buckets": 2}"#, #"{"edges": [0, 2, 4], "counts": [2, 3]}"#),
        ("histogram", #"{"values": [5, 5], "buckets": 1}"#, #"{"edges": [4.5, 5.5], "counts": [2]}"#),
    ])
    func results(node: String, input: String, expected: String) throws {
        #expect(try call(node, input).output == JSON(parsing: expected))
    }

    @Test(arguments: [
        ("mean", #"{"values": [1, "x"]}"#, "INVALID_INPUT", "field 'values[1]' must be a number"),
        ("mean", #"{}"#, "INVALID_INPUT", "missing required field 'values'"),
        ("summary", #"{"values": []}"#, "INVALID_INPUT", "field 'values' must not be empty"),
        ("summary", #"5"#, "INVALID_INPUT", "input must be a JSON object"),
        ("summary", #"{"values": "#, "INVALID_INPUT", "input is not valid JSON"),
        ("histogram", #"{"values": [1], "buckets": 2.5}"#, "INVALID_INPUT", "field 'buckets' must be an integer between 1 and 1000000"),
        ("histogram", #"{"values": [1], "buckets": 0}"#, "INVALID_INPUT", "field 'buckets' must be an integer between 1 and 1000000"),
        ("summary", #"{"values": [-1.7e308, 1.7e308, 1.7e308]}"#, "OUT_OF_RANGE", "the output field 'stddev' is not a finite number"),
    ])
    func failures(node: String, input: String, code: String, message: String) throws {
        let error = try #require(try call(node, input).error)
        #expect(error.code == code)
        #expect(error.message.hasPrefix(message), "\(error.message)")
    }
}

// MARK: - A host of the tests' own, offering the runs and blobs extensions

/// A `nodal_host` whose services record, per call, what a node did, and whose runs and blobs
/// extensions answer from the request (each call handle is a number of its own, so tests running
/// in parallel never see each other's records). Buffers handed to the node are never freed, as
/// a host frees them only when the call ends and these calls are few.
enum FakeHost {
    struct Record {
        var output: JSON?
        var error: StepError?
        var requests: [JSON] = []
        var blobs: [String: (bytes: [UInt8], type: String)] = [:]
    }

    static let records = Mutex<[Int: Record]>([:])
    static let nextCall = Atomic<Int>(1)

    /// Runs Kit node `name` with this host; returns what the node wrote and asked.
    static func invoke(_ name: String, _ input: String, host: UnsafePointer<nodal_host>) throws -> (output: JSON?, error: StepError?, requests: [JSON]) {
        let number = nextCall.add(1, ordering: .relaxed).newValue
        records.withLock { $0[number] = Record() }
        let descriptor = try kitNodeDescriptor(name)
        let invoke = try #require(descriptor.pointee.invoke)
        let bytes = Array(input.utf8)
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { invoke(descriptor, host, OpaquePointer(bitPattern: number), $0.baseAddress, $0.count) }
        }
        let record = records.withLock { $0.removeValue(forKey: number)! }
        if status == NODAL_OK { return (record.output ?? .null, nil, record.requests) }
        return (nil, record.error ?? StepError(code: "STATUS", message: "\(status)"), record.requests)
    }

    static func update(_ call: OpaquePointer?, _ body: (inout Record) -> Void) {
        records.withLock { records in
            guard let number = call.map({ Int(bitPattern: UnsafeRawPointer($0)) }), records[number] != nil else { return }
            body(&records[number]!)
        }
    }

    static func read(_ call: OpaquePointer?) -> Record? {
        records.withLock { records in call.map { Int(bitPattern: UnsafeRawPointer($0)) }.flatMap { records[$0] } }
    }

    static func text(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> JSON? {
        guard let pointer else { return nil }
        return try? JSON(parsing: UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// A copy that stays valid (NUL-terminated), as the host's reply buffers do until the call ends.
    static func kept(_ bytes: [UInt8]) -> UnsafePointer<CChar> {
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        return UnsafePointer(copy)
    }

    static func reply(_ json: JSON, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int>?) {
        let bytes = json.serializedBytes()
        out?.pointee = kept(bytes)
        length?.pointee = bytes.count
    }

    static func host(offering: Bool) -> UnsafePointer<nodal_host> {
        let table = UnsafeMutablePointer<nodal_host>.allocate(capacity: 1)
        table.initialize(to: nodal_host())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_host>.size)
        table.pointee.abi_major = 1
        table.pointee.abi_minor = 2
        table.pointee.host_name = UnsafePointer(kept(Array("fake".utf8)))
        table.pointee.host_version = UnsafePointer(kept(Array("9.9.9".utf8)))
        table.pointee.write_output = { call, json, length in
            guard let json = FakeHost.text(json, length) else { return NODAL_INVALID }
            FakeHost.update(call) { $0.output = json }
            return NODAL_OK
        }
        table.pointee.set_error = { call, code, message, details, length in
            let error = StepError(
                code: code.map { String(cString: $0) } ?? "", message: message.map { String(cString: $0) } ?? "",
                details: FakeHost.text(details, length))
            FakeHost.update(call) { $0.error = error }
            return NODAL_OK
        }
        table.pointee.is_cancelled = { _ in 0 }
        if offering {
            table.pointee.get_extension = { _, id in
                switch id.map({ String(cString: $0) }) {
                case NODAL_EXT_RUNS: UnsafeRawPointer(FakeHost.runs)
                case NODAL_EXT_BLOBS: UnsafeRawPointer(FakeHost.blobs)
                default: nil
                }
            }
        } else {
            table.pointee.get_extension = { _, _ in nil }
        }
        return UnsafePointer(table)
    }

    nonisolated(unsafe) static let full = host(offering: true)
    nonisolated(unsafe) static let bare = host(offering: false)

    /// runs.submit answers with every item done (an item "fail" failed, numbers doubled), or
    /// with NOT_FOUND for the flow id "missing"; get and cancel answer for the run they name.
    nonisolated(unsafe) static let runs: UnsafeMutablePointer<nodal_runs> = {
        let table = UnsafeMutablePointer<nodal_runs>.allocate(capacity: 1)
        table.initialize(to: nodal_runs())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_runs>.size)
        table.pointee.submit = { call, request, length, reply, replyLength in
            guard let request = text(request, length) else { return NODAL_INVALID }
            update(call) { $0.requests.append(request) }
            let flow = request["flowId"]?.stringValue ?? ""
            guard read(call)?.blobs[flow] != nil else {
                FakeHost.reply(["code": "NOT_FOUND", "message": .string("no flow '\(flow)'")], reply, replyLength)
                return NODAL_ERROR
            }
            let inputs = request["inputs"]?.arrayValue ?? []
            let results: [JSON] = inputs.enumerated().map { index, input in
                guard let number = input.doubleValue else {
                    return ["itemIndex": .int(index), "result": ["outcome": "failed", "error": ["code": "BAD_ITEM", "message": "not a number"]]]
                }
                return ["itemIndex": .int(index), "result": ["outcome": "success", "value": ["doubled": .double(number * 2)]]]
            }
            let failed = results.filter { $0["result"]?["outcome"] == "failed" }.count
            FakeHost.reply([
                "runId": .string("run-\(flow.prefix(8))"), "flowId": .string(flow), "status": "success",
                "items": ["total": .int(inputs.count), "success": .int(inputs.count - failed), "failed": .int(failed)],
                "parentRunId": "parent-run", "rootRunId": "parent-run", "results": .array(results),
            ], reply, replyLength)
            return NODAL_OK
        }
        table.pointee.get = { call, request, length, reply, replyLength in
            guard let request = text(request, length) else { return NODAL_INVALID }
            update(call) { $0.requests.append(request) }
            FakeHost.reply(["runId": request["runId"] ?? .null, "status": "success", "results": []], reply, replyLength)
            return NODAL_OK
        }
        table.pointee.cancel = { call, request, length, reply, replyLength in
            guard let request = text(request, length) else { return NODAL_INVALID }
            update(call) { $0.requests.append(request) }
            FakeHost.reply(["runId": request["runId"] ?? .null, "status": "cancelled"], reply, replyLength)
            return NODAL_OK
        }
        return table
    }()

    static func put(_ call: OpaquePointer?, _ bytes: [UInt8], _ type: String, _ id: UnsafeMutablePointer<CChar>?) -> nodal_status {
        guard let id, let record = read(call) else { return NODAL_INVALID }
        let digits = String(record.blobs.count + 1, radix: 16)
        let text = String(repeating: "a", count: 64 - digits.count) + digits
        update(call) { $0.blobs[text] = (bytes, type) }
        for (index, byte) in text.utf8.enumerated() { id[index] = CChar(bitPattern: byte) }
        id[64] = 0
        return NODAL_OK
    }

    /// Blobs kept per call, with ids numbered in hexadecimal.
    nonisolated(unsafe) static let blobs: UnsafeMutablePointer<nodal_blobs> = {
        let table = UnsafeMutablePointer<nodal_blobs>.allocate(capacity: 1)
        table.initialize(to: nodal_blobs())
        table.pointee.struct_size = UInt32(MemoryLayout<nodal_blobs>.size)
        table.pointee.put_json = { call, json, length, type, id, _ in
            guard let value = text(json, length) else { return NODAL_ERROR }
            return FakeHost.put(call, value.serializedBytes(), type.map { String(cString: $0) } ?? "data", id)
        }
        table.pointee.put_bytes = { call, bytes, length, type, id, _ in
            guard let bytes else { return NODAL_INVALID }
            return FakeHost.put(call, Array(UnsafeRawBufferPointer(start: bytes, count: length)), type.map { String(cString: $0) } ?? "bytes", id)
        }
        table.pointee.get = { call, id, data, length, type, error in
            let key = id.map { String(cString: $0) } ?? ""
            guard let blob = read(call)?.blobs[key] else {
                error?.pointee = kept(Array("no blob \(key)".utf8))
                return NODAL_ERROR
            }
            data?.pointee = kept(blob.bytes)
            length?.pointee = blob.bytes.count
            type?.pointee = kept(Array(blob.type.utf8))
            return NODAL_OK
        }
        return table
    }()
}

/// The Kit's runs and blobs wrappers against the real engine (the tests above use a fake host):
/// the `kitprobe` product, a Kit plugin built with this package, stores a flow, runs it as a
/// sub-run, polls it, and round-trips a bytes blob.
@Suite struct PluginKitRealHostTests {
    @Test func aKitNodeRunsASubRunAndKeepsBlobsThroughTheEngine() async throws {
        let engine = Engine(blockingThreads: 1)
        try engine.loadPlugin(at: Products.plugin("kitprobe"))
        let flow = try Flow(yaml: "steps:\n  - { id: probe, component: /kitprobe/orchestrate, input: { names: { $input: names } } }\noutput: { $step: probe }\n")
        let result = await engine.run(flow, input: ["names": ["ada", "grace", "linus"]], options: RunOptions(runID: "kit-parent"))
        #expect(result.status == .success, "\(String(describing: result.error))")
        let output = try #require(result.output)
        #expect(output["status"] == "success")
        #expect(output["total"] == 3)
        #expect(output["success"] == 3)
        #expect(output["values"] == [["name": "ada"], ["name": "grace"], ["name": "linus"]])
        #expect(output["parentRunId"] == "kit-parent")
        #expect(output["bytesType"] == "application/octet-stream")
        #expect(output["bytesRoundTrip"] == true)
    }
}
