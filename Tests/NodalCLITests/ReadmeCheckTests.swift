import Foundation
import NodalTestSupport
import Testing

/// `scripts/readme-check`, the runner of README's command blocks, on small READMEs of its own:
/// it must fail where a command does, honour the exit codes comments give, compare console
/// output, write marked files, and say what it skipped. (README itself runs through it in
/// `scripts/test`, after `swift test`: its blocks build, and `swift test` holds the build folder.)
@Suite struct ReadmeCheckTests {
    func check(_ readme: String, _ arguments: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let path = try temporaryDirectory() + "/README.md"
        try readme.write(toFile: path, atomically: true, encoding: .utf8)
        return try runProcess("/usr/bin/env", ["python3", Products.repositoryRoot + "/scripts/readme-check", "--readme", path] + arguments)
    }

    @Test func commandsRunInOrderInAFreshCopyWithAnEmptyHome() throws {
        let result = try check("""
            # Title

            ```sh
            test -f Package.swift && test -x .build/debug/nodal   # the copy, with the build
            test ! -e "$HOME/.local" && test -z "${NODAL_STORE:-}"
            echo made > note.txt
            export GREETING=hi
            ```

            ```bash
            test "$(cat note.txt)" = made && test "$GREETING" = hi
            false   # exits 1
            sh -c 'exit 3'
            # (exit code 3)
            ```
            """)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("2 blocks (7 commands) ran as written"), "\(result.stdout)")
        // The repository itself is untouched.
        #expect(!FileManager.default.fileExists(atPath: Products.repositoryRoot + "/note.txt"))
    }

    @Test func aFailingCommandFailsNamingItsLine() throws {
        let result = try check("""
            Intro.

            ```sh
            true
            ls /no/such/folder
            true
            ```
            """)
        #expect(result.status == 1)
        #expect(result.stderr.contains("README.md:5 (): failed:\n  ls /no/such/folder"), "\(result.stderr)")
    }

    @Test func aCommandThatSucceedsWhereTheReadmeSaysItFailsIsAFailure() throws {
        let result = try check("```sh\ntrue   # exits 65\n```\n")
        #expect(result.status == 1)
        #expect(result.stdout.contains("exit status 0, expected 65"), "\(result.stdout)")
    }

    @Test func consoleOutputMustMatchInOrder() throws {
        let good = try check("""
            ```console
            $ printf 'one\\ntwo words here\\nthree\\n'
            one
            two ... here
            $ sh -c 'echo done; exit 4'     # exits 4
            done
            ```
            """)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let bad = try check("""
            ```console
            $ printf 'one\\ntwo\\n'
            two
            one
            ```
            """)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("printed no line matching 'one'"), "\(bad.stdout)")
    }

    @Test func markedBlocksAreSkippedWithTheirReasonOrWrittenToFiles() throws {
        let result = try check("""
            <!-- readme-check: skip (needs a GPU) -->
            ```sh
            exit 1
            ```

            <!-- readme-check: file data/hello.txt -->
            ```text
            hello
            ```

            ```sh
            grep -qx hello data/hello.txt
            ```
            """)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("1 skipped"))
        #expect(result.stdout.contains("README.md:2 (): needs a GPU"), "\(result.stdout)")
    }

    @Test func anUntaggedCommandBlockOrASkipWithoutAReasonIsRefused() throws {
        let untagged = try check("```\n.build/debug/nodal --version\n```\n")
        #expect(untagged.status != 0)
        #expect(untagged.stderr.contains("untagged block that starts like a command"))
        let noReason = try check("<!-- readme-check: skip -->\n```sh\ntrue\n```\n")
        #expect(noReason.status != 0)
        #expect(noReason.stderr.contains("a skip marker needs a reason"))
    }

    /// README's own blocks: each is run, or marked with why not.
    @Test func everyShellBlockOfTheReadmeIsRunOrSaysWhyNot() throws {
        let listed = try runProcess("/usr/bin/env", ["python3", Products.repositoryRoot + "/scripts/readme-check", "--list"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains("  run ") }.count >= 20)
        // Skips stay rare: the test command itself, the fuzzer, binding every interface, and the
        // 15-minute load test of two servers (scripts/bench-serve).
        #expect(lines.filter { $0.contains("  skip ") }.count <= 4, "\(listed.stdout)")
    }
}
