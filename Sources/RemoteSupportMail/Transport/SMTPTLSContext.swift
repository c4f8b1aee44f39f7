import NIOCore
import NIOSSL

/// Our TLS settings as NIOSSL objects: the client context (TLS 1.2 or later) and the name to check the
/// certificate against.
enum SMTPTLSContext {
    /// A close_notify exchange waits at most this long, so closing a TLS session cannot hang `send`.
    static let shutdownTimeout = TimeAmount.seconds(2)

    static func make(_ settings: SMTPConfiguration.TLS) throws(MailError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.shutdownTimeout = shutdownTimeout
        switch settings.trustRoots {
        case .system:
            tls.trustRoots = .default
        case .pemFile(let path):
            // Loaded here rather than by path, so a missing or bad file is a clear error before connecting.
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(path)
                guard !certificates.isEmpty else { throw MailError(.invalidConfiguration, "no certificate in \(path)") }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw MailError(.invalidConfiguration, "cannot read CA file \(path): \(MailError.capped("\(error)"))")
            }
        }
        switch settings.verification {
        case .full: tls.certificateVerification = .fullVerification
        case .insecureNoVerification: tls.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw MailError(.tlsFailed, "cannot set up TLS: \(MailError.capped("\(error)"))")
        }
    }

    /// The SNI and verification name: nil for an IP address (NIOSSL then checks the certificate's IP
    /// addresses against the peer's).
    static func serverHostname(host: String, settings: SMTPConfiguration.TLS) -> String? {
        let name = settings.serverName ?? host
        return (try? SocketAddress(ipAddress: name, port: 0)) == nil ? name : nil
    }
}
