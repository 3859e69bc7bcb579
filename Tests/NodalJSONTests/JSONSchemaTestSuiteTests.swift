// The official JSON Schema Test Suite (draft 2020-12) for the keywords JSONSchema supports:
// every test of every case in JSONSchemaTestSuite/ runs and must give the suite's `valid` answer,
// except the cases in `Suite.skipped` (each with its reason). The files are copied unchanged from
// the suite's tests/draft2020-12 (https://github.com/json-schema-org/JSON-Schema-Test-Suite, MIT
// licensed: JSONSchemaTestSuite/LICENSE). Not copied, as their keywords are not supported: dynamicRef,
// refRemote, unevaluatedItems, unevaluatedProperties, vocabulary (remote meta-schemas), format,
// content (annotations only).
//
// Tests that pass per file (passed/total). `tableMatchesTheSuite` checks this table against the
// files and the skip list, so it cannot go stale.
//
//   file                           passed/total
//   additionalProperties.json       21/21
//   allOf.json                      30/30
//   anchor.json                      8/8
//   anyOf.json                      18/18
//   boolean_schema.json             18/18
//   const.json                      54/54
//   contains.json                   21/21
//   default.json                     7/7
//   defs.json                        0/2   (2 skipped)
//   dependentRequired.json          20/20
//   dependentSchemas.json           20/20
//   enum.json                       51/51
//   exclusiveMaximum.json            4/4
//   exclusiveMinimum.json            4/4
//   if-then-else.json               30/30
//   infinite-loop-detection.json     2/2
//   items.json                      29/29
//   maxContains.json                14/14
//   maxItems.json                    6/6
//   maxLength.json                   7/7
//   maxProperties.json              10/10
//   maximum.json                     8/8
//   minContains.json                28/28
//   minItems.json                    6/6
//   minLength.json                   7/7
//   minProperties.json              10/10
//   minimum.json                    11/11
//   multipleOf.json                 11/11
//   not.json                        38/40   (2 skipped)
//   oneOf.json                      27/27
//   pattern.json                    12/12
//   patternProperties.json          25/25
//   prefixItems.json                11/11
//   properties.json                 28/28
//   propertyNames.json              22/22
//   ref.json                        76/79   (3 skipped)
//   required.json                   18/18
//   type.json                       80/80
//   uniqueItems.json                69/69
//   all                            861/868   (7 skipped)

import Foundation
import NodalJSON
import Testing

/// One case of the suite: a schema and the instances it is tested with.
struct SuiteCase: CustomTestStringConvertible, Sendable {
    var file: String
    var description: String
    var schema: JSON
    var tests: [(description: String, data: JSON, valid: Bool)]

    var testDescription: String { "\(file): \(description)" }
}

enum Suite {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("JSONSchemaTestSuite")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    static func load(_ file: String) throws -> [SuiteCase] {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        let document = try JSON(parsing: [UInt8](data))
        guard case .array(let groups) = document else { throw SuiteError(file: file, reason: "not an array") }
        return try groups.map { group in
            guard let description = group["description"]?.stringValue, let schema = group["schema"],
                let tests = group["tests"]?.arrayValue
            else { throw SuiteError(file: file, reason: "a case without description, schema or tests") }
            return SuiteCase(
                file: file, description: description, schema: schema,
                tests: try tests.map { test in
                    guard let name = test["description"]?.stringValue, let data = test["data"],
                        let valid = test["valid"]?.boolValue
                    else { throw SuiteError(file: file, reason: "a test without description, data or valid") }
                    return (name, data, valid)
                })
        }
    }

    /// Every case of every file; a file that cannot be read fails `tableMatchesTheSuite`.
    static let cases: [SuiteCase] = files.flatMap { (try? load($0)) ?? [] }

    /// Cases left out, each with the reason. Every other case must pass.
    static let skipped: [(file: String, description: String, reason: String)] = [
        // Both need the draft 2020-12 meta-schema, a remote document (https://json-schema.org/...):
        // references that leave the schema document are refused when compiling.
        ("defs.json", "validate definition against metaschema", "remote ref (the meta-schema)"),
        ("ref.json", "remote ref, containing refs itself", "remote ref (the meta-schema)"),
        // Both test unevaluatedProperties, which is not supported (and ignored).
        ("not.json", "collect annotations inside a 'not', even if collection is disabled", "unevaluatedProperties"),
        ("ref.json", "ref creates new scope when adjacent to keywords", "unevaluatedProperties"),
    ]

    static func isSkipped(_ suiteCase: SuiteCase) -> Bool {
        skipped.contains { $0.file == suiteCase.file && $0.description == suiteCase.description }
    }
}

struct SuiteError: Error {
    var file: String
    var reason: String
}

@Suite struct JSONSchemaTestSuiteTests {
    @Test func tableMatchesTheSuite() throws {
        // The table at the top of this file, as (file, passed, total).
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        var table: [String: (passed: Int, total: Int)] = [:]
        for line in source.split(separator: "\n") where line.hasPrefix("//   ") {
            let fields = line.dropFirst(5).split(separator: " ")
            guard fields.count >= 2, fields[0].hasSuffix(".json") else { continue }
            let counts = fields[1].split(separator: "/").compactMap { Int($0) }
            try #require(counts.count == 2, "unreadable table line: \(line)")
            table[String(fields[0])] = (counts[0], counts[1])
        }
        #expect(table.count == Suite.files.count)
        #expect(Suite.files.count >= 39)
        for file in Suite.files {
            let cases = try Suite.load(file)
            let total = cases.reduce(0) { $0 + $1.tests.count }
            let run = cases.filter { !Suite.isSkipped($0) }.reduce(0) { $0 + $1.tests.count }
            let row = try #require(table[file], "\(file) is missing from the table")
            #expect(
                row.passed == run && row.total == total, "\(file): the table says \(row), the suite has \(run)/\(total)"
            )
        }
        // Every skipped case exists, so the list names real cases and nothing else.
        for skip in Suite.skipped {
            #expect(
                Suite.cases.contains { $0.file == skip.file && $0.description == skip.description },
                "skipped case not in the suite: \(skip.file): \(skip.description)")
        }
    }

    @Test(arguments: Suite.cases.filter { !Suite.isSkipped($0) })
    func suiteCase(_ suiteCase: SuiteCase) throws {
        let schema = try JSONSchema(suiteCase.schema)
        for test in suiteCase.tests {
            let violations = schema.validate(test.data)
            #expect(
                violations.isEmpty == test.valid,
                "\(test.description): expected \(test.valid ? "valid" : "invalid"), got \(violations)")
            #expect(schema.isValid(test.data) == test.valid, "\(test.description): isValid says \(!test.valid)")
        }
    }
}
