// ffi-bench: per-step cost of calling libm's pow() through a `/builtin/ffi` step versus the same
// function wrapped as a C plugin node (include/nodal.h), measured in one process, one run.
//
//   swift build -c release --product ffi-bench && .build/release/ffi-bench [steps] [repetitions] [only]
//
// The C plugin is compiled here, at bench time, with `cc -O2` into a temporary folder. Each flow
// has `steps` steps (default 1000) and runs `repetitions` times (default 30) after a warm-up;
// the figure is the median run time divided by the number of steps. Two shapes:
//   independent: every step reads only the run input; up to 64 run at once (the default cap).
//   chain:       each step reads the previous step's result, so calls happen one at a time.
import Foundation
import Nodal

let arguments = CommandLine.arguments
let stepCount = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
let repetitions = arguments.count > 2 ? Int(arguments[2]) ?? 30 : 30
/// Runs only the variants whose name contains this (for profiling one of them).
let only = arguments.count > 3 ? arguments[3] : nil

// MARK: The plugin

let pluginSource = #"""
#include "nodal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds "key": in a small flat JSON object and reads the number after it. */
static int number_after(const char *json, size_t len, const char *key, double *out) {
    char pattern[32];
    int n = snprintf(pattern, sizeof pattern, "\"%s\":", key);
    for (size_t i = 0; i + (size_t)n <= len; i++) {
        if (memcmp(json + i, pattern, (size_t)n) == 0) {
            char buffer[64];
            size_t start = i + (size_t)n, k = 0;
            while (start + k < len && k < sizeof buffer - 1 && strchr("+-.0123456789eE", json[start + k])) {
                buffer[k] = json[start + k];
                k++;
            }
            buffer[k] = 0;
            char *end;
            *out = strtod(buffer, &end);
            return end != buffer;
        }
    }
    return 0;
}

static nodal_status pow_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                               const char *input, size_t len) {
    (void)node;
    double base, exponent;
    if (!number_after(input, len, "base", &base) || !number_after(input, len, "exponent", &exponent)) {
        host->set_error(call, "INVALID_INPUT", "needs numbers 'base' and 'exponent'", NULL, 0);
        return NODAL_ERROR;
    }
    char out[64];
    int n = snprintf(out, sizeof out, "{\"result\":%.17g}", pow(base, exponent));
    return host->write_output(call, out, (size_t)n);
}

static const nodal_node inline_node = {
    .struct_size = sizeof(nodal_node), .id = "org.nodal.bench.pow", .name = "pow", .version = "1.0.0",
    .flags = NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING | NODAL_NODE_DETERMINISTIC,
    .invoke = pow_invoke,
};
static const nodal_node pooled_node = {
    .struct_size = sizeof(nodal_node), .id = "org.nodal.bench.pow_pool", .name = "pow_pool", .version = "1.0.0",
    .flags = NODAL_NODE_THREAD_SAFE | NODAL_NODE_DETERMINISTIC,
    .invoke = pow_invoke,
};
static const nodal_node *const nodes[] = {&inline_node, &pooled_node};
static const nodal_plugin plugin = {
    .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
    .node_count = 2, .id = "org.nodal.bench", .name = "benchc", .version = "1.0.0", .nodes = nodes,
};

NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == NODAL_ABI_MAJOR ? &plugin : NULL;
}
"""#

/// Compiles the plugin against the repository's include/nodal.h; returns the .so path.
func buildPlugin() throws -> String {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nodal-ffi-bench-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let source = folder.appendingPathComponent("bench_pow.c")
    let library = folder.appendingPathComponent("libbench_pow.so")
    try pluginSource.write(to: source, atomically: true, encoding: .utf8)
    let compiler = Process()
    compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    compiler.arguments = ["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-shared", "-fPIC",
                          "-I", repository.appendingPathComponent("include").path, "-o", library.path, source.path, "-lm"]
    try compiler.run()
    compiler.waitUntilExit()
    guard compiler.terminationStatus == 0 else { fatalError("cc failed building \(source.path)") }
    return library.path
}

// MARK: Flows

enum Shape: String, CaseIterable { case independent, chain }

/// A flow of `stepCount` steps that each compute pow(base, exponent) with `component`.
/// `input(base, exponent)` writes the step input for that component.
func makeFlow(_ shape: Shape, component: String, input: (String, String) -> String) throws -> Flow {
    var yaml = "steps:\n"
    for index in 0..<stepCount {
        let base = shape == .chain && index > 0 ? "{$step: s\(index - 1), path: result}" : "{$input: base}"
        let exponent = shape == .chain ? "1" : "{$input: exponent}"
        yaml += "  - id: s\(index)\n    component: \(component)\n"
        yaml += shape == .independent ? "    mustExecute: true\n" : ""
        yaml += "    input: \(input(base, exponent))\n"
    }
    yaml += "output: {$step: s\(stepCount - 1), path: result}\n"
    return try Flow(yaml: yaml)
}

let ffiInput = { (base: String, exponent: String) in
    "{library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: [\(base), \(exponent)]}"
}
let pluginInput = { (base: String, exponent: String) in "{base: \(base), exponent: \(exponent)}" }

// MARK: Measuring

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Wall time of one run, in seconds.
func timeRun(_ engine: Engine, _ flow: Flow, input: JSON) async -> Double {
    let start = ContinuousClock.now
    let result = await engine.run(flow, input: input)
    let elapsed = ContinuousClock.now - start
    guard result.status == .success else { fatalError("run failed: \(result.error?.message ?? "?")") }
    return seconds(elapsed)
}

func microseconds(_ seconds: Double) -> String { String(format: "%7.2f µs", seconds * 1e6) }

let pluginPath = try buildPlugin()

// Two engines, so the allowlist decides how FFI calls run: pooled (the default) or inline.
let pooledEngine = Engine(extensions: [.ffi])
try pooledEngine.allowFFI(library: "libm.so.6", symbols: ["pow": "(double, double) -> double"])
let inlineEngine = Engine(extensions: [.ffi])
try inlineEngine.allowFFI(library: "libm.so.6", symbols: ["pow": "(double, double) -> double"], nonBlocking: true)
for engine in [pooledEngine, inlineEngine] { try engine.loadPlugin(at: pluginPath) }
// Loaded (and never unloaded): the temporary files are no longer needed.
try? FileManager.default.removeItem(atPath: (pluginPath as NSString).deletingLastPathComponent)
pooledEngine.register(route: "/swift/pow") { input, _ in
    ["result": .double(Foundation.pow(input["base"]?.doubleValue ?? 0, input["exponent"]?.doubleValue ?? 0))]
}

struct Variant {
    var name: String
    var engine: Engine
    var component: String
    var input: (String, String) -> String
}

let variants = [
    Variant(name: "C plugin node, non-blocking (inline)", engine: pooledEngine, component: "/benchc/pow", input: pluginInput),
    Variant(name: "FFI step, nonBlocking allowlist (inline)", engine: inlineEngine, component: "/builtin/ffi", input: ffiInput),
    Variant(name: "FFI step, default (blocking-call pool)", engine: pooledEngine, component: "/builtin/ffi", input: ffiInput),
    Variant(name: "C plugin node, blocking (pool)", engine: pooledEngine, component: "/benchc/pow_pool", input: pluginInput),
    Variant(name: "Swift async node (reference)", engine: pooledEngine, component: "/swift/pow", input: pluginInput),
]

print("ffi-bench: pow(base, exponent), \(stepCount) steps per flow, median of \(repetitions) runs, per step")
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores")
let input: JSON = ["base": 1.0001, "exponent": 3]
for shape in Shape.allCases {
    let chosen = variants.filter { variant in only.map(variant.name.contains) ?? true }
    var flows: [Flow] = []
    for variant in chosen {
        let flow = try makeFlow(shape, component: variant.component, input: variant.input)
        try variant.engine.validate(flow)
        _ = await timeRun(variant.engine, flow, input: input)  // warm-up
        flows.append(flow)
    }
    // Round-robin, so load from other processes falls on every variant alike.
    var times = Array(repeating: [Double](), count: chosen.count)
    for _ in 0..<repetitions {
        for (index, variant) in chosen.enumerated() {
            times[index].append(await timeRun(variant.engine, flows[index], input: input))
        }
    }
    print("\n\(shape.rawValue):")
    let perStep = times.map { median($0) / Double(stepCount) }
    for (index, variant) in chosen.enumerated() {
        let ratio = String(format: "%5.2fx", perStep[index] / perStep[0])
        print("  \(variant.name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(microseconds(perStep[index]))  \(ratio) the first line")
    }
}

/// Seconds per `engine.callFFI`, one call at a time. A nonisolated function, so the loop does not
/// hop between the main actor and the global executor on every call.
func sequentialCalls(_ engine: Engine, count: Int) async throws -> Double {
    let start = ContinuousClock.now
    for n in 0..<count {
        _ = try await engine.callFFI(library: "libm.so.6", symbol: "pow", signature: "(double, double) -> double", arguments: [.int(n), 2])
    }
    return seconds(ContinuousClock.now - start) / Double(count)
}

// The embedding API with no flow around it.
if only == nil {
    print("\nengine.callFFI, sequential calls:")
    for (name, engine) in [("nonBlocking (inline)", inlineEngine), ("default (pool)", pooledEngine)] {
        var times: [Double] = []
        for _ in 0..<5 { times.append(try await sequentialCalls(engine, count: 20_000)) }
        print("  \(name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(microseconds(median(times)))")
    }
}
