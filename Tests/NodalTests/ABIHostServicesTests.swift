import CNodal
import Synchronization
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// The host services keep the header's thread rules (any thread during invoke) and refuse call
/// handles whose invoke has returned, without touching the finished call.
@Suite struct ABIHostServicesTests {
    /// A plugin whose nodes call the host services from several threads during one invoke.
    static let threadsPlugin = #"""
        #define _POSIX_C_SOURCE 200809L
        #include <pthread.h>
        #include <stdio.h>
        #include <string.h>
        #include "nodal.h"

        #define THREADS 4
        #define ROUNDS 250

        typedef struct {
            const nodal_host *host;
            nodal_call *call;
            int index;
            int fail;      /* also set_error from this thread, never write_output */
            int refused;   /* services that did not return NODAL_OK (is_cancelled: not 0) */
        } worker;

        static void *work(void *arg) {
            worker *w = (worker *)arg;
            char json[64], code[16], message[32];
            int k;
            for (k = 0; k < ROUNDS; k++) {
                int length = snprintf(json, sizeof json, "{\"t\":%d,\"k\":%d}", w->index, k);
                snprintf(code, sizeof code, "T%d", w->index);
                snprintf(message, sizeof message, "thread %d round %d", w->index, k);
                if (!w->fail && w->host->write_output(w->call, json, (size_t)length) != NODAL_OK) w->refused++;
                if (w->fail && w->host->set_error(w->call, code, message, json, (size_t)length) != NODAL_OK) w->refused++;
                if (w->host->log(w->call, NODAL_LOG_DEBUG, message) != NODAL_OK) w->refused++;
                if (w->host->report_progress(w->call, (double)k / ROUNDS, message) != NODAL_OK) w->refused++;
                if (w->host->is_cancelled(w->call) != 0) w->refused++;
            }
            return NULL;
        }

        /* Runs THREADS workers on `call` and waits for them. Returns the number of refusals, or -1
         * if a thread could not be started. */
        static int spray(const nodal_host *host, nodal_call *call, int fail) {
            pthread_t threads[THREADS];
            worker workers[THREADS];
            int i, refused = 0;
            for (i = 0; i < THREADS; i++) {
                workers[i].host = host; workers[i].call = call; workers[i].index = i;
                workers[i].fail = fail; workers[i].refused = 0;
                if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) return -1;
            }
            for (i = 0; i < THREADS; i++) {
                pthread_join(threads[i], NULL);
                refused += workers[i].refused;
            }
            return refused;
        }

        /* Every worker writes outputs; when they are done the invoke writes a summary. */
        static nodal_status summary_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                           const char *input, size_t input_len) {
            char json[96];
            int refused, length;
            (void)node; (void)input; (void)input_len;
            refused = spray(host, call, 0);
            length = snprintf(json, sizeof json, "{\"calls\":%d,\"refused\":%d}", THREADS * ROUNDS * 4, refused);
            return host->write_output(call, json, (size_t)length);
        }

        /* The output is whatever worker wrote last. */
        static nodal_status last_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            (void)node; (void)input; (void)input_len;
            return spray(host, call, 0) == 0 ? NODAL_OK : NODAL_ERROR;
        }

        /* Every worker sets errors; the error is whichever was set last. */
        static nodal_status error_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                         const char *input, size_t input_len) {
            (void)node; (void)input; (void)input_len;
            if (spray(host, call, 1) != 0) {
                host->set_error(call, "REFUSED", "a host service refused a live call", NULL, 0);
            }
            return NODAL_ERROR;
        }

        #define NODE(var, nm, fn) static const nodal_node var = { sizeof(nodal_node), 0, "org.test.threads." nm, nm, \
            "1.0.0", NULL, NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, fn }
        NODE(summary_node, "summary", summary_invoke);
        NODE(last_node, "last", last_invoke);
        NODE(error_node, "error", error_invoke);
        static const nodal_node *const nodes[] = { &summary_node, &last_node, &error_node };
        static const nodal_plugin plugin = {
            sizeof(nodal_plugin), NODAL_ABI_MAJOR, NODAL_ABI_MINOR, 3, "org.test.threads", "threads", "1.0.0",
            NULL, NULL, NULL, nodes, NULL, NULL, NULL
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """#

    /// A plugin that keeps call handles past their invoke: `keep` uses the previous call's handle
    /// on the next invoke (same thread: it runs inline); `detach` gives its handle to a detached
    /// thread that uses it only once the next invoke has started, so after this one returned.
    static let stalePlugin = #"""
        #define _POSIX_C_SOURCE 200809L
        #include <pthread.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <string.h>
        #include "nodal.h"

        typedef struct { int write, error, log, cancelled, progress; } statuses;

        /* Logs at error level, so that a line the host wrongly accepts shows; NULL is the
         * plugin-level log, accepted, so it logs at debug level to stay quiet. */
        static void use(const nodal_host *host, nodal_call *call, statuses *s) {
            s->write = host->write_output(call, "\"stale\"", 7);
            s->error = host->set_error(call, "STALE", "from a stale handle", "{\"stale\":true}", 14);
            s->log = host->log(call, call ? NODAL_LOG_ERROR : NODAL_LOG_DEBUG, "from a stale handle");
            s->cancelled = host->is_cancelled(call);
            s->progress = host->report_progress(call, 0.5, "from a stale handle");
        }

        static int format(char *out, size_t size, const char *name, const statuses *s) {
            return snprintf(out, size, "\"%s\":{\"write_output\":%d,\"set_error\":%d,\"log\":%d,\"is_cancelled\":%d,\"report_progress\":%d}",
                            name, s->write, s->error, s->log, s->cancelled, s->progress);
        }

        static const nodal_host *kept_host;
        static nodal_call *kept;

        static nodal_status keep_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            char out[1024];
            int length;
            statuses previous = { -1, -1, -1, -1, -1 }, made_up = { -1, -1, -1, -1, -1 }, null = { -1, -1, -1, -1, -1 };
            statuses made_up_high = { -1, -1, -1, -1, -1 };
            (void)node; (void)input; (void)input_len;
            if (kept) use(kept_host, kept, &previous);
            use(host, (nodal_call *)(uintptr_t)1, &made_up);
            use(host, (nodal_call *)(uintptr_t)0xFFFFFFFFFFFFFull, &made_up_high);
            use(host, NULL, &null);
            kept_host = host;
            kept = call;
            length = snprintf(out, sizeof out, "{\"first\":%s,", previous.write == -1 ? "true" : "false");
            length += format(out + length, sizeof out - (size_t)length, "previous", &previous);
            out[length++] = ',';
            length += format(out + length, sizeof out - (size_t)length, "made_up", &made_up);
            out[length++] = ',';
            length += format(out + length, sizeof out - (size_t)length, "made_up_high", &made_up_high);
            out[length++] = ',';
            length += format(out + length, sizeof out - (size_t)length, "null", &null);
            out[length++] = '}';
            return host->write_output(call, out, (size_t)length);
        }

        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
        static int go, done, pending;
        static statuses detached_result;

        typedef struct { const nodal_host *host; nodal_call *call; } handoff;
        static handoff shared;

        static void *detached(void *arg) {
            handoff h = *(handoff *)arg;
            statuses s;
            pthread_mutex_lock(&lock);
            while (!go) pthread_cond_wait(&changed, &lock);
            pthread_mutex_unlock(&lock);
            use(h.host, h.call, &s);
            pthread_mutex_lock(&lock);
            detached_result = s;
            done = 1;
            pthread_cond_broadcast(&changed);
            pthread_mutex_unlock(&lock);
            return NULL;
        }

        static nodal_status detach_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                          const char *input, size_t input_len) {
            char out[512], text[64];
            int length = 0, last;
            size_t n = input_len < sizeof text - 1 ? input_len : sizeof text - 1;
            (void)node;
            memcpy(text, input, n);
            text[n] = 0;
            last = strstr(text, "last") != NULL;
            out[length++] = '{';
            if (pending) {
                /* The thread started by the previous invoke may use its handle now. */
                pthread_mutex_lock(&lock);
                go = 1;
                pthread_cond_broadcast(&changed);
                while (!done) pthread_cond_wait(&changed, &lock);
                pthread_mutex_unlock(&lock);
                length += format(out + length, sizeof out - (size_t)length, "detached", &detached_result);
                pending = 0;
            }
            if (!last) {
                pthread_t thread;
                pthread_attr_t attributes;
                go = 0;
                done = 0;
                shared.host = host;
                shared.call = call;
                pthread_attr_init(&attributes);
                pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&thread, &attributes, detached, &shared) != 0) {
                    host->set_error(call, "NO_THREAD", "pthread_create failed", NULL, 0);
                    return NODAL_ERROR;
                }
                pthread_attr_destroy(&attributes);
                pending = 1;
            }
            out[length++] = '}';
            return host->write_output(call, out, (size_t)length);
        }

        static const nodal_node keep_node = { sizeof(nodal_node), 0, "org.test.stale.keep", "keep", "1.0.0", NULL,
            NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, keep_invoke };
        static const nodal_node detach_node = { sizeof(nodal_node), 0, "org.test.stale.detach", "detach", "1.0.0", NULL,
            0, NULL, NULL, NULL, NULL, detach_invoke };
        static const nodal_node *const nodes[] = { &keep_node, &detach_node };
        static const nodal_plugin plugin = {
            sizeof(nodal_plugin), NODAL_ABI_MAJOR, NODAL_ABI_MINOR, 2, "org.test.stale", "stale", "1.0.0",
            NULL, NULL, NULL, nodes, NULL, NULL, NULL
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """#

    static func engine(_ source: String, name: String) throws -> Engine {
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(source, name: name, in: directory, flags: ["-pthread"])
        let engine = Engine()
        try engine.loadPlugin(at: path)
        return engine
    }

    /// s0 -> s1 -> ... -> s(count-1) of `component`, in that order; the output lists every output.
    static func chain(_ count: Int, _ component: String, lastInput: String = "{}") throws -> Flow {
        var yaml = "steps:\n"
        for index in 0..<count {
            let input = index == count - 1 ? lastInput : "{}"
            let after = index == 0 ? "" : ", after: { $step: s\(index - 1) }"
            yaml += "  - { id: s\(index), component: \(component), input: { in: \(input)\(after) } }\n"
        }
        yaml += "output: [\((0..<count).map { "{ $step: s\($0) }" }.joined(separator: ", "))]\n"
        return try Flow(yaml: yaml)
    }

    static let allInvalid: JSON = [
        "write_output": .int(Int(NODAL_INVALID)), "set_error": .int(Int(NODAL_INVALID)), "log": .int(Int(NODAL_INVALID)),
        "is_cancelled": .int(Int(NODAL_INVALID)), "report_progress": .int(Int(NODAL_INVALID)),
    ]

    @Test func servicesCalledFromSeveralThreadsDuringOneInvoke() async throws {
        let engine = try Self.engine(Self.threadsPlugin, name: "threads")
        let events = EventCollector()
        let flow = try Flow(yaml: "steps: [{id: s, component: /threads/summary}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:], options: RunOptions(onEvent: { events.add($0) }))
        #expect(result.status == .success)
        #expect(result.output == ["calls": 4000, "refused": 0])
        // Every worker's log lines and progress reports arrived, attributed to the step.
        let kinds = events.all.map(\.kind)
        let logs = kinds.filter { if case .log(step: "s", level: "debug", message: _) = $0 { true } else { false } }
        let progress = kinds.filter { if case .progress(step: "s", fraction: _, message: _) = $0 { true } else { false } }
        #expect(logs.count == 1000)
        #expect(progress.count == 1000)
    }

    @Test func outputWrittenFromSeveralThreadsIsOneWholeWrite() async throws {
        let engine = try Self.engine(Self.threadsPlugin, name: "threads")
        let flow = try Flow(yaml: "steps: [{id: s, component: /threads/last}]\noutput: {$step: s}")
        for _ in 0..<5 {
            let result = await engine.run(flow, input: [:])
            #expect(result.status == .success)
            let output = try #require(result.output?.objectValue)
            #expect(Set(output.keys) == ["t", "k"])
            #expect((0..<4).contains(output["t"]?.intValue ?? -1))
            #expect((0..<250).contains(output["k"]?.intValue ?? -1))
        }
    }

    @Test func errorSetFromSeveralThreadsIsOneWholeError() async throws {
        let engine = try Self.engine(Self.threadsPlugin, name: "threads")
        let flow = try Flow(yaml: "steps: [{id: s, component: /threads/error}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        let error = try #require(result.step("s")?.error)
        // Code, message and details all come from the same set_error call.
        let thread = try #require(["T0", "T1", "T2", "T3"].firstIndex(of: error.code))
        #expect(error.message.hasPrefix("thread \(thread) round "))
        let round = try #require(Int(error.message.split(separator: " ").last ?? ""))
        #expect(error.details == ["t": .int(thread), "k": .int(round)])
    }

    @Test func aHandleKeptPastItsInvokeIsRefusedOnTheNextInvoke() async throws {
        let engine = try Self.engine(Self.stalePlugin, name: "stale_keep")
        let result = await engine.run(try Self.chain(200, "/stale/keep"), input: [:])
        #expect(result.status == .success)
        let outputs = try #require(result.output?.arrayValue)
        #expect(outputs.count == 200)
        for (index, output) in outputs.enumerated() {
            #expect(output["first"] == .bool(index == 0), "step s\(index)")
            if index > 0 { #expect(output["previous"] == Self.allInvalid, "step s\(index)") }
            #expect(output["made_up"] == Self.allInvalid, "step s\(index)")
            #expect(output["made_up_high"] == Self.allInvalid, "step s\(index)")
            // NULL is refused too, except by log, where it means a line from the plugin itself.
            let null: JSON = [
                "write_output": .int(Int(NODAL_INVALID)), "set_error": .int(Int(NODAL_INVALID)), "log": .int(Int(NODAL_OK)),
                "is_cancelled": .int(Int(NODAL_INVALID)), "report_progress": .int(Int(NODAL_INVALID)),
            ]
            #expect(output["null"] == null, "step s\(index)")
        }
        // The stale writes reached no step: each step's output is its own.
        #expect(result.steps.allSatisfy { $0.error == nil && $0.status == .success })
    }

    @Test func aHandleUsedByADetachedThreadAfterItsInvokeIsRefused() async throws {
        let engine = try Self.engine(Self.stalePlugin, name: "stale_detach")
        let result = await engine.run(try Self.chain(200, "/stale/detach", lastInput: "{last: true}"), input: [:])
        #expect(result.status == .success)
        let outputs = try #require(result.output?.arrayValue)
        #expect(outputs.count == 200)
        #expect(outputs[0] == [:])
        for (index, output) in outputs.enumerated().dropFirst() {
            #expect(output == ["detached": Self.allInvalid], "step s\(index)")
        }
    }

    /// The table itself: more calls at once than its first segment holds, each handle live until
    /// its call finishes and refused after.
    @Test func callTableGrowsAndRefusesFinishedCalls() throws {
        let count = 300
        let contexts = UnsafeMutablePointer<CallContext>.allocate(capacity: count)
        for index in 0..<count {
            (contexts + index).initialize(to: CallContext(stepID: "s\(index)", nodeID: "org.test.table", cancellation: nil, events: nil))
        }
        defer {
            contexts.deinitialize(count: count)
            contexts.deallocate()
        }
        let calls = (0..<count).compactMap { CallTable.begin(contexts + $0) }
        #expect(calls.count == count)
        #expect(Set(calls.map { UInt(bitPattern: $0.handle) }).count == count)
        for (index, call) in calls.enumerated() {
            #expect(CallTable.withLiveCall(call.handle) { _, context in context.pointee.stepID } == "s\(index)")
            let json = "\(index)"
            let status = json.withCString { HostServices.table.pointee.write_output(call.handle, $0, json.utf8.count) }
            #expect(status == NODAL_OK)
        }
        for (index, call) in calls.enumerated() {
            let answer = CallTable.finish(call)
            #expect(answer.output == Array("\(index)".utf8))
            #expect(CallTable.withLiveCall(call.handle) { _, _ in true } == nil)
            #expect(HostServices.table.pointee.is_cancelled(call.handle) == NODAL_INVALID)
        }
        #expect(CallTable.withLiveCall(nil) { _, _ in true } == nil)
        #expect(CallTable.withLiveCall(OpaquePointer(bitPattern: UInt(CallTable.maximumSlots))) { _, _ in true } == nil)
    }

    @Test func aLogWithoutACallIsAccepted() {
        #expect(HostServices.table.pointee.log(nil, NODAL_LOG_DEBUG, "plugin-level line") == NODAL_OK)
        #expect(HostServices.table.pointee.log(nil, NODAL_LOG_DEBUG, nil) == NODAL_INVALID)
    }
}

/// Collects a run's events from whichever thread delivers them.
final class EventCollector: Sendable {
    private let events = Mutex<[RunEvent]>([])
    func add(_ event: RunEvent) { events.withLock { $0.append(event) } }
    var all: [RunEvent] { events.withLock { $0 } }
}
