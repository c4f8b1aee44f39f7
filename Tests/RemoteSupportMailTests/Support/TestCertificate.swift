import Foundation

/// A self-signed certificate made with the openssl CLI in a test server's folder (removed with it): the
/// server presents it, and clients trust it as their only root.
struct TestCertificate: Sendable {
    enum Names: Sendable {
        /// `localhost` and 127.0.0.1: verifies when connecting to 127.0.0.1 with or without a server name.
        case localhostAndAddress
        /// `localhost` only: connecting to 127.0.0.1 verifies only with the server name "localhost".
        case localhostOnly
    }

    var certificatePath: String
    var keyPath: String

    init(names: Names, in folder: URL) throws {
        certificatePath = folder.appendingPathComponent("cert.pem").path
        keyPath = folder.appendingPathComponent("key.pem").path
        let subjectAltName =
            switch names {
            case .localhostAndAddress: "DNS:localhost,IP:127.0.0.1"
            case .localhostOnly: "DNS:localhost"
            }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=\(subjectAltName)", "-keyout", keyPath, "-out", certificatePath,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError("openssl req failed with status \(process.terminationStatus)")
        }
    }
}
