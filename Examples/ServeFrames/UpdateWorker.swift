import RemoteSupportCore
import RemoteSupportDispatch

/// What an encoding job produced.
struct UpdateResult: Sendable {
    var message: [UInt8]
    var rectangleCount: Int
    var statistics: UpdateStatistics
    var encodeMilliseconds: Double
}

/// One connection's encoder, run off the event loop.
///
/// `@unchecked Sendable`: the encoder is not thread-safe, and it is only ever used by one job at a
/// time, because `ClientSession` starts a connection's next job only after the previous one finished
/// (the thread pool's completion hands the result back through the event loop, which orders them).
final class UpdateWorker: @unchecked Sendable {
    private let encoder: UpdateEncoder
    private let frames: FrameStore

    init(frames: FrameStore, options: EncoderOptions) throws {
        self.frames = frames
        encoder = try UpdateEncoder(width: frames.width, height: frames.height, sourceFormat: FrameStore.format,
                                    clientFormat: FrameStore.format, options: options, parallel: dispatchParallelFor)
    }

    /// Encodes `job` for a client that now wants `format` and `encodings` (applied first, in order
    /// with the updates: a new format makes the update a full one).
    func run(_ job: UpdateJob, format: PixelFormat, encodings: [Encoding]) throws -> UpdateResult {
        let start = ContinuousClock.now
        if encoder.clientFormat != format { try encoder.setClientFormat(format) }
        if encoder.encodings != encodings { encoder.setEncodings(encodings) }
        let update = try frames.frames[job.frameIndex].withView {
            try encoder.encode($0, region: job.request.rect, incremental: job.request.incremental)
        }
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return UpdateResult(message: update.message, rectangleCount: update.rectangleCount,
                            statistics: update.statistics, encodeMilliseconds: ms)
    }
}

/// A loop body that `ParallelFor` promises may run on several threads at once.
