import Foundation
import NodalTestSupport
import Testing

/// include/nodal.h keeps the promise at its top: a plugin including it builds as C99 and C++11
/// (and later) without warnings under -Wall -Wextra -pedantic.
@Suite struct ABIHeaderTests {
    static let source = """
        #include "nodal.h"

        static nodal_status invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                   const char *input, size_t input_len) {
            (void)node;
            if (host->abi_minor >= 1 && host->log(call, NODAL_LOG_DEBUG, "called") != NODAL_OK) return NODAL_ERROR;
            return host->write_output(call, input, input_len);
        }

        int nodal_header_check(void);
        int nodal_header_check(void) {
            nodal_node node = { sizeof(nodal_node), 0, "org.test.header.echo", "echo", "1.0.0", NULL, 0,
                                NULL, NULL, NULL, NULL, invoke };
            return (int)node.struct_size;
        }
        """

    @Test(arguments: [("cc", "c99", "c"), ("cc", "c11", "c"), ("c++", "c++11", "cpp"), ("c++", "c++17", "cpp")])
    func theHeaderBuildsWithoutWarnings(compiler: String, standard: String, suffix: String) throws {
        let directory = try temporaryDirectory()
        let file = directory + "/check.\(suffix)"
        try Self.source.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runProcess("/usr/bin/env", [
            compiler, "-std=\(standard)", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I", Products.header,
            "-c", file, "-o", directory + "/check.o",
        ])
        #expect(result.status == 0, "\(compiler) -std=\(standard): \(result.stderr)")
    }
}
