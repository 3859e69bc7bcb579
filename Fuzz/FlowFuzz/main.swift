// A mutation fuzzer over the flow loader, the JSON parser and the engine, with no outside tools.
//
// It reads a seed corpus (the repository's flows and the Stepflow conformance flows), mutates each
// seed many ways (byte flips, splices of other seeds, deep nesting, huge and odd numbers, YAML
// aliases, BOMs, unknown keys), and feeds every input to `JSON(parsing:)`, `Flow(yaml:)`,
// `Flow(json:)`, `Engine.validate` and a bounded `Engine.run`. Before each input it writes the
// input to `LAST_INPUT` so that a crash leaves its reproducer behind; `scripts/fuzz` runs it for a
// bounded time and copies a crashing input into `Tests/FuzzCorpus/crashes/`.
//
//   nodal-fuzz [--seconds N] [--seed N] [--last-input FILE] SEED_FILE_OR_FOLDER...
import Foundation
import Nodal
import NodalTestSupport

struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        // splitmix64: deterministic for a given --seed.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}

/// Values hostile flows put where numbers and strings go.
let oddValues = [
    "1e308", "-1e308", "1e300", ".inf", "-.inf", ".nan", "9223372036854775807", "9223372036854775808",
    "-9223372036854775809", "18446744073709551616", "0", "-1", "0.0000001", "1e-320", "null", "~", "''", "\"\"",
    "[]", "{}", "true", "!!binary AAAA", "&a [*a]", "\"\\u0000\"", "\"\\ud800\"", String(repeating: "9", count: 400),
]
let keys = ["maxRetries", "timeout", "multiplier", "maxInterval", "initialInterval", "max_iterations", "onError", "retry",
            "flow", "component", "input", "$step", "$input", "$if", "$coalesce", "$switch", "cache", "mustExecute", "path"]

func mutate(_ seed: [UInt8], others: [[UInt8]], _ random: inout Generator) -> [UInt8] {
    var bytes = seed
    let rounds = 1 + random.below(4)
    for _ in 0..<rounds {
        switch random.below(11) {
        case 0 where !bytes.isEmpty:  // flip a byte
            bytes[random.below(bytes.count)] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
        case 1 where !bytes.isEmpty:  // delete a run
            let start = random.below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(16)))
        case 2:  // splice in part of another seed
            let other = random.pick(others)
            guard !other.isEmpty else { continue }
            let from = random.below(other.count)
            let piece = other[from..<min(other.count, from + 1 + random.below(64))]
            bytes.insert(contentsOf: piece, at: random.below(bytes.count + 1))
        case 3:  // an odd value after some colon
            if let colon = bytes.indices.filter({ bytes[$0] == UInt8(ascii: ":") }).randomElement(using: &random) {
                bytes.insert(contentsOf: Array((" " + random.pick(oddValues)).utf8), at: colon + 1)
            }
        case 4:  // a key a step understands, with an odd value
            let line = "\n    \(random.pick(keys)): \(random.pick(oddValues))\n"
            bytes.insert(contentsOf: Array(line.utf8), at: random.below(bytes.count + 1))
        case 5:  // deep nesting
            let depth = 1 + random.below(5000)
            let open = random.below(2) == 0 ? "[" : "{a: "
            let close = open == "[" ? "]" : "}"
            bytes.insert(contentsOf: Array((String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)).utf8), at: random.below(bytes.count + 1))
        case 6:  // a YAML alias bomb
            var bomb = "\nbomb0: &b0 [x, x, x, x, x, x, x, x, x]\n"
            for level in 1...(1 + random.below(9)) {
                bomb += "bomb\(level): &b\(level) [" + Array(repeating: "*b\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
            }
            bytes.insert(contentsOf: Array(bomb.utf8), at: random.below(bytes.count + 1))
        case 7:  // a byte-order mark, or bytes that are not UTF-8
            bytes.insert(contentsOf: random.below(2) == 0 ? [0xEF, 0xBB, 0xBF] : [0xC3, 0x28, 0xFF], at: random.below(2) == 0 ? 0 : random.below(bytes.count + 1))
        case 8 where !bytes.isEmpty:  // duplicate a run (repeated keys, repeated steps)
            let start = random.below(bytes.count)
            let piece = bytes[start..<min(bytes.count, start + 1 + random.below(200))]
            bytes.insert(contentsOf: piece, at: random.below(bytes.count + 1))
        case 9:  // a self-reference or a sub-flow path outside the folder
            let text = random.pick(["{$step: a}", "{$step: nope, path: $.x[99999999999]}", "flow: /etc/passwd", "flow: ../../../../etc/shadow", "{$input: $..a..b}", "{$variable: x, default: {$step: a}}"])
            bytes.insert(contentsOf: Array(text.utf8), at: random.below(bytes.count + 1))
        default:  // truncate
            if !bytes.isEmpty { bytes.removeLast(random.below(bytes.count)) }
        }
    }
    return bytes
}

extension Array where Element == Int {
    func randomElement(using random: inout Generator) -> Int? { isEmpty ? nil : self[random.below(count)] }
}

// MARK: Arguments

var seconds = 60.0
var seedValue: UInt64 = 1
var lastInputPath = "fuzz-last-input"
var corpusPaths: [String] = []
/// With `--write DIR N`: write N mutated inputs into DIR instead of running them (for a corpus to
/// run through the `nodal` command, as scripts/fuzz-cli does).
var writeFolder: String?
var writeCount = 0
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--seconds": seconds = Double(arguments.popFirst() ?? "") ?? seconds
    case "--seed": seedValue = UInt64(arguments.popFirst() ?? "") ?? seedValue
    case "--last-input": lastInputPath = arguments.popFirst() ?? lastInputPath
    case "--write":
        writeFolder = arguments.popFirst()
        writeCount = Int(arguments.popFirst() ?? "") ?? 100
    default: corpusPaths.append(argument)
    }
}

var seeds: [[UInt8]] = []
for path in corpusPaths {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
    let files = isDirectory.boolValue
        ? (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []).map { path + "/" + $0 }
        : [path]
    for file in files where [".yaml", ".yml", ".json"].contains(where: file.hasSuffix) {
        if let data = FileManager.default.contents(atPath: file) { seeds.append(Array(data)) }
    }
}
guard !seeds.isEmpty else {
    FileHandle.standardError.write(Data("nodal-fuzz: no seed files (.yaml, .yml, .json) in \(corpusPaths)\n".utf8))
    exit(64)
}

// MARK: The loop

if let writeFolder {
    var random = Generator(state: seedValue)
    try FileManager.default.createDirectory(atPath: writeFolder, withIntermediateDirectories: true)
    for index in 0..<writeCount {
        let input = mutate(random.pick(seeds), others: seeds, &random)
        _ = FileManager.default.createFile(atPath: "\(writeFolder)/input-\(index).yaml", contents: Data(input))
    }
    print("nodal-fuzz: wrote \(writeCount) inputs into \(writeFolder) (seed \(seedValue))")
    exit(0)
}

let engine = FuzzInput.makeEngine()
let lastInput = FileManager.default.createFile(atPath: lastInputPath, contents: nil) ? FileHandle(forWritingAtPath: lastInputPath) : nil
var random = Generator(state: seedValue)
let deadline = Date().addingTimeInterval(seconds)
var executions = 0, parsedFlows = 0, validFlows = 0
while Date() < deadline {
    let input = mutate(random.pick(seeds), others: seeds, &random)
    if let lastInput {
        try? lastInput.truncate(atOffset: 0)
        lastInput.write(Data(input))
        try? lastInput.synchronize()
    }
    let outcome = await FuzzInput.feed(input, to: engine)
    parsedFlows += outcome.parsedFlows
    validFlows += outcome.validFlows
    executions += 1
}
print("nodal-fuzz: \(executions) inputs, \(parsedFlows) parsed as flows, \(validFlows) valid and run, no crash (seed \(seedValue), \(seeds.count) seed files)")
