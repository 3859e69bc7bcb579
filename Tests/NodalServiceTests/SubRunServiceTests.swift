import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// Runs plugins submit from steps of service runs are service runs, under their parent; and a
/// plugin reaches no run of another root, with or without the service.
@Suite struct SubRunServiceTests {
    /// A C plugin whose `get` and `cancel` nodes pass their input to the runs extension as the
    /// request and answer with its reply (a refusal fails the step with code `REFUSED`, the reply
    /// as the details): a plugin asking for any run id it likes.
    static let probeSource = #"""
        #include "nodal.h"

        static nodal_status answer(const nodal_host *host, nodal_call *call, nodal_status status, const char *reply, size_t len) {
            if (status == NODAL_OK) return host->write_output(call, reply, len);
            host->set_error(call, status == NODAL_ERROR ? "REFUSED" : "INVALID", "the runs extension refused the request", status == NODAL_ERROR ? reply : NULL, status == NODAL_ERROR ? len : 0);
            return NODAL_ERROR;
        }
        static nodal_status get(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            const nodal_runs *runs = (const nodal_runs *)h->get_extension(h, NODAL_EXT_RUNS);
            const char *reply = NULL;
            size_t reply_len = 0;
            nodal_status status;
            (void)n;
            status = runs->get(c, in, len, &reply, &reply_len);
            return answer(h, c, status, reply, reply_len);
        }
        static nodal_status cancel(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            const nodal_runs *runs = (const nodal_runs *)h->get_extension(h, NODAL_EXT_RUNS);
            const char *reply = NULL;
            size_t reply_len = 0;
            nodal_status status;
            (void)n;
            status = runs->cancel(c, in, len, &reply, &reply_len);
            return answer(h, c, status, reply, reply_len);
        }
        static const nodal_node get_node = { .struct_size = sizeof(nodal_node), .id = "org.test.probe.get", .name = "get",
            .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = get };
        static const nodal_node cancel_node = { .struct_size = sizeof(nodal_node), .id = "org.test.probe.cancel", .name = "cancel",
            .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = cancel };
        static const nodal_node *const nodes[] = { &get_node, &cancel_node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 2, .id = "org.test.probe", .name = "probe", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t a, uint32_t b) { (void)a; (void)b; return &plugin; }
        """#

    /// Greets every name of the input in a sub-run, two at a time.
    static let greetAll: JSON = [
        "name": "greet-all",
        "steps": [[
            "id": "greet_all", "component": "/orchestrator/orchestrate",
            "input": [
                "items": ["$input": "names"], "maxConcurrency": 2,
                "flow": ["$literal": [
                    "name": "greet",
                    "steps": [["id": "shout", "component": "/std/upper", "input": ["text": ["$input": "$"]]]],
                    "output": ["$step": "shout", "path": "text"],
                ]],
            ],
        ]],
        "output": ["$step": "greet_all"],
    ]

    /// Asks for the run `{runId}` of the input through the probe plugin.
    static func probe(_ node: String) -> JSON {
        ["name": "probe", "steps": [["id": "p", "component": .string("/probe/\(node)"), "input": ["runId": ["$input": "id"]]]], "output": ["$step": "p"]]
    }

    static func loadPlugins(_ engine: Engine) throws {
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        try engine.loadPlugin(at: Products.plugin("nodal_orchestrator"))
        try engine.loadPlugin(at: try buildCPlugin(probeSource, name: "probe", in: try temporaryDirectory()))
    }

    @Test func aSubmittedRunIsAServiceRunUnderItsParent() async throws {
        let fixture = try ServiceFixture()
        try Self.loadPlugins(fixture.engine)
        let flowID = try await fixture.store(Self.greetAll)
        let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["names": ["ada", "grace", "linus"]]], "wait": true])
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        let parentID = try #require(reply["summary"]?["runId"]?.stringValue)
        let output = try #require(reply["results"]?[0]?["output"])
        #expect(output["status"] == "success")
        #expect(output["results"]?.arrayValue?.map { $0["result"]?["value"] } == ["ADA", "GRACE", "LINUS"])
        let subID = try #require(output["runId"]?.stringValue)

        let children = try await fixture.service.listRuns(RunQuery(parentRunID: parentID))["runs"]?.arrayValue ?? []
        #expect(children.map { $0["runId"] } == [.string(subID)])
        #expect(children.first?["parentRunId"] == .string(parentID))
        #expect(children.first?["rootRunId"] == .string(parentID))
        #expect(children.first?["flowName"] == "greet")
        #expect(try await fixture.service.listRuns(RunQuery(rootRunID: parentID))["runs"]?.arrayValue?.count == 2)
        #expect(try await fixture.service.listRuns(RunQuery(rootsOnly: true))["runs"]?.arrayValue?.map { $0["runId"] } == [.string(parentID)])
        #expect(try await fixture.service.listRuns(RunQuery(maxDepth: 0))["runs"]?.arrayValue?.count == 1)
        let status = try await fixture.service.status(["runId": .string(subID), "includeResults": true])
        #expect(status["items"]?["success"] == 3)
        #expect(status["parentRunId"] == .string(parentID))
        let events = try await fixture.events(parentID, until: "run_completed")
        let created = try #require(events.first { $0.name == "sub_run_created" })
        #expect(created.data["subRunCreated"] == ["runId": .string(subID), "parentRunId": .string(parentID), "flowId": created.data["subRunCreated"]!["flowId"]!, "itemCount": 3])
    }

    /// Hostile review: deleting a run left its sub-runs in the store, listed under a parent that
    /// was gone. They go with it.
    @Test func deletingARunDeletesItsSubRuns() async throws {
        let fixture = try ServiceFixture()
        try Self.loadPlugins(fixture.engine)
        let flowID = try await fixture.store(Self.greetAll)
        let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["names": ["ada"]]], "wait": true])
        let parentID = try #require(reply["summary"]?["runId"]?.stringValue)
        let subID = try #require(reply["results"]?[0]?["output"]?["runId"]?.stringValue)
        #expect(try await fixture.service.listRuns(RunQuery(rootRunID: parentID))["runs"]?.arrayValue?.count == 2)
        _ = try await fixture.service.deleteRun(id: parentID)
        #expect(try await fixture.service.listRuns(RunQuery())["runs"] == [])
        #expect(await refusal { try await fixture.service.run(id: subID, wait: false, timeout: nil) }?.code == "RUN_NOT_FOUND")
    }

    @Test func aPluginCannotReadOrCancelAnotherRootsRuns() async throws {
        let fixture = try ServiceFixture()
        try Self.loadPlugins(fixture.engine)
        let greet = try await fixture.store(Self.greetAll)
        let first = try await fixture.service.createRun(["flowId": .string(greet), "input": [["names": ["ada"]]], "wait": true])
        let otherRoot = try #require(first["summary"]?["runId"]?.stringValue)
        let otherSub = try #require(first["results"]?[0]?["output"]?["runId"]?.stringValue)
        for node in ["get", "cancel"] {
            let probe = try await fixture.store(Self.probe(node))
            for id in [otherRoot, otherSub] {
                let reply = try await fixture.service.createRun(["flowId": .string(probe), "input": [["id": .string(id)]], "wait": true])
                let item = try #require(reply["results"]?[0])
                #expect(item["status"] == "EXECUTION_STATUS_FAILED", "\(node) \(id): \(item)")
                #expect(item["errorDetails"]?["details"]?["code"] == "RUN_NOT_FOUND", "\(node) \(id): \(item)")
            }
        }
        #expect(try await fixture.service.status(["runId": .string(otherSub)])["status"] == "success")
    }

    @Test func withoutTheServiceTooAPluginReachesOnlyItsOwnRootsRuns() async throws {
        let engine = Engine()
        try Self.loadPlugins(engine)
        let first = await engine.run(try Flow(document: Self.greetAll), input: ["names": ["ada"]])
        let subID = try #require(first.output?["runId"]?.stringValue)
        for node in ["get", "cancel"] {
            let probe = await engine.run(try Flow(document: Self.probe(node)), input: ["id": .string(subID)])
            #expect(probe.status == .failed)
            #expect(probe.step("p")?.error?.details?["code"] == "RUN_NOT_FOUND", "\(node): \(probe.json)")
        }
    }
}
