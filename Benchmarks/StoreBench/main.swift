// store-bench: what one step checkpoint costs in each run store.
//
//   swift build -c release --product store-bench && .build/release/store-bench [checkpoints] [folder]
//
// Writes `checkpoints` (default 10,000) step checkpoints to one run, one after another, awaiting
// each write as the scheduler does ("checkpoint written before dependents start"), in:
// - InMemoryRunStore (the baseline),
// - SQLiteRunStore in memory (the cost of SQL and the thread hop, without a file),
// - SQLiteRunStore on a file with the default durability (.processCrash: WAL, no fsync per commit),
// - SQLiteRunStore on a file with .grouped (written behind, committed in groups; timed until
//   all are committed),
// - SQLiteRunStore on a file with .powerLoss (an fsync per commit); fewer writes, it is slow.
// Then loads them all back, and times cache puts and hits. The file goes in `folder` (default: a
// new folder under /tmp); put it on the disk the real store will use.
//
//
// `store-bench --write-then-die PATH` is the tests' crash probe instead: it writes a run and 20
// checkpoints to the SQLite store at PATH, then kills itself with SIGKILL (no close, no flush),
// so the test can check that every checkpoint whose write returned is still there.
import Foundation
import Nodal

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--write-then-die" {
    let store = try await SQLiteRunStore(path: CommandLine.arguments[2])
    let now = Date()
    try await store.putRun(RunRecord(id: "killed", flowName: "probe", input: [:], status: .running, createdAt: now, updatedAt: now))
    for i in 0..<20 {
        try await store.putCheckpoint(StepCheckpoint(runID: "killed", stepID: "step-\(i)", status: "success", output: ["i": .int(i)]))
    }
    kill(getpid(), SIGKILL)
}

// `--write-then-die-grouped PATH`: the same with `.grouped` durability: 1,000 checkpoints written
// and flushed, then 1,000 more written behind, then SIGKILL with some still queued. The test checks
// that the file holds a prefix of them, the flushed ones at least.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--write-then-die-grouped" {
    let store = try await SQLiteRunStore(path: CommandLine.arguments[2], durability: .grouped)
    let now = Date()
    try await store.putRun(RunRecord(id: "killed", flowName: "probe", input: [:], status: .running, createdAt: now, updatedAt: now))
    for i in 0..<2_000 {
        try await store.putCheckpoint(StepCheckpoint(runID: "killed", stepID: "step-\(i)", status: "success", output: ["i": .int(i)]))
        if i == 999 { try await store.flushCheckpoints(runID: "killed") }
    }
    kill(getpid(), SIGKILL)
}

func seconds(_ duration: Duration) -> Double {
    let (s, atto) = duration.components
    return Double(s) + Double(atto) / 1e18
}

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
let folder = arguments.count > 2 ? arguments[2] : NSTemporaryDirectory() + "store-bench-" + UUID().uuidString
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

/// A step's checkpoint as the scheduler will write it: small input and output objects.
func checkpoint(_ i: Int) -> StepCheckpoint {
    StepCheckpoint(
        runID: "bench", stepID: "step-\(i)", status: "success",
        input: ["value": .int(i), "label": .string("item \(i)")], output: ["value": .int(i + 1), "label": .string("item \(i)"), "ok": true],
        attempts: 1, startedAt: Date(), endedAt: Date())
}

struct Row {
    var name: String
    var writes: Int
    var perWrite: Double
    var perLoad: Double?
}

func measure(_ name: String, writes: Int, open: () async throws -> any RunStorage) async throws -> Row {
    let store = try await open()
    try await store.putRun(RunRecord(id: "bench", flowName: "chain", input: [:], status: .running, createdAt: Date()))
    // Warm up (first statement preparation, page allocation).
    for i in 0..<min(100, writes) { try await store.putCheckpoint(checkpoint(-1 - i)) }
    let clock = ContinuousClock()
    let start = clock.now
    for i in 0..<writes { try await store.putCheckpoint(checkpoint(i)) }
    // Written behind (grouped): the time counts until they are all committed.
    try await store.flushCheckpoints(runID: "bench")
    let written = clock.now - start
    let loadStart = clock.now
    let loaded = try await store.checkpoints(runID: "bench")
    let load = clock.now - loadStart
    precondition(loaded.count == writes + min(100, writes))
    try await store.close()
    return Row(name: name, writes: writes, perWrite: seconds(written) / Double(writes), perLoad: seconds(load) / Double(loaded.count))
}

func cacheFigures(_ name: String, open: () async throws -> any RunStorage) async throws -> (put: Double, hit: Double) {
    let store = try await open()
    let n = 2_000
    let clock = ContinuousClock()
    let start = clock.now
    for i in 0..<n { try await store.putCachedResult(key: "key-\(i)", value: ["value": .int(i), "label": .string("item \(i)")]) }
    let put = clock.now - start
    let hitStart = clock.now
    for i in 0..<n { _ = try await store.cachedResult(key: "key-\(i)") }
    let hit = clock.now - hitStart
    try await store.close()
    return (seconds(put) / Double(n), seconds(hit) / Double(n))
}

var rows: [Row] = []
rows.append(try await measure("in-memory", writes: count) { InMemoryRunStore() })
rows.append(try await measure("sqlite :memory:", writes: count) { try await SQLiteRunStore(path: ":memory:") })
rows.append(try await measure("sqlite file, processCrash", writes: count) {
    try await SQLiteRunStore(path: folder + "/crash.db", durability: .processCrash)
})
rows.append(try await measure("sqlite file, grouped", writes: count) {
    try await SQLiteRunStore(path: folder + "/grouped.db", durability: .grouped)
})
let fsyncWrites = min(count, 1_000)
rows.append(try await measure("sqlite file, powerLoss", writes: fsyncWrites) {
    try await SQLiteRunStore(path: folder + "/power.db", durability: .powerLoss)
})

let baseline = rows[0].perWrite
print("checkpoint writes, one at a time, awaited (folder \(folder)):")
print("store                         writes   per write     x in-memory   per checkpoint loaded")
for row in rows {
    let name = row.name.padding(toLength: 28, withPad: " ", startingAt: 0)
    let writes = String(row.writes).padding(toLength: 8, withPad: " ", startingAt: 0)
    let per = String(format: "%9.2f µs", row.perWrite * 1e6)
    let ratio = String(format: "%10.0fx", row.perWrite / baseline)
    let load = row.perLoad.map { String(format: "%9.2f µs", $0 * 1e6) } ?? "-"
    print("\(name)  \(writes) \(per)  \(ratio)     \(load)")
}

let memoryCache = try await cacheFigures("in-memory") { InMemoryRunStore() }
let sqliteCache = try await cacheFigures("sqlite") { try await SQLiteRunStore(path: folder + "/cache.db") }
print(String(format: "cache put / hit: in-memory %.2f / %.2f µs, sqlite file %.2f / %.2f µs",
             memoryCache.put * 1e6, memoryCache.hit * 1e6, sqliteCache.put * 1e6, sqliteCache.hit * 1e6))

let blob = JSON.array((0..<1000).map { ["i": .int($0), "s": .string("some text \($0)")] })
let clock = ContinuousClock()
let hashStart = clock.now
let bytes = blob.canonicalSerialized().utf8.count * 20
for _ in 0..<20 { _ = ContentHash.sha256Hex(of: blob) }
let hashTime = seconds(clock.now - hashStart)
print(String(format: "blob id (canonical JSON + SHA-256): %.1f MB/s", Double(bytes) / hashTime / 1e6))
try? FileManager.default.removeItem(atPath: folder)

let raw = [UInt8](repeating: 0x61, count: 16 << 20)
let rawStart = clock.now
_ = ContentHash.sha256Hex(raw)
print(String(format: "SHA-256 alone: %.0f MB/s", Double(raw.count) / seconds(clock.now - rawStart) / 1e6))
