import Foundation
import NodalTestSupport
import Testing

/// `nodal runs list`: a header, and columns as wide as their widest value.
@Suite struct RunsListCLITests {
    @Test func theListHasAHeaderAndAlignedColumns() throws {
        let directory = try temporaryDirectory()
        let store = ["--store", directory + "/runs.db"]
        let hello = Products.repositoryRoot + "/examples/hello"
        let flows = try temporaryDirectory(containing: ["one.yaml": "name: a-flow-with-a-long-name\nsteps: []\noutput: 1\n"])
        for id in ["a", "a-much-longer-run-id"] {
            #expect(try runProcess(Products.nodal, ["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--run-id", id] + store).status == 0)
        }
        #expect(try runProcess(Products.nodal, ["run", flows + "/one.yaml", "--run-id", "b"] + store).status == 0)
        let listed = try runProcess(Products.nodal, ["runs", "list"] + store)
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let header = try #require(lines.first)
        #expect(header.hasPrefix("RUN ID  "))
        // Each column starts where its title does, on every line.
        let starts = ["STATUS", "CREATED", "FLOW"].map { header.range(of: $0)!.lowerBound.utf16Offset(in: header) }
        // The widest id sets the first column: the longest id, then two spaces.
        #expect(starts[0] == "a-much-longer-run-id".count + 2)
        for line in lines.dropFirst() {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(cells.count == 4, "\(line)")
            for (index, start) in starts.enumerated() {
                let cell = cells[index + 1]
                #expect(cell.startIndex.utf16Offset(in: line) == start, "\(line)")
            }
            #expect(!line.hasSuffix(" "))
        }
        #expect(lines.contains { $0.hasSuffix("  a-flow-with-a-long-name") })
    }
}
