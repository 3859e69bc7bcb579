import Foundation
import NodalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `nodal run` shows on a terminal (a pseudo-terminal from util-linux `script`): the progress
/// line never swallows another line, batches show progress, and Ctrl-C shows what was done.
@Suite struct TerminalCLITests {
    /// Runs `command` on a pseudo-terminal; returns its status and everything the terminal got.
    func onATerminal(_ command: String) throws -> (status: Int32, output: String) {
        let result = try runProcess("/usr/bin/script", ["-qec", command, "/dev/null"])
        return (result.status, result.stdout)
    }

    /// The lines a person sees: each line as left after carriage returns and clears (`\r\e[K`)
    /// rewrote it.
    func visibleLines(_ output: String) -> [String] {
        output.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let shown = line.components(separatedBy: "\r").last ?? ""
            return shown.replacingOccurrences(of: "\u{1B}[K", with: "")
        }
    }

    func folder(with files: [String: String]) throws -> String {
        try temporaryDirectory(containing: files)
    }

    @Test func aPluginsLogLineIsNeverInsideTheProgressLine() throws {
        let directory = try folder(with: ["log.yaml": "steps: [{id: say, component: /std/log, input: {message: hello there}}]\noutput: {$step: say}\n"])
        let shown = try onATerminal("\(Products.nodal) run \(directory)/log.yaml --store inMemory")
        #expect(shown.status == 0, "\(shown.output)")
        let lines = visibleLines(shown.output)
        // The progress line was up when the plugin logged (it is drawn before the run starts).
        #expect(shown.output.contains("[0/1] running:"))
        #expect(lines.contains("info: step 'say' (org.nodal.std.log): hello there"), "\(lines)")
        #expect(!lines.contains { $0.contains("running:") && $0.contains("hello there") }, "\(lines)")
    }

    @Test func aBatchShowsItemsDoneOverTotalOnATerminalOnly() throws {
        let directory = try folder(with: [
            "inc.yaml": "steps: [{id: inc, component: /std/increment, input: {value: {$input: value}}}]\noutput: {$step: inc, path: value}\n",
            "items.jsonl": "{\"value\": 1}\n\n{\"value\": 2}\nnot json\n",
        ])
        let command = "\(Products.nodal) run \(directory)/inc.yaml --inputs-file \(directory)/items.jsonl"
        let shown = try onATerminal(command)
        #expect(shown.status == 1, "\(shown.output)")
        // Three items (the blank line is none): the line starts at 0 and ends at the total.
        #expect(shown.output.contains("[0/3] items done: 0 succeeded, 0 failed"), "\(shown.output)")
        #expect(shown.output.contains("[3/3] items done: 2 succeeded, 1 failed"), "\(shown.output)")
        // Result lines on the same terminal are whole lines, never inside the progress line.
        let results = visibleLines(shown.output).filter { $0.contains("\"index\":") }
        #expect(results.count == 3)
        #expect(results.allSatisfy { $0.hasPrefix("{\"index\":") }, "\(results)")

        let hidden = try onATerminal(command + " --no-progress")
        #expect(!hidden.output.contains("items done"))
        let piped = try runProcess(Products.nodal, ["run", directory + "/inc.yaml", "--inputs-file", directory + "/items.jsonl"])
        #expect(!piped.stderr.contains("items done"))
        // From standard input the total is not known beforehand.
        let fromInput = try onATerminal("printf '{\"value\": 1}\\n' | \(Products.nodal) run \(directory)/inc.yaml --inputs-file -")
        #expect(fromInput.output.contains("[1/?] items done: 1 succeeded, 0 failed"), "\(fromInput.output)")
    }

    @Test func ctrlCInTextModePrintsThePartialResult() throws {
        let directory = try temporaryDirectory()
        let marker = directory + "/started.txt"
        let flow = directory + "/flow.yaml"
        try """
            steps:
              - { id: quick, component: /std/append_line, input: { path: "\(marker)", line: started } }
              - { id: slow, component: /std/sleep, input: { ms: 60000, value: { $step: quick } } }
            output: [{ $step: quick }, { $step: slow }]
            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let (status, stdout, stderr) = try interruptOnceFileExists(
            marker, running: Products.nodal, ["run", flow, "--store", directory + "/runs.db", "--run-id", "stopped"])
        #expect(status == 130, "\(stderr)")
        #expect(stdout.isEmpty)
        #expect(stderr.contains("partial result: 1 of 2 steps finished before the run stopped"), "\(stderr)")
        #expect(stderr.contains(#"  step 'quick': success in "#) && stderr.contains(#" ms: {"appended":"#), "\(stderr)")
        // Interrupted while running, or (on a loaded machine) just before it started.
        #expect(stderr.contains("  step 'slow': canceled") || stderr.contains("  step 'slow': notRun"), "\(stderr)")
        #expect(stderr.contains("nodal resume stopped"))
    }
}
