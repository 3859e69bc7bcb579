import ArgumentParser

@main
struct NodalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodal",
        abstract: "Run workflows whose nodes are plugins.",
        discussion: """
            Exit codes:
              0   success
              1   the run (or a test case) failed
              64  usage error
              65  invalid flow or configuration
              69  a plugin could not be loaded
              70  a plugin ended the process with exit() during a run (the step is named)
              73  another process runs this run now (it holds the run's lease)
              74  the run store could not be opened or read
              75  the run paused for outside input (answer it with `nodal resume RUN_ID --value KEY=JSON`)
              130 the run was canceled (Ctrl-C)
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ResumeCommand.self, RunsCommand.self, CacheCommand.self, TestCommand.self, ValidateCommand.self, PluginsCommand.self])
}
