import Foundation
import Nodal
import NodalTestSupport
import Testing

/// Blobs across processes: ids depend on the content as written (Stepflow's rule), and a SQLite store keeps them.
@Suite struct BlobCLITests {
    @Test func blobIdsAreStableAcrossProcessesAndTheStoreKeepsThem() throws {
        let directory = try temporaryDirectory()
        let put = directory + "/put.yaml", get = directory + "/get.yaml"
        try """
            steps: [{ id: put, component: /builtin/put_blob, input: { data: { $input: $ } } }]
            output: { $step: put, path: blob_id }
            """.write(toFile: put, atomically: true, encoding: .utf8)
        try """
            steps: [{ id: get, component: /builtin/get_blob, input: { blob_id: { $input: id } } }]
            output: { $step: get, path: data }
            """.write(toFile: get, atomically: true, encoding: .utf8)
        let first = try runProcess(Products.nodal, ["run", put, "--input", #"{"a": 1, "b": [true, null]}"#, "--store", directory + "/one.db"])
        let second = try runProcess(Products.nodal, ["run", put, "--input", #"{"b": [true, null], "a": 1}"#, "--store", directory + "/two.db"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(second.status == 0, "\(second.stderr)")
        let id = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        #expect(id == ContentHash.sha256Hex(#"{"a":1,"b":[true,null]}"#))
        // Stepflow's ids hash the keys in the order they were written: another order, another id.
        let secondID = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        #expect(secondID == ContentHash.sha256Hex(#"{"b":[true,null],"a":1}"#))
        let again = try runProcess(Products.nodal, ["run", put, "--input", #"{"a": 1, "b": [true, null]}"#, "--store", directory + "/two.db"])
        #expect(again.stdout == first.stdout)

        // A later process reads the blob from the first one's store; a store without it does not have it.
        let fetched = try runProcess(Products.nodal, ["run", get, "--input", #"{"id": "\#(id)"}"#, "--store", directory + "/one.db", "--format", "json"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(fetched.stdout.utf8)) as? [String: Any])
        #expect(result["output"] as? NSDictionary == ["a": 1, "b": [true, NSNull()]])
        let elsewhere = try runProcess(Products.nodal, ["run", get, "--input", #"{"id": "\#(id)"}"#, "--store", directory + "/three.db"])
        #expect(elsewhere.status == 1)
        #expect(elsewhere.stderr.contains("BLOB_NOT_FOUND") || elsewhere.stdout.contains("BLOB_NOT_FOUND"), "\(elsewhere.stdout)\(elsewhere.stderr)")
    }
}
