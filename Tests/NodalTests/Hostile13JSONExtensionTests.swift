import CNodal
import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// The JSON extension (`org.nodal.json.v1`) against a plugin that means harm or is merely
/// careless: very deep text and writers, a 1 MB path, made-up handles, keys written twice.
/// Each node reports through the extension's own writer, so what it says is JSON the host wrote.
@Suite struct Hostile13JSONExtensionTests {
    static let source = #"""
        #include <stdint.h>
        #include <stdlib.h>
        #include <string.h>
        #include "nodal.h"

        #define ARGS const nodal_node *node, const nodal_host *host, nodal_call *call, const char *input, size_t input_len
        #define NEED_JSON \
            const nodal_json *j = (const nodal_json *)host->get_extension(host, NODAL_EXT_JSON); \
            (void)node; (void)input; (void)input_len; \
            if (j == NULL) { host->set_error(call, "NO_JSON", "no JSON extension", NULL, 0); return NODAL_ERROR; }

        static nodal_status finish(const nodal_host *host, const nodal_json *j, nodal_call *call, nodal_json_writer w) {
            size_t len = 0;
            const char *text = j->writer_json(call, w, &len);
            if (text == NULL) { host->set_error(call, "WRITER", "the report writer failed", NULL, 0); return NODAL_ERROR; }
            return host->write_output(call, text, len);
        }

        static void field(const nodal_json *j, nodal_call *call, nodal_json_writer w, const char *key, int64_t value) {
            j->key(call, w, key, strlen(key));
            j->write_integer(call, w, value);
        }

        /* {"depth": N}: N begin_arrays then N end_arrays, then that text as the output. */
        static nodal_status deep_write(ARGS) {
            NEED_JSON
            int64_t depth = 0, k;
            nodal_json_writer w = j->writer(call);
            nodal_status status = NODAL_OK;
            size_t len = 0;
            const char *text;
            j->integer(call, j->get(call, j->input(call), "depth"), &depth);
            for (k = 0; k < depth && status == NODAL_OK; k++) status = j->begin_array(call, w);
            for (k = 0; k < depth && status == NODAL_OK; k++) status = j->end_array(call, w);
            if (status != NODAL_OK) { host->set_error(call, "WRITER", "a step was refused", NULL, 0); return NODAL_ERROR; }
            text = j->writer_json(call, w, &len);
            if (text == NULL || len != (size_t)(2 * depth)) { host->set_error(call, "WRITER", "no text", NULL, 0); return NODAL_ERROR; }
            return host->write_output(call, text, len) == NODAL_OK ? NODAL_OK : NODAL_ERROR;
        }

        /* Parses 100,000 '[' (and as many ']'), and a 1 MB path on the input. */
        static nodal_status deep_parse(ARGS) {
            NEED_JSON
            size_t n = 100000, k;
            char *text = malloc(2 * n), *path = malloc((1 << 20) + 1);
            const char *error = NULL;
            nodal_json_value doc;
            nodal_json_writer w = j->writer(call);
            if (text == NULL || path == NULL) { free(text); free(path); return NODAL_ERROR; }
            memset(text, '[', n);
            memset(text + n, ']', n);
            doc = j->parse(call, text, 2 * n, &error);
            for (k = 0; k < (1 << 20); k += 2) { path[k] = 'a'; path[k + 1] = '.'; }
            path[(1 << 20) - 1] = 0;
            j->begin_object(call, w);
            field(j, call, w, "deepIsNone", doc == NODAL_JSON_NONE);
            j->key(call, w, "error", 5);
            if (error != NULL) j->write_string(call, w, error, strlen(error)); else j->write_null(call, w);
            field(j, call, w, "longPathType", j->type(call, j->get(call, j->input(call), path)));
            /* 'a' 1 MB deep on a document that has it twice: the walk stops where the document does. */
            field(j, call, w, "longPathOnNested", j->get(call, j->parse(call, "{\"a\":{\"a\":1}}", 13, NULL), path) == NODAL_JSON_NONE);
            j->end_object(call, w);
            free(text);
            free(path);
            return finish(host, j, call, w);
        }

        /* Handles no call ever gave out, and handles of the call bent out of shape. */
        static nodal_status made_up(ARGS) {
            NEED_JSON
            nodal_json_value root = j->input(call), items = j->get(call, root, "items");
            nodal_json_value bent[] = { 1, UINT64_MAX, 0xFFFFFFFFu, root + 0xFFFFFFFEu, root ^ ((uint64_t)1 << 63),
                                        (root & 0xFFFFFFFF00000000u) | 0xFFFFFFFFu, items + 1000000 };
            nodal_json_writer w = j->writer(call), report = j->writer(call);
            size_t k, len = 7;
            int64_t i = 7;
            j->begin_array(call, report);
            for (k = 0; k < sizeof bent / sizeof bent[0]; k++) {
                j->begin_array(call, report);
                j->write_integer(call, report, j->type(call, bent[k]));
                j->write_integer(call, report, (int64_t)j->count(call, bent[k]));
                j->write_integer(call, report, j->string(call, bent[k], &len) == NULL && len == 0);
                j->write_integer(call, report, j->integer(call, bent[k], &i) == NODAL_INVALID && i == 7);
                j->write_integer(call, report, j->element(call, bent[k], 0) == NODAL_JSON_NONE);
                j->write_integer(call, report, j->write_value(call, j->writer(call), bent[k]));
                j->write_integer(call, report, j->begin_array(call, (nodal_json_writer)bent[k]));
                j->end_array(call, report);
            }
            /* A writer handle off by one is no writer. */
            j->write_integer(call, report, j->begin_array(call, w + 1));
            j->write_integer(call, report, j->writer_json(call, w + ((uint64_t)1 << 32) * 1000, &len) == NULL && len == 0);
            j->end_array(call, report);
            return finish(host, j, call, report);
        }

        /* A key written twice in one object: a parser keeps one of the values, so it is refused. */
        static nodal_status twice(ARGS) {
            NEED_JSON
            nodal_json_writer same = j->writer(call), equivalent = j->writer(call), nested = j->writer(call),
                              report = j->writer(call);
            size_t len = 0;
            j->begin_array(call, report);
            j->begin_object(call, same);
            j->key(call, same, "a", 1);
            j->write_integer(call, same, 1);
            j->write_integer(call, report, j->key(call, same, "a", 1));
            j->write_integer(call, report, j->writer_json(call, same, &len) == NULL);
            /* U+00E9 and e + U+0301 are one key to Nodal (as Swift strings compare). */
            j->begin_object(call, equivalent);
            j->key(call, equivalent, "\xc3\xa9", 2);
            j->write_null(call, equivalent);
            j->write_integer(call, report, j->key(call, equivalent, "e\xcc\x81", 3));
            /* The same key in an object inside the object, and in objects side by side, is fine:
             * {"a": {"a": null}, "b": [{"a": null}, {"a": null}]} */
            j->begin_object(call, nested);
            j->key(call, nested, "a", 1);
            j->begin_object(call, nested);
            j->write_integer(call, report, j->key(call, nested, "a", 1));
            j->write_null(call, nested);
            j->end_object(call, nested);
            j->write_integer(call, report, j->key(call, nested, "b", 1));
            j->begin_array(call, nested);
            j->begin_object(call, nested);
            j->key(call, nested, "a", 1);
            j->write_null(call, nested);
            j->end_object(call, nested);
            j->begin_object(call, nested);
            j->write_integer(call, report, j->key(call, nested, "a", 1));
            j->write_null(call, nested);
            j->end_object(call, nested);
            j->end_array(call, nested);
            j->write_integer(call, report, j->end_object(call, nested));
            {
                const char *text = j->writer_json(call, nested, &len);
                j->write_value(call, report, j->parse(call, text, len, NULL));
            }
            j->end_array(call, report);
            return finish(host, j, call, report);
        }

        static const nodal_node deep_write_node = { .struct_size = sizeof(nodal_node), .id = "org.test.h13.deep_write",
            .name = "deep_write", .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = deep_write };
        static const nodal_node deep_parse_node = { .struct_size = sizeof(nodal_node), .id = "org.test.h13.deep_parse",
            .name = "deep_parse", .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = deep_parse };
        static const nodal_node made_up_node = { .struct_size = sizeof(nodal_node), .id = "org.test.h13.made_up",
            .name = "made_up", .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = made_up };
        static const nodal_node twice_node = { .struct_size = sizeof(nodal_node), .id = "org.test.h13.twice",
            .name = "twice", .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = twice };
        static const nodal_node *const nodes[] = { &deep_write_node, &deep_parse_node, &made_up_node, &twice_node };
        static const nodal_plugin plugin = { .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR,
            .abi_minor = NODAL_ABI_MINOR, .node_count = 4, .id = "org.test.h13", .name = "h13", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)minor;
            return major == NODAL_ABI_MAJOR ? &plugin : NULL;
        }
        """#

    /// An engine with the plugin, built for this test.
    static func engine(maxOutputBytes: Int = Engine.defaultMaxOutputBytes) throws -> Engine {
        let path = try buildCPlugin(source, name: "h13", in: try temporaryDirectory())
        let engine = Engine(maxOutputBytes: maxOutputBytes)
        try engine.loadPlugin(at: path)
        return engine
    }

    static func run(_ engine: Engine, _ node: String, _ input: JSON = [:]) async throws -> RunResult {
        let flow = try Flow(yaml: "steps:\n  - { id: s, component: /h13/\(node), input: { $input: \"$\" } }\noutput: { $step: s }\n")
        return await engine.run(flow, input: input)
    }

    /// 100,000 nested arrays from the writer (no recursion there) reach write_output, whose
    /// parser refuses them by its depth limit: the step fails, saying so; nothing crashes.
    @Test func aWriterNested100kDeepIsRefusedByTheOutputParserNotTheStack() async throws {
        let engine = try Self.engine()
        let shallow = try await Self.run(engine, "deep_write", ["depth": 3])
        #expect(shallow.status == .success)
        #expect(shallow.output == [[[]]])
        let deep = try await Self.run(engine, "deep_write", ["depth": 100_000])
        #expect(deep.status == .failed)
        let message = deep.steps.first?.error?.message ?? ""
        #expect(message.contains("deeper than 512"), "\(message)")
    }

    @Test func text100kDeepAndAOneMegabytePathFindNothingAndSayWhy() async throws {
        let engine = try Self.engine()
        let result = try await Self.run(engine, "deep_parse", ["a": ["a": 1]])
        #expect(result.status == .success, "\(String(describing: result.error))")
        let output = try #require(result.output)
        #expect(output["deepIsNone"] == 1)
        #expect(output["error"]?.stringValue?.hasPrefix("invalid JSON at line 1, column 513: nesting deeper than 512") == true, "\(output)")
        #expect(output["longPathType"] == .int(Int(NODAL_JSON_MISSING)))
        #expect(output["longPathOnNested"] == 1)
    }

    @Test func madeUpAndBentHandlesReadAsMissingAndWriteNothing() async throws {
        let engine = try Self.engine()
        let result = try await Self.run(engine, "made_up", ["items": [1, 2, 3]])
        #expect(result.status == .success, "\(String(describing: result.error))")
        let rows = try #require(result.output?.arrayValue)
        let refused = JSON.int(Int(NODAL_INVALID))
        let missing: JSON = [.int(Int(NODAL_JSON_MISSING)), 0, 1, 1, 1, refused, refused]
        #expect(rows.count == 9)
        for (index, row) in rows.prefix(7).enumerated() {
            #expect(row == missing, "handle \(index)")
        }
        #expect(rows[7] == refused)
        #expect(rows[8] == 1)
    }

    /// `{"a":1,"a":2}` reached write_output and came out `{"a":2}`: the first value was lost
    /// without a word. The writer now refuses the second key (and one Nodal's parser would take
    /// for the same: canonically equivalent UTF-8), and only within one object.
    @Test func aKeyWrittenTwiceInOneObjectIsRefused() async throws {
        let engine = try Self.engine()
        let result = try await Self.run(engine, "twice")
        #expect(result.status == .success, "\(String(describing: result.error))")
        let ok = JSON.int(Int(NODAL_OK)), refused = JSON.int(Int(NODAL_INVALID))
        #expect(result.output == [refused, 1, refused, ok, ok, ok, ok, ["a": ["a": nil], "b": [["a": nil], ["a": nil]]]])
    }

    /// A writer had no cap: it grew until write_output refused the text, after the memory was
    /// spent. It now stops at the node's output limit, and the step fails with OUTPUT_TOO_LARGE
    /// even though the plugin only saw a refused step.
    @Test func aWriterStopsAtTheOutputLimit() async throws {
        let engine = try Self.engine(maxOutputBytes: 1000)
        let fits = try await Self.run(engine, "deep_write", ["depth": 400])
        #expect(fits.status == .success, "\(String(describing: fits.error))")
        let over = try await Self.run(engine, "deep_write", ["depth": 600])
        #expect(over.status == .failed)
        #expect(over.steps.first?.error?.code == "OUTPUT_TOO_LARGE", "\(String(describing: over.steps.first?.error))")
    }

    /// The writer itself refuses the step that takes it past its limit (before, every step
    /// succeeded and memory grew until write_output looked at the size).
    @Test func aWriterRefusesTheStepThatPassesItsLimit() {
        let writer = JSONExtensionWriter(serial: 1, limit: 10)
        var state = CallState()
        #expect(writer.beginArray() && writer.withinLimit(&state))
        var steps = 0
        while steps < 100, writer.integer(12345) && writer.withinLimit(&state) { steps += 1 }
        #expect(steps == 1)
        #expect(state.refusedOutputBytes == 12)
        #expect(writer.endArray() == false)
        #expect(writer.finished() == nil)
    }
}
