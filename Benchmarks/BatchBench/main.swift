// batch-bench: batches through a one-step flow of the non-blocking C node /std/increment.
//
//   swift build -c release --product nodal_std && swift build -c release --product batch-bench && .build/release/batch-bench [items] [plugin-path...]
//
// 1. Streaming from JSON-lines files of 1,000, 10,000 and 100,000 lines (generated in a temporary
//    folder), each result serialized as `nodal run --inputs-file` would print it and discarded.
//    Peak memory (getrusage ru_maxrss) is read after each: flat means bounded memory. This part
//    runs first because the peak never goes down.
// 2. The array form, `runBatch(flow, inputs: [JSON])`, over `items` inputs (default 100,000) at
//    several caps on runs in flight; it keeps every RunResult, so its peak memory grows with the
//    batch.
//
// The baseline, measured in the same run, is the latency of one `engine.run` of the same flow,
// one after another; batch figures are per item and as ratios to it (below 1: the batch costs less
// per item than running the items one by one).
import Foundation
import Nodal

#if canImport(Glibc)
import Glibc
#endif

func seconds(_ duration: Duration) -> Double {
    let (s, atto) = duration.components
    return Double(s) + Double(atto) / 1e18
}

/// User plus system CPU time of the process so far, in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func peakMemoryMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Resident memory now, from /proc/self/statm (pages).
func currentMemoryMB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / (1024 * 1024)
}

func format(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }

let arguments = Array(CommandLine.arguments.dropFirst())
let itemCount = arguments.first.flatMap { Int($0) } ?? 100_000
let pluginPaths = arguments.first.flatMap { Int($0) } == nil ? arguments : Array(arguments.dropFirst())

let engine = Engine()
let refused = engine.loadPlugins(searchPath: Engine.pluginSearchPath(explicit: pluginPaths, configuration: nil))
guard engine.plugins.contains(where: { $0.name == "std" }) else {
    // `swift build --product X` builds X alone: the plugin is a product of its own.
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let refusals = refused.isEmpty ? "" : " (refused: \(refused.map(\.description).joined(separator: "; ")))"
    print("libnodal_std.so not found beside the executable, in \(folder)\(refusals). Build it with `swift build -c release --product nodal_std` (then `.build/release/batch-bench`), or give the folder or file that holds it as an argument.")
    exit(1)
}

let flow = try Flow(yaml: """
    steps:
      - { id: inc, component: /std/increment, input: { value: { $input: value } } }
    output: { $step: inc, path: value }
    """)

// MARK: Baseline: one run at a time

let clock = ContinuousClock()
/// Best of three: the least disturbed by other work on the machine.
func measureBaseline(runs: Int) async -> Double {
    var fastest = Double.infinity
    for _ in 0..<3 {
        let start = clock.now
        for i in 0..<runs {
            let result = await engine.run(flow, input: ["value": .int(i)])
            precondition(result.output == .int(i + 1), "baseline run failed: \(result.error?.message ?? "")")
        }
        fastest = min(fastest, seconds(clock.now - start) / Double(runs))
    }
    return fastest
}
let baseline = await measureBaseline(runs: 20_000)
let startMemory = currentMemoryMB()
print("baseline: one engine.run of the flow, sequentially: \(format(baseline * 1e6, 2)) µs (\(format(1 / baseline, 0)) runs/s)")
print("memory before batches: \(format(startMemory)) MB resident, \(format(peakMemoryMB())) MB peak")
print("")

/// CPU time at the start of the measurement `report` is about to print.
nonisolated(unsafe) var cpuAtStart = 0.0

func report(_ name: String, items: Int, time: Double, counts: BatchCounts, expected: Int) {
    let perItem = time / Double(items)
    let cores = (cpuSeconds() - cpuAtStart) / time
    var line = "\(name.padding(toLength: 46, withPad: " ", startingAt: 0)) "
    line += "\(format(time * 1000, 0).leftPadded(7)) ms  \(format(Double(items) / time, 0).leftPadded(7)) items/s  "
    line += "\(format(perItem * 1e6, 2).leftPadded(6)) µs/item  \(format(perItem / baseline, 2))x baseline  "
    line += "\(format(cores, 2)) cores busy  peak \(format(peakMemoryMB())) MB"
    if counts.succeeded != expected || counts.total != expected { line += "  (\(counts)!)" }
    print(line)
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

// MARK: 1. Streaming from JSON-lines files

let directory = NSTemporaryDirectory() + "batch-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

func writeLines(_ count: Int) throws -> String {
    let path = directory + "/items-\(count).jsonl"
    guard let file = fopen(path, "w") else { throw CocoaError(.fileWriteUnknown) }
    defer { fclose(file) }
    var chunk = ""
    for i in 0..<count {
        chunk += "{\"value\": \(i), \"note\": \"item number \(i) of the benchmark\"}\n"
        if chunk.utf8.count > 1 << 16 || i == count - 1 {
            fputs(chunk, file)
            chunk = ""
        }
    }
    return path
}

/// Bytes of result lines produced (what the CLI would write to standard output).
final class Sink: @unchecked Sendable {
    // Only touched from onResult, which the batch calls one result at a time.
    var bytes = 0
}

print("streaming from a JSON-lines file (runBatch over JSONLinesReader, results serialized and dropped), input order:")
var streamPeaks: [(Int, Double)] = []
for count in [1_000, 10_000, 100_000] {
    let path = try writeLines(count)
    let sink = Sink()
    cpuAtStart = cpuSeconds()
    let start = clock.now
    let counts = try await engine.runBatch(flow, inputs: try JSONLinesReader(path: path), options: BatchOptions()) { item in
        sink.bytes += item.json.serializedBytes().count + 1
    }
    report("  \(count) lines", items: count, time: seconds(clock.now - start), counts: counts, expected: count)
    streamPeaks.append((count, peakMemoryMB()))
}
let first = streamPeaks[0], last = streamPeaks[streamPeaks.count - 1]
print("  peak memory after \(last.0) lines / after \(first.0) lines: \(format(last.1 / first.1, 3))x (flat: 1.0; \(format(last.1 - first.1)) MB more for \(last.0 / first.0)x the lines)")
let largest = directory + "/items-100000.jsonl"
for (name, options) in [("  100000 lines, completion order", BatchOptions(order: .completion)), ("  100000 lines, maxConcurrency 2", BatchOptions(maxConcurrency: 2))] {
    let sink = Sink()
    cpuAtStart = cpuSeconds()
    let start = clock.now
    let counts = try await engine.runBatch(flow, inputs: try JSONLinesReader(path: largest), options: options) { item in
        sink.bytes += item.json.serializedBytes().count + 1
    }
    report(name, items: 100_000, time: seconds(clock.now - start), counts: counts, expected: 100_000)
}
print("")

// MARK: 2. The array form

print("runBatch(flow, inputs: [JSON]) over \(itemCount) items, input order (every RunResult kept):")
let inputs: [JSON] = (0..<itemCount).map { ["value": .int($0)] }
for cap in [1, 2, BatchOptions.defaultMaxConcurrency, 64] {
    cpuAtStart = cpuSeconds()
    let start = clock.now
    let batch = await engine.runBatch(flow, inputs: inputs, options: BatchOptions(maxConcurrency: cap))
    let time = seconds(clock.now - start)
    precondition(batch.items[itemCount - 1].result.output == .int(itemCount), "wrong output")
    report("  maxConcurrency \(cap)", items: itemCount, time: time, counts: batch.counts, expected: itemCount)
}
print("peak memory / memory before batches: \(format(peakMemoryMB() / startMemory, 1))x")
