import Foundation
import NodalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `nodal submit` and `nodal runs get|watch|cancel|resume` before any server answers: what they
/// refuse, and how an unreachable server ends them. (ServeEndToEndTests runs them against one.)
@Suite struct RemoteCLITests {
    /// A loopback port that is bound but never listened on: a connection to it is refused, and
    /// no other process can take it while the socket is open.
    final class RefusingPort {
        let descriptor: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
                }
            }
            guard fd >= 0, bound else {
                close(fd)
                throw SetupError("could not bind a loopback socket")
            }
            descriptor = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(descriptor) }

        var url: String { "http://127.0.0.1:\(port)" }
    }

    static let hello = Products.repositoryRoot + "/examples/hello/flow.yaml"

    @Test func anUnreachableServerIsExitCode69AndNamesTheURL() throws {
        let server = try RefusingPort()
        for arguments in [
            ["submit", Self.hello, "--server", server.url],
            ["runs", "get", "r1", "--server", server.url],
            ["runs", "cancel", "r1", "--server", server.url],
            ["runs", "watch", "r1", "--server", server.url],
            ["runs", "resume", "r1", "--server", server.url, "--value", "true"],
        ] {
            let result = try runProcess(Products.nodal, arguments)
            #expect(result.status == 69, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("127.0.0.1:\(server.port)/api/v1/"), "\(result.stderr)")
        }
    }

    @Test(arguments: [
        (["submit", hello], "--server URL"),
        (["submit", hello, "--server", "127.0.0.1:7837"], "http:// or https://"),
        (["submit", hello, "--server", "http://h", "--timeout", "5"], "--timeout is for --wait"),
        (["submit", hello, "--server", "http://h", "--input", "{}", "--inputs-file", "x"], "not both"),
        (["submit", hello, "--server", "http://h", "--var", "limit"], "NAME=JSON"),
        (["runs", "watch", "r1"], "--server URL"),
        (["runs", "cancel", "r1"], "--server URL"),
        (["runs", "resume", "r1", "--value", "1"], "nodal resume ID"),
        (["runs", "resume", "r1", "--server", "http://h"], "--value JSON, or --set KEY=JSON"),
        (["runs", "resume", "r1", "--server", "http://h", "--value", "1", "--set", "k=1"], "not both"),
        (["runs", "get", "r1", "--wait"], "--server URL"),
        (["runs", "get", "r1", "--server", "http://h", "--timeout", "1"], "are for --wait"),
        (["runs", "get", "r1", "--server", "http://h", "--wait", "--interval", "0"], "positive number of seconds"),
    ])
    func usageMistakesAreExitCode64AndSaySo(arguments: [String], message: String) throws {
        let result = try runProcess(Products.nodal, arguments)
        #expect(result.status == 64, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func inputsThatAreNotJSONAreExitCode65NamingWhere() throws {
        let folder = try temporaryDirectory(containing: ["items.jsonl": "{\"a\": 1}\n\n{oops\n", "sub.yaml": "steps: []\noutput: 1\n",
            "parent.yaml": "steps:\n  - { id: inner, flow: sub.yaml, input: {} }\noutput: { $step: inner }\n"])
        let server = try RefusingPort()
        let lines = try runProcess(Products.nodal, ["submit", Self.hello, "--server", server.url, "--inputs-file", folder + "/items.jsonl"])
        #expect(lines.status == 65)
        #expect(lines.stderr.contains("line 3 is not valid JSON"), "\(lines.stderr)")
        let input = try runProcess(Products.nodal, ["submit", Self.hello, "--server", server.url, "--input", "{}", "--input", "{x"])
        #expect(input.status == 65)
        #expect(input.stderr.contains("--input #2 is not valid JSON"), "\(input.stderr)")
        let subflow = try runProcess(Products.nodal, ["submit", folder + "/parent.yaml", "--server", server.url])
        #expect(subflow.status == 65)
        #expect(subflow.stderr.contains("step 'inner' runs the sub-flow file 'sub.yaml'"), "\(subflow.stderr)")
        let value = try runProcess(Products.nodal, ["runs", "resume", "r1", "--server", server.url, "--value", "review.decision=true"])
        #expect(value.status == 65)
        #expect(value.stderr.contains("--set KEY=JSON"), "\(value.stderr)")
    }

    @Test func missingFilesAreExitCode66() throws {
        let folder = try temporaryDirectory()
        let server = try RefusingPort()
        for arguments in [
            ["submit", folder + "/nope.yaml", "--server", server.url],
            ["submit", Self.hello, "--server", server.url, "--inputs-file", folder + "/nope.jsonl"],
            ["submit", Self.hello, "--server", server.url, "--token-file", folder + "/nope.token"],
            // Without --server, `runs get` reads the local store, as `runs show` does.
            ["runs", "get", "nobody", "--store", folder + "/runs.db"],
        ] {
            let result = try runProcess(Products.nodal, arguments)
            #expect(result.status == 66, "\(arguments): \(result.stderr)")
        }
    }

    @Test func runsGetWithoutAServerShowsTheLocalRun() throws {
        let folder = try temporaryDirectory()
        let hello = Products.repositoryRoot + "/examples/hello"
        let store = ["--store", folder + "/runs.db"]
        #expect(try runProcess(Products.nodal, ["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--run-id", "local"] + store).status == 0)
        let shown = try runProcess(Products.nodal, ["runs", "show", "local"] + store)
        let got = try runProcess(Products.nodal, ["runs", "get", "local"] + store)
        #expect(got.status == 0, "\(got.stderr)")
        #expect(got.stdout == shown.stdout)
        #expect(got.stdout.contains("\"runId\" : \"local\"") || got.stdout.contains("\"runId\": \"local\""), "\(got.stdout)")
    }
}
