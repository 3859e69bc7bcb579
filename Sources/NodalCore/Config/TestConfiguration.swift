import NodalJSON
internal import Yams

/// The configuration `nodal test` runs a flow's cases with, found as `stepflow test` finds it.
extension NodalConfig {
    /// Test configuration files looked for beside the flow before the usual ones (Stepflow's names).
    public static let testFileNames = ["stepflow-config.test.yml", "stepflow-config.test.yaml", "stepflow_config.test.yml", "stepflow_config.test.yaml"]

    /// The configuration for running the test cases of the flow at `flowPath`:
    ///
    /// 1. `named` (`--config FILE`), else the file `NODAL_CONFIG` names: that file alone, trusted.
    /// 2. Else the flow's own `test:` section: `config_file` (or `configFile`), a file relative to
    ///    the flow's folder and inside it (or inside a folder your `files: allow:` lists); or
    ///    `config` (or `stepflow_config`), a configuration written inline, whose relative paths
    ///    are relative to the flow's folder.
    /// 3. Else the first of `testFileNames` beside the flow.
    /// 4. Else what `forFlow(at:named:)` finds: a configuration beside the flow, then in the
    ///    working directory, then your own.
    ///
    /// Configurations of cases 2 to 4 were written by whoever wrote the flow (or found in the
    /// working directory): they may not grant powers (`Origin.discovered`), and the grants of your
    /// own configuration (`~/.config/nodal/nodal-config.yml`) are added to them, as for `nodal run`.
    public static func forTest(ofFlowAt flowPath: String, named: String? = nil) throws(FlowError) -> NodalConfig {
        try forTest(ofFlowAt: flowPath, named: named, environment: FileSystem.environment)
    }

    static func forTest(ofFlowAt flowPath: String, named: String?, environment: (String) -> String?) throws(FlowError) -> NodalConfig {
        if let named { return try NodalConfig(contentsOfFile: named, origin: .named) }
        if let fromEnvironment = environment("NODAL_CONFIG"), !fromEnvironment.isEmpty {
            return try NodalConfig(contentsOfFile: fromEnvironment, origin: .named)
        }
        let user = try userConfiguration(environment: environment)
        let folder = FileSystem.directoryName(flowPath)
        if let own = try flowTestConfiguration(flowPath, user: user) {
            return own.adding(grantsOf: user)
        }
        for name in testFileNames {
            let candidate = FileSystem.join(folder, name)
            guard FileSystem.isFile(candidate) else { continue }
            return try NodalConfig(contentsOfFile: candidate, origin: .discovered).adding(grantsOf: user)
        }
        return try forFlow(at: flowPath, named: nil, environment: environment)
    }

    /// The user's own configuration (`$XDG_CONFIG_HOME/nodal/nodal-config.yml`, ...), if any.
    static func userConfiguration(environment: (String) -> String?) throws(FlowError) -> NodalConfig? {
        let userFile = userFolder(environment: environment).flatMap { folder in
            userFileNames.map { FileSystem.join(folder, $0) }.first(where: FileSystem.isFile)
        }
        return try userFile.map { (path) throws(FlowError) in try NodalConfig(contentsOfFile: path, origin: .userFolder) }
    }

    /// This configuration with the grants (`ffi: allow:`, `files: allow:`) of `user` added.
    func adding(grantsOf user: NodalConfig?) -> NodalConfig {
        guard let user else { return self }
        if let file, let userFile = user.file, FileSystem.realPath(file) == FileSystem.realPath(userFile) { return user }
        var config = self
        config.ffiAllowlist += user.ffiAllowlist
        config.allowedFileFolders += user.allowedFileFolders
        return config
    }

    /// The configuration the flow's `test:` section names or holds, or nil when it has none. A
    /// flow file that cannot be read or parsed has none here: reading the flow reports why.
    private static func flowTestConfiguration(_ flowPath: String, user: NodalConfig?) throws(FlowError) -> NodalConfig? {
        guard let text = try? FileSystem.readText(flowPath),
              let root = try? YAMLConversion.compose(text, file: flowPath),
              case .mapping(let flow) = root,
              let testNode = flow["test"], case .mapping(let test) = testNode else { return nil }
        let fileKeys = ["config_file", "configFile"].filter { test[$0] != nil }
        let inlineKeys = ["config", "stepflow_config"].filter { test[$0] != nil }
        let keys = fileKeys + inlineKeys
        if keys.count > 1 {
            throw FlowError(file: flowPath, field: "test", "'test' has both \(keys.map { "'\($0)'" }.joined(separator: " and ")); keep one (a configuration file, or one written inline)")
        }
        if let key = fileKeys.first {
            return try namedTestFile(test[key]!, flowPath: flowPath, field: "test.\(key)", user: user)
        }
        if let key = inlineKeys.first {
            let node = test[key]!
            if YAMLConversion.anyJSON(node).isNull { return nil }
            guard case .mapping = node else {
                let hint = node.string.map { " To name a file, write 'config_file: \($0)'." } ?? ""
                throw FlowError(file: flowPath, field: "test.\(key)", "'\(key)' must be a configuration written inline (a mapping with 'plugins' and 'routes').\(hint)")
            }
            return try NodalConfig(root: node, file: flowPath, origin: .discovered, inlineField: "test.\(key)")
        }
        return nil
    }

    /// The file `test.config_file` names: relative to the flow's folder, and (symlinks resolved)
    /// inside that folder or one your own configuration's `files: allow:` lists, as sub-flow
    /// files are.
    private static func namedTestFile(_ node: Node, flowPath: String, field: String, user: NodalConfig?) throws(FlowError) -> NodalConfig {
        guard case .scalar = node, let name = node.string, !name.isEmpty else {
            throw FlowError(file: flowPath, field: field, "must be the path of a configuration file, relative to the flow's folder")
        }
        let folder = FileSystem.directoryName(flowPath)
        let path = FileSystem.join(folder, name)
        // Where the path leads, symlinks resolved as far as it exists: the place is checked before
        // the file is looked for, so that a flow cannot learn which files exist outside its folder
        // from which error it gets (as for sub-flow files).
        let absolute = path.hasPrefix("/") ? path : FileSystem.join(FileSystem.currentDirectory, path)
        let existing = FileSystem.realPath(absolute)
        let real = existing ?? FileSystem.resolvingExistingAncestor(FileSystem.lexicallyNormalized(absolute))
        let roots = ([folder] + (user?.allowedFileFolders ?? [])).compactMap(FileSystem.realPath)
        guard roots.contains(where: { FileSystem.isInside(real, folder: $0) }) else {
            throw FlowError(file: flowPath, field: field, """
                \(path) is outside the flow's folder; a flow may name a test configuration only inside its \
                own folder (or one your ~/.config/nodal/nodal-config.yml allows with 'files: allow:'). \
                To use it anyway, name it yourself: --config \(path)
                """)
        }
        guard existing != nil, FileSystem.isFile(real) else {
            throw FlowError(file: flowPath, field: field, "no configuration file \(path) (the path is relative to the flow's folder)")
        }
        return try NodalConfig(contentsOfFile: path, origin: .discovered)
    }
}
