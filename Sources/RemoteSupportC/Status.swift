import CRemoteSupport
import RemoteSupportCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a C API call failed: the status it returns (an `RS_ERR_*` code) and the message it leaves in the
/// handle's error slot or in `rs_last_error()`.
struct CallError: Error {
    var status: Int32
    var message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A codec error keeps its code: `RS_ERR_x == -code` for codes 1...99 (the header's range for them).
    init(_ error: CodecError) {
        let code = error.code.rawValue
        self.init((1...99).contains(code) ? -code : RS_ERR_UNKNOWN, error.description)
    }

    /// A domain error keeps its code: `RS_ERR_x == -(code + 136)` for codes 64...127 (-200 ... -263).
    init(_ error: DomainError) {
        let code = error.code.rawValue
        self.init((64...127).contains(code) ? -(code + 136) : RS_ERR_UNKNOWN, error.description)
    }

    static func null(_ what: String) -> CallError { CallError(RS_ERR_NULL_POINTER, "\(what) is NULL") }
    static func invalid(_ message: String) -> CallError { CallError(RS_ERR_INVALID_ARGUMENT, message) }
}

/// Runs `body` with its `CodecError` turned into a `CallError`.
func codec<R>(_ body: () throws(CodecError) -> R) throws(CallError) -> R {
    do {
        return try body()
    } catch {
        throw CallError(error)
    }
}

/// Runs `body` with its `DomainError` turned into a `CallError`.
func domain<R>(_ body: () throws(DomainError) -> R) throws(CallError) -> R {
    do {
        return try body()
    } catch {
        throw CallError(error)
    }
}

/// A C string allocated once and never freed: for the static strings the API hands out.
struct StaticCString: @unchecked Sendable {
    let pointer: UnsafePointer<CChar>
    init(_ string: String) { pointer = UnsafePointer(strdup(string)!) }
}

private let emptyCString = StaticCString("")

// MARK: - Per-handle messages

/// The last error message of one handle, as a C string it owns: "" after a call that succeeded.
/// The pointer `cString` returns stays valid until the next `set`/`clear` or the slot's deinit.
final class ErrorSlot {
    private var text: UnsafeMutablePointer<CChar>?

    deinit { free(text) }

    var cString: UnsafePointer<CChar> { text.map { UnsafePointer($0) } ?? emptyCString.pointer }

    func set(_ message: String) {
        free(text)
        text = strdup(message)
    }

    func clear() {
        free(text)
        text = nil
    }

    /// Runs one API call on the handle that owns this slot: clears the message on success, keeps it and
    /// returns its status on failure.
    func run(_ body: () throws(CallError) -> Void) -> Int32 {
        do {
            try body()
            clear()
            return RS_OK
        } catch {
            set(error.message)
            return error.status
        }
    }
}

// MARK: - Thread-local messages (calls without a handle)

// Made once with pthread_once rather than a lazy Swift global: the thread sanitizer sees pthread_once's
// ordering, not swift_once's (the Swift runtime is not instrumented), and reported a race that was not one.
nonisolated(unsafe) private var lastErrorKeyOnce = pthread_once_t()
nonisolated(unsafe) private var lastErrorKeyStorage = pthread_key_t()
nonisolated(unsafe) private var lastErrorKeyCreated = false

/// The key of the thread-local last-error string (a `strdup` copy, freed at the thread's exit), or nil
/// if the process ran out of pthread keys: then `rs_last_error()` says so instead.
private var lastErrorKey: pthread_key_t? {
    pthread_once(&lastErrorKeyOnce) {
        lastErrorKeyCreated = pthread_key_create(&lastErrorKeyStorage) { value in free(value) } == 0
    }
    return lastErrorKeyCreated ? lastErrorKeyStorage : nil
}

private let noKeyCString = StaticCString("(no thread-local storage for error messages: out of pthread keys)")

private func setLastError(_ message: String?) {
    guard let key = lastErrorKey else { return }
    free(pthread_getspecific(key))
    pthread_setspecific(key, message.map { UnsafeRawPointer(strdup($0)) })
}

/// Runs an API call that has no handle (or was given a NULL one): its message goes to `rs_last_error()`.
func runWithoutHandle(_ body: () throws(CallError) -> Void) -> Int32 {
    do {
        try body()
        setLastError(nil)
        return RS_OK
    } catch {
        setLastError(error.message)
        return error.status
    }
}

/// Reports a NULL handle through `rs_last_error()`.
func nullHandle(_ what: String) -> Int32 {
    runWithoutHandle { () throws(CallError) in throw CallError.null(what) }
}

@c(rs_last_error)
public func rs_last_error() -> UnsafePointer<CChar>? {
    guard let key = lastErrorKey else { return noKeyCString.pointer }
    guard let text = pthread_getspecific(key) else { return emptyCString.pointer }
    return UnsafePointer(text.assumingMemoryBound(to: CChar.self))
}

// MARK: - Status names

private let statusNames: [Int32: StaticCString] = {
    let names: [(Int32, String)] = [
        (RS_OK, "RS_OK"),
        (RS_ERR_TRUNCATED, "RS_ERR_TRUNCATED"),
        (RS_ERR_RECT_OUT_OF_BOUNDS, "RS_ERR_RECT_OUT_OF_BOUNDS"),
        (RS_ERR_INVALID_SUBENCODING, "RS_ERR_INVALID_SUBENCODING"),
        (RS_ERR_PALETTE_INDEX, "RS_ERR_PALETTE_INDEX"),
        (RS_ERR_RUN_PAST_TILE_END, "RS_ERR_RUN_PAST_TILE_END"),
        (RS_ERR_CORRUPT_DATA, "RS_ERR_CORRUPT_DATA"),
        (RS_ERR_SIZE_MISMATCH, "RS_ERR_SIZE_MISMATCH"),
        (RS_ERR_LIMIT_EXCEEDED, "RS_ERR_LIMIT_EXCEEDED"),
        (RS_ERR_UNSUPPORTED_ENCODING, "RS_ERR_UNSUPPORTED_ENCODING"),
        (RS_ERR_UNSUPPORTED_FORMAT, "RS_ERR_UNSUPPORTED_FORMAT"),
        (RS_ERR_MALFORMED, "RS_ERR_MALFORMED"),
        (RS_ERR_INVALID_IMAGE, "RS_ERR_INVALID_IMAGE"),
        (RS_ERR_INVALID_ARGUMENT, "RS_ERR_INVALID_ARGUMENT"),
        (RS_ERR_NULL_POINTER, "RS_ERR_NULL_POINTER"),
        (RS_ERR_BUFFER_TOO_SMALL, "RS_ERR_BUFFER_TOO_SMALL"),
        (RS_ERR_MESSAGE_PENDING, "RS_ERR_MESSAGE_PENDING"),
        (RS_ERR_STATE, "RS_ERR_STATE"),
        (RS_NO_EVENT, "RS_NO_EVENT"),
        (RS_NO_DEADLINE, "RS_NO_DEADLINE"),
        (RS_ERR_INVALID_FIELD, "RS_ERR_INVALID_FIELD"),
        (RS_ERR_INVALID_CREDENTIALS, "RS_ERR_INVALID_CREDENTIALS"),
        (RS_ERR_PASSWORD_CHANGE_REQUIRED, "RS_ERR_PASSWORD_CHANGE_REQUIRED"),
        (RS_ERR_WEAK_PASSWORD, "RS_ERR_WEAK_PASSWORD"),
        (RS_ERR_RATE_LIMITED, "RS_ERR_RATE_LIMITED"),
        (RS_ERR_NOT_FOUND, "RS_ERR_NOT_FOUND"),
        (RS_ERR_BAD_SIGNATURE, "RS_ERR_BAD_SIGNATURE"),
        (RS_ERR_MALFORMED_LINK, "RS_ERR_MALFORMED_LINK"),
        (RS_ERR_FORBIDDEN, "RS_ERR_FORBIDDEN"),
        (RS_ERR_INVALID_TRANSITION, "RS_ERR_INVALID_TRANSITION"),
        (RS_ERR_CONFLICT, "RS_ERR_CONFLICT"),
        (RS_ERR_SESSION_EXPIRED, "RS_ERR_SESSION_EXPIRED"),
        (RS_ERR_EXHAUSTED, "RS_ERR_EXHAUSTED"),
        (RS_ERR_CORRUPT_RECORD, "RS_ERR_CORRUPT_RECORD"),
        (RS_ERR_EXPIRED, "RS_ERR_EXPIRED"),
        (RS_ERR_NOT_CONFIGURED, "RS_ERR_NOT_CONFIGURED"),
    ]
    return Dictionary(uniqueKeysWithValues: names.map { ($0.0, StaticCString($0.1)) })
}()

private let unknownStatusName = StaticCString("RS_ERR_UNKNOWN")

@c(rs_status_name)
public func rs_status_name(_ status: Int32) -> UnsafePointer<CChar>? {
    (statusNames[status] ?? unknownStatusName).pointer
}
