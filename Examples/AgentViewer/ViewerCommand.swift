import ArgumentParser

/// rs-viewer: the agent's side (being written; see issue 7).
@main
struct ViewerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rs-viewer",
                                                    abstract: "Log in as an agent, pick a waiting session and view and control its screen.")
    func run() async throws {}
}
