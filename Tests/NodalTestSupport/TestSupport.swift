import Foundation
import Nodal

/// Where `swift build` put the products the tests load (plugins, the CLI): the folder of the
/// running test binary.
public enum Products {
    public static let directory: String = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    public static let repositoryRoot: String = {
        // Tests/NodalTestSupport/TestSupport.swift -> repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// A plugin built by this package, e.g. `plugin("nodal_std")`. The test script builds all
    /// products before testing; a missing file is a setup error that fails the test loudly.
    public static func plugin(_ product: String) -> String {
        let path = directory + "/lib\(product).so"
        precondition(FileManager.default.fileExists(atPath: path), "\(path) is missing: run `swift build` before `swift test` (scripts/test does)")
        return path
    }

    /// The `nodal` executable built by this package. Runs it starts are recorded in a store of
    /// the test process's own (NODAL_STORE), never in the user's default store.
    public static var nodal: String {
        _ = isolatedStore
        let path = directory + "/nodal"
        precondition(FileManager.default.fileExists(atPath: path), "\(path) is missing: run `swift build` before `swift test` (scripts/test does)")
        return path
    }

    /// A run store file for this test process, exported as NODAL_STORE to every child.
    public static let isolatedStore: String = {
        let path = NSTemporaryDirectory() + "nodal-test-store-\(getpid())-\(UUID().uuidString).db"
        setenv("NODAL_STORE", path, 1)
        return path
    }()

    /// The Stepflow conformance flows, in ../shared beside the repository.
    public static var conformance: String {
        URL(fileURLWithPath: repositoryRoot + "/../shared/conformance/stepflow/tests").standardizedFileURL.path
    }

    public static var header: String { repositoryRoot + "/include" }
}

/// Runs a program and returns its exit status and output.
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

public struct SetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh temporary folder for one test.
public func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "nodal-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fresh temporary folder holding `files` (name to text), e.g. a flow and its sub-flows.
public func temporaryDirectory(containing files: [String: String]) throws -> String {
    let directory = try temporaryDirectory()
    for (name, text) in files {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }
    return directory
}

/// Compiles C source into a shared library against include/nodal.h; returns its path.
/// `flags` go to the compiler after the usual ones (e.g. `-pthread`).
public func buildCPlugin(_ source: String, name: String, in directory: String, flags: [String] = []) throws -> String {
    let sourcePath = directory + "/\(name).c"
    let output = directory + "/lib\(name).so"
    try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
    let result = try runProcess("/usr/bin/env", ["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-shared", "-fPIC", "-I", Products.header] + flags + [sourcePath, "-o", output])
    guard result.status == 0 else { throw SetupError("cc failed: \(result.stderr)") }
    return output
}

/// Starts `executable` with `arguments`, sends it SIGINT (Ctrl-C) once the file `marker` exists
/// (a step of the flow wrote it, so the run is known to be under way) or the process ended, and
/// returns its exit status and what it printed. For the tests of what an interrupted run says.
public func interruptOnceFileExists(_ marker: String, running executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    while !FileManager.default.fileExists(atPath: marker) && process.isRunning { usleep(10_000) }
    kill(process.processIdentifier, SIGINT)
    // Both pipes are read to their end before waiting, so a full pipe cannot stall the child.
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, stdout, stderr)
}
