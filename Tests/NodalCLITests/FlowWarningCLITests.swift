import Foundation
import NodalTestSupport
import Testing

/// `nodal run` and `validate` print unknown keys as warnings and go on; `--strict` refuses them.
@Suite struct FlowWarningCLITests {
    @Test func unknownKeysWarnThenRunAndStrictRefuses() throws {
        let folder = try temporaryDirectory(containing: ["typo.yaml": "steps: []\noutput: 1\nauthr: me\n"])
        let flow = folder + "/typo.yaml"
        let run = try runProcess(Products.nodal, ["run", flow, "--store", "inMemory"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "1\n")
        #expect(run.stderr.contains("warning: \(flow):3: field 'authr': unknown flow key, ignored (known: $schema"))

        let validate = try runProcess(Products.nodal, ["validate", flow])
        #expect(validate.status == 0)
        #expect(validate.stderr.contains("warning: \(flow):3: field 'authr'"))

        for command in ["run", "validate"] {
            let strict = try runProcess(Products.nodal, [command, "--strict", flow])
            #expect(strict.status == 65, "\(command): \(strict.stderr)")
            #expect(strict.stderr.contains("error: \(flow), field 'authr': unknown flow key (known: "))
        }
    }
}
