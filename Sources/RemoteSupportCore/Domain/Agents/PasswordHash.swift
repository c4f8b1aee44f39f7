import Crypto
import _CryptoExtras
import Foundation

/// A slow, salted password hash with its parameters, stored as a PHC-style string so the cost can be
/// raised later without invalidating older hashes (`needsRehash` tells the host to re-hash on next login):
///
///     $scrypt$ln=17,r=8,p=1$<salt, base64>$<hash, base64>
///     $pbkdf2-sha256$i=600000$<salt, base64>$<hash, base64>
///
/// scrypt at N=2^17, r=8 needs 128 * r * N = 128 MiB while it runs: hosts bound how many run at once.
public struct PasswordHash: Hashable, Sendable, CustomStringConvertible {
    public let parameters: PasswordHashParameters
    let salt: [UInt8]
    let digest: [UInt8]

    /// Hashes `password` with a fresh 16-byte salt. Slow on purpose (about 0.1-0.5 s at the defaults).
    public init(hashing password: String, parameters: PasswordHashParameters = .default,
                using generator: inout some RandomNumberGenerator) throws(DomainError) {
        var salt = [UInt8](repeating: 0, count: 16)
        for index in salt.indices { salt[index] = generator.next() }
        self.parameters = parameters
        self.salt = salt
        self.digest = try parameters.derive(password: password, salt: salt)
    }

    /// Reads a stored hash; `.corruptRecord` for anything this build would not have written (unknown
    /// scheme, out-of-range costs that could make verification take minutes or gigabytes).
    public init(stored text: String) throws(DomainError) {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard text.utf8.count <= 512, fields.count == 5, fields[0].isEmpty,
              let salt = Base64.decode(fields[3]), let digest = Base64.decode(fields[4]),
              (8...64).contains(salt.count), (16...64).contains(digest.count) else {
            throw DomainError(.corruptRecord, "unreadable password hash")
        }
        self.parameters = try PasswordHashParameters(scheme: String(fields[1]), settings: String(fields[2]))
        self.salt = salt
        self.digest = digest
    }

    /// The string to store.
    public var stored: String {
        "$\(parameters.scheme)$\(parameters.settings)$\(Base64.encode(salt))$\(Base64.encode(digest))"
    }

    /// Whether `password` is the one hashed, compared in constant time.
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? parameters.derive(password: password, salt: salt) else { return false }
        return constantTimeEqual(candidate, digest)
    }

    /// Whether the stored parameters are weaker than `current`, so the host re-hashes after a good login.
    public func needsRehash(for current: PasswordHashParameters) -> Bool { parameters != current }

    /// Never prints the hash itself.
    public var description: String { "PasswordHash(\(parameters.scheme) \(parameters.settings))" }
}

/// The algorithm and its costs.
public enum PasswordHashParameters: Hashable, Sendable {
    /// scrypt with N = 2^logN, block size r, parallelism p.
    case scrypt(logN: Int, r: Int, p: Int)
    /// PBKDF2-HMAC-SHA256 with this many iterations.
    case pbkdf2SHA256(iterations: Int)

    /// scrypt N=2^17 r=8 p=1 (OWASP's recommendation): 128 MiB and a few tenths of a second per hash.
    public static let `default` = PasswordHashParameters.scrypt(logN: 17, r: 8, p: 1)
    /// For tests only: fast, and far too weak for real passwords.
    public static let testing = PasswordHashParameters.scrypt(logN: 10, r: 8, p: 1)

    /// Memory one hash needs while it runs, in bytes.
    public var memoryBytes: Int {
        switch self {
        case .scrypt(let logN, let r, let p): 128 * r * (1 << logN) + 128 * r * p
        case .pbkdf2SHA256: 4096
        }
    }

    var scheme: String {
        switch self {
        case .scrypt: "scrypt"
        case .pbkdf2SHA256: "pbkdf2-sha256"
        }
    }

    var settings: String {
        switch self {
        case .scrypt(let logN, let r, let p): "ln=\(logN),r=\(r),p=\(p)"
        case .pbkdf2SHA256(let iterations): "i=\(iterations)"
        }
    }

    init(scheme: String, settings: String) throws(DomainError) {
        var values: [Substring: Int] = [:]
        for pair in settings.split(separator: ",") {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            guard keyValue.count == 2, let number = Int(keyValue[1]), number > 0 else {
                throw DomainError(.corruptRecord, "unreadable password hash parameters")
            }
            values[keyValue[0]] = number
        }
        switch scheme {
        case "scrypt":
            guard let logN = values["ln"], let r = values["r"], let p = values["p"], values.count == 3,
                  (10...20).contains(logN), (1...32).contains(r), (1...16).contains(p) else {
                throw DomainError(.corruptRecord, "scrypt parameters out of range")
            }
            self = .scrypt(logN: logN, r: r, p: p)
        case "pbkdf2-sha256":
            guard let iterations = values["i"], values.count == 1, (1_000...20_000_000).contains(iterations) else {
                throw DomainError(.corruptRecord, "PBKDF2 parameters out of range")
            }
            self = .pbkdf2SHA256(iterations: iterations)
        default:
            throw DomainError(.corruptRecord, "unknown password hash scheme")
        }
    }

    func derive(password: String, salt: [UInt8]) throws(DomainError) -> [UInt8] {
        let passwordBytes = Array(password.utf8)
        do {
            let key: SymmetricKey
            switch self {
            case .scrypt(let logN, let r, let p):
                key = try KDF.Scrypt.deriveKey(from: passwordBytes, salt: salt, outputByteCount: 32,
                                               rounds: 1 << logN, blockSize: r, parallelism: p,
                                               maxMemory: memoryBytes + (1 << 20))
            case .pbkdf2SHA256(let iterations):
                key = try KDF.Insecure.PBKDF2.deriveKey(from: passwordBytes, salt: salt, using: .sha256,
                                                        outputByteCount: 32, unsafeUncheckedRounds: iterations)
            }
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw DomainError(.invalidField, "password hash failed: \(error)")
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
