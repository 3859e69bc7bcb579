// Per-keyword pass counts of the official JSON Schema Test Suite, measured rather than listed: every
// test of every file is run (skipped cases too, to show how far they get), and one line per file
// (keyword) is printed:
//
//   swift test --filter JSONSchemaSuiteCountTests 2>&1 | grep 'suite:'
//
// `JSONSchemaTestSuiteTests` keeps the table of what must pass; this test checks that what passes
// is exactly that: every test outside the skipped cases.

import NodalJSON
import Testing

@Suite struct JSONSchemaSuiteCountTests {
    struct Count {
        var passed = 0
        var total = 0
        /// Of the tests in skipped cases: how many give the suite's answer anyway, out of how many.
        var skippedPassed = 0
        var skipped = 0
    }

    func padded(_ text: String) -> String { text + String(repeating: " ", count: max(0, 28 - text.count)) }

    @Test func passCountsPerKeyword() throws {
        var counts: [(file: String, count: Count)] = []
        for file in Suite.files {
            var count = Count()
            for suiteCase in try Suite.load(file) {
                let skipped = Suite.isSkipped(suiteCase)
                let schema = try? JSONSchema(suiteCase.schema)
                for test in suiteCase.tests {
                    let passed = schema.map { $0.validate(test.data).isEmpty == test.valid } ?? false
                    count.total += 1
                    if skipped {
                        count.skipped += 1
                        if passed { count.skippedPassed += 1 }
                    } else if passed {
                        count.passed += 1
                    }
                }
            }
            counts.append((file, count))
        }
        var all = Count()
        for (file, count) in counts {
            let keyword = String(file.dropLast(5))
            var line = "suite: \(padded(keyword)) \(count.passed)/\(count.total)"
            if count.skipped > 0 { line += "  (\(count.skipped) in skipped cases, \(count.skippedPassed) of them pass)" }
            print(line)
            all.passed += count.passed
            all.total += count.total
            all.skipped += count.skipped
            all.skippedPassed += count.skippedPassed
            // Everything outside the skipped cases passes.
            #expect(count.passed == count.total - count.skipped, "\(file): \(count.passed) of \(count.total - count.skipped) pass")
        }
        print("suite: \(padded("all")) \(all.passed)/\(all.total)  (\(all.skipped) in skipped cases, \(all.skippedPassed) of them pass)")
        #expect(all.total >= 868)
    }
}
