import NodalJSON
/// Stepflow's `/builtin/load_file`: reads a JSON, YAML or text file into the flow.
///
/// Input: `{path, format?: "json" | "yaml" | "text"}`. Output: `{data, metadata: {resolved_path,
/// size_bytes, format}}`. A relative path resolves against the flow file's folder (the working
/// directory for a flow without a file). Without `format`, the extension decides: `.json` is JSON,
/// `.yaml`/`.yml` YAML (YAML 1.2 core schema, as flows are read), anything else UTF-8 text.
///
/// Only files inside the flow's folder (after resolving symlinks), or inside a folder listed under
/// the configuration's `files: allow:`, may be read: a flow must not be able to read
/// `../../home/me/.ssh/id_rsa`. Files over `maximumBytes` are refused.
///
/// Errors: `INVALID_INPUT`, `PATH_NOT_ALLOWED`, `FILE_NOT_FOUND`, `FILE_TOO_LARGE`,
/// `FILE_NOT_READABLE`, `INVALID_FILE` (a parse error, with the line when known).
enum BuiltinLoadFile {
    static let maximumBytes = 64 << 20
    static let formats = ["json", "yaml", "text"]

    static func run(_ input: JSON, context: NodeContext, allowedFolders: [String]) throws(StepError) -> JSON {
        guard let rawPath = input["path"] else {
            throw StepError(code: "INVALID_INPUT", message: "load_file needs 'path': the file to read, relative to the flow's folder")
        }
        guard case .string(let path) = rawPath, !path.isEmpty else {
            throw StepError(code: "INVALID_INPUT", message: "load_file: 'path' must be a non-empty string, not \(rawPath)")
        }
        let format: String
        switch input["format"] {
        case nil, .null?:
            format = defaultFormat(for: path)
        case .string(let name)? where formats.contains(name):
            format = name
        case let other?:
            throw StepError(code: "INVALID_INPUT", message: "load_file: 'format' must be one of json, yaml, text, not \(other)")
        }

        // Where the file really is, and whether the flow may read it.
        let hasFlowFile = context.flowFile != nil
        let base = context.flowFile.map(FileSystem.directoryName) ?? FileSystem.currentDirectory
        let baseReal = FileSystem.realPath(base) ?? FileSystem.lexicallyNormalized(FileSystem.join(FileSystem.currentDirectory, base))
        let joined = FileSystem.join(baseReal, path)
        let existing = FileSystem.realPath(joined)
        let resolved = existing ?? FileSystem.resolvingExistingAncestor(FileSystem.lexicallyNormalized(joined))
        let roots = [baseReal] + allowedFolders.compactMap { FileSystem.realPath($0) }
        guard roots.contains(where: { FileSystem.isInside(resolved, folder: $0) }) else {
            let home = hasFlowFile ? "the flow's folder (\(baseReal))" : "the working directory (\(baseReal)), as the flow has no file"
            let via = resolved == FileSystem.lexicallyNormalized(joined) ? "" : " (after following symlinks)"
            throw StepError(code: "PATH_NOT_ALLOWED", message: """
                load_file: '\(path)' is \(resolved)\(via), outside \(home) and the folders the configuration allows. \
                To allow it, add its folder to a configuration you trust (one you name with --config FILE, or \
                \(NodalConfig.userFolderDescription)/nodal-config.yml): files: { allow: ["\(FileSystem.directoryName(resolved))"] } \
                (allow: ["/"] allows every file)
                """)
        }
        guard existing != nil else {
            throw StepError(code: "FILE_NOT_FOUND", message: "load_file: no file '\(path)' (looked for \(resolved))")
        }
        if FileSystem.isDirectory(resolved) {
            throw StepError(code: "INVALID_INPUT", message: "load_file: '\(path)' (\(resolved)) is a folder, not a file")
        }
        guard let size = FileSystem.regularFileSize(resolved) else {
            throw StepError(code: "INVALID_INPUT", message: "load_file: '\(path)' (\(resolved)) is not a regular file")
        }
        guard size <= maximumBytes else {
            throw StepError(code: "FILE_TOO_LARGE", message: "load_file: '\(path)' (\(resolved)) is \(size) bytes; files over \(maximumBytes >> 20) MiB are refused")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(resolved)
        } catch {
            throw StepError(code: "FILE_NOT_READABLE", message: "load_file: cannot read '\(path)': \(error)")
        }
        guard bytes.count <= maximumBytes else {
            throw StepError(code: "FILE_TOO_LARGE", message: "load_file: '\(path)' (\(resolved)) grew past \(maximumBytes >> 20) MiB while being read")
        }

        let data = try parse(bytes, format: format, file: resolved)
        return [
            "data": data,
            "metadata": ["resolved_path": .string(resolved), "size_bytes": .int(bytes.count), "format": .string(format)],
        ]
    }

    static func defaultFormat(for path: String) -> String {
        let name = FileSystem.baseName(path).lowercased()
        if name.hasSuffix(".json") { return "json" }
        if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return "yaml" }
        return "text"
    }

    static func parse(_ bytes: [UInt8], format: String, file: String) throws(StepError) -> JSON {
        switch format {
        case "json":
            // A UTF-8 byte order mark is not JSON, but editors write one: skip it.
            let bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
            do {
                return try JSON(parsing: bytes)
            } catch {
                let (line, column) = position(ofByte: error.offset, in: bytes)
                throw StepError(code: "INVALID_FILE", message: "load_file: \(file) is not valid JSON (line \(line), column \(column)): \(error.reason)")
            }
        case "yaml":
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw StepError(code: "INVALID_FILE", message: "load_file: \(file) is not UTF-8 text, so not YAML")
            }
            do {
                guard let node = try YAMLConversion.compose(text, file: nil) else { return .null }
                return try YAMLConversion.json(node, file: nil)
            } catch {
                // "malformed YAML at line 3, column 1: ..." reads "... is not valid YAML at line 3, ...".
                let reason = error.description.hasPrefix("malformed YAML") ? String(error.description.dropFirst(14)) : ": " + error.description
                throw StepError(code: "INVALID_FILE", message: "load_file: \(file) is not valid YAML\(reason)")
            }
        default:
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw StepError(code: "INVALID_FILE", message: "load_file: \(file) is not UTF-8 text (give format: json or yaml for structured files)")
            }
            return .string(text)
        }
    }

    /// 1-based line and column (in bytes) of a byte offset.
    static func position(ofByte offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }
}
