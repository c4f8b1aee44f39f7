import Foundation
import Testing

/// A throw-away aiosmtpd server on 127.0.0.1 for one test, run by a Python that can `import aiosmtpd`
/// (Debian's python3-aiosmtpd, for /usr/bin/python3). The script is written to the server's temp folder; it
/// writes its port to a ready file when listening, one JSON line per accepted message to an output file,
/// and exits when its stdin closes (so a crashed test leaves no server behind) or after 60 s.
///
/// `stop()` (call it in a `defer`) ends the process and removes the folder.
final class TestSMTPServer: @unchecked Sendable {
    struct Options {
        /// Offer STARTTLS and require it before MAIL (needs the test certificate).
        var startTLS = false
        /// TLS from the first byte (SMTPS).
        var implicitTLS = false
        /// Require AUTH with this user and password (advertised only over TLS unless `authPlaintext`).
        var auth: (user: String, password: String)?
        var authPlaintext = false
        /// Recipients answered with 550.
        var refuse: [String] = []
        /// What the certificate for STARTTLS or implicit TLS names.
        var certificateNames = TestCertificate.Names.localhostAndAddress
    }

    /// One accepted message, as the server and Python's `email` package saw it.
    struct Delivery: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        /// The message after the server undid dot-stuffing.
        var raw: String
        var header_names: [String]
        /// [display name, address] pairs, RFC 2047 decoded by Python.
        var from: [[String]]
        var to: [[String]]
        var reply_to: [[String]]
        var subject: String
        var content_type: String
        /// The body, quoted-printable and charset decoded by Python.
        var body: String
        var defects: [String]
        var tls: Bool
        var authenticated: Bool
    }

    let port: Int
    /// The server's certificate, with STARTTLS or implicit TLS.
    private(set) var certificate: TestCertificate?
    private let process: Process
    private let stdin: Pipe
    private let folder: URL
    private let output: URL

    init(_ options: Options = Options()) throws {
        let python = try PythonWithAiosmtpd.path()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let scriptURL = folder.appendingPathComponent("server.py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
        output = folder.appendingPathComponent("deliveries.jsonl")
        let ready = folder.appendingPathComponent("ready")
        let errors = folder.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        var arguments = ["-W", "ignore", scriptURL.path, "--out", output.path, "--ready-file", ready.path]
        certificate = nil
        if options.startTLS || options.implicitTLS {
            let certificate = try TestCertificate(names: options.certificateNames, in: folder)
            self.certificate = certificate
            arguments += ["--cert", certificate.certificatePath, "--key", certificate.keyPath]
        }
        if options.startTLS { arguments.append("--starttls") }
        if options.implicitTLS { arguments.append("--implicit-tls") }
        if let auth = options.auth { arguments += ["--auth", "\(auth.user):\(auth.password)"] }
        if options.authPlaintext { arguments.append("--auth-plaintext") }
        for address in options.refuse { arguments += ["--refuse", address] }

        process = Process()
        process.executableURL = URL(fileURLWithPath: python.executable)
        process.arguments = python.arguments + arguments
        stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()

        // Bounded wait for the port (Python with aiosmtpd starts in well under a second).
        let deadline = Date().addingTimeInterval(10)
        var port: Int?
        while port == nil && Date() < deadline && process.isRunning {
            if let text = try? String(contentsOf: ready, encoding: .utf8) { port = Int(text) }
            if port == nil { Thread.sleep(forTimeInterval: 0.02) }
        }
        guard let port else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
            throw TestSetupError("the aiosmtpd test server did not start within 10 s: \(stderr)")
        }
        self.port = port
    }

    /// The messages accepted so far.
    func deliveries() throws -> [Delivery] {
        guard let data = FileManager.default.contents(atPath: output.path) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Delivery.self, from: Data($0.utf8))
        }
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }

    static let script = #"""
        # A throw-away SMTP server for RemoteSupportMailTests (aiosmtpd on 127.0.0.1, port chosen by the OS).
        # Writes the port to --ready-file when listening; appends one JSON line per accepted message to --out.
        # Exits when stdin closes (the test process went away) or after --lifetime seconds, whichever is first.
        import argparse, asyncio, email, email.policy, json, os, ssl, sys
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        p = argparse.ArgumentParser()
        p.add_argument("--out", required=True)
        p.add_argument("--ready-file", required=True)
        p.add_argument("--cert")
        p.add_argument("--key")
        p.add_argument("--starttls", action="store_true", help="offer STARTTLS and require it")
        p.add_argument("--implicit-tls", action="store_true")
        p.add_argument("--auth", help="USER:PASSWORD; AUTH required (over TLS unless --auth-plaintext)")
        p.add_argument("--auth-plaintext", action="store_true")
        p.add_argument("--refuse", action="append", default=[], help="answer RCPT TO for this address with 550")
        p.add_argument("--lifetime", type=float, default=60)
        args = p.parse_args()

        def addresses(header):
            if header is None:
                return []
            return [[a.display_name, a.addr_spec] for a in header.addresses]

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in args.refuse:
                    return "550 5.1.1 <%s>: Recipient address rejected" % address
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                raw = envelope.original_content or envelope.content
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                record = {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "raw": raw.decode("utf-8", "replace"),
                    "header_names": [k for k in msg.keys()],
                    "from": addresses(msg["from"]),
                    "to": addresses(msg["to"]),
                    "reply_to": addresses(msg["reply-to"]),
                    "subject": str(msg["subject"]),
                    "content_type": msg.get_content_type(),
                    "body": msg.get_content(),
                    "defects": [str(d) for d in msg.defects],
                    "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                    "authenticated": bool(session.authenticated),
                }
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                return "250 2.0.0 OK queued"

        def authenticator(server, session, envelope, mechanism, auth_data):
            user, password = args.auth.split(":", 1)
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            # handled=False: aiosmtpd then answers a failure with 535 itself.
            return AuthResult(success=ok, handled=False)

        async def main():
            loop = asyncio.get_running_loop()
            context = None
            if args.cert:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(args.cert, args.key)
            options = dict(hostname="test.invalid", ident="RemoteSupportMailTests")
            if args.starttls:
                options.update(tls_context=context, require_starttls=True)
            if args.auth:
                options.update(authenticator=authenticator, auth_required=True, auth_require_tls=not args.auth_plaintext)
            server = await loop.create_server(
                lambda: SMTP(Handler(), **options), host="127.0.0.1", port=0,
                ssl=context if args.implicit_tls else None)
            port = server.sockets[0].getsockname()[1]
            with open(args.ready_file + ".tmp", "w") as f:
                f.write(str(port))
            os.rename(args.ready_file + ".tmp", args.ready_file)
            print(port, flush=True)
            done = loop.create_future()
            loop.add_reader(sys.stdin.fileno(), lambda: done.done() or (not os.read(sys.stdin.fileno(), 4096) and done.set_result(None)))
            try:
                await asyncio.wait_for(done, args.lifetime)
            except asyncio.TimeoutError:
                pass
            server.close()

        asyncio.run(main())
        """#
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Finds a Python that can `import aiosmtpd`: /usr/bin/python3 (Debian's python3-aiosmtpd installs there),
/// then `python3` on PATH. None is a test failure, not a skip: CI always installs it.
enum PythonWithAiosmtpd {
    struct Found: Sendable {
        var executable: String
        var arguments: [String]
    }

    private static let found: Found? = {
        let candidates = [
            Found(executable: "/usr/bin/python3", arguments: []),
            Found(executable: "/usr/bin/env", arguments: ["python3"]),
        ]
        return candidates.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate.executable) else { return false }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate.executable)
            process.arguments = candidate.arguments + ["-c", "import aiosmtpd"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
    }()

    static func path() throws -> Found {
        guard let found else {
            throw TestSetupError(
                "no Python can import aiosmtpd (tried /usr/bin/python3 and python3 on PATH): "
                    + "apt-get install python3-aiosmtpd")
        }
        return found
    }
}
