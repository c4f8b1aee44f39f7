import RemoteSupportCore

/// A FramebufferUpdateRequest not yet answered.
struct UpdateRequest: Equatable, Sendable {
    var incremental: Bool
    var rect: Rect

    /// One request that answers both (RFB lets a server combine requests): incremental only if both
    /// are, covering both rectangles.
    func merged(with other: UpdateRequest?) -> UpdateRequest {
        guard let other else { return self }
        if rect.isEmpty { return UpdateRequest(incremental: incremental && other.incremental, rect: other.rect) }
        if other.rect.isEmpty { return UpdateRequest(incremental: incremental && other.incremental, rect: rect) }
        let x0 = min(rect.x, other.rect.x), y0 = min(rect.y, other.rect.y)
        let x1 = max(rect.maxX, other.rect.maxX), y1 = max(rect.maxY, other.rect.maxY)
        return UpdateRequest(incremental: incremental && other.incremental, rect: Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0))
    }
}

/// One encoding job: answer `request` with frame `frameIndex`.
struct UpdateJob: Equatable, Sendable {
    var request: UpdateRequest
    var frameIndex: Int
}

/// Which frame a client sees and when an update is encoded: the serving policy of one connection,
/// with no IO (the channel handler carries out the jobs it returns).
///
/// - At most one job is in flight, so updates leave in request order and the connection's encoder
///   (and its zlib stream) is used by one thread at a time.
/// - Requests that arrive while a job runs are merged and answered by the next job.
/// - An incremental request whose update comes out empty is held (not answered): frames change only
///   between requests here, so it is answered when a later request brings something to send.
/// - With `step`, a job that starts after an update with pixels was sent moves to the next frame
///   (staying on the last one); without it every update shows frame 0.
struct ClientSession {
    let step: Bool
    let frameCount: Int
    private(set) var frameIndex = 0
    /// Updates with at least one rectangle sent, and that count when the frame last moved.
    private(set) var pixelUpdatesSent = 0
    private var pixelUpdatesAtLastStep = 0
    /// The request the next job will answer (a held one, or ones that arrived during a job).
    private(set) var outstanding: UpdateRequest?
    private var inFlight: UpdateRequest?
    private var arrivedDuringJob = false

    init(step: Bool, frameCount: Int) {
        precondition(frameCount >= 1)
        self.step = step
        self.frameCount = frameCount
    }

    var isEncoding: Bool { inFlight != nil }

    /// A FramebufferUpdateRequest arrived; returns the job to run now, if any.
    mutating func requestReceived(_ request: UpdateRequest) -> UpdateJob? {
        outstanding = request.merged(with: outstanding)
        if inFlight != nil {
            arrivedDuringJob = true
            return nil
        }
        return startJob()
    }

    enum Outcome {
        /// The update was sent, with this many rectangles.
        case sent(rectangles: Int)
        /// The update was incremental and empty: nothing was sent, the request is held.
        case nothingChanged
    }

    /// The job in flight is done; returns the next job to run, if any.
    mutating func jobFinished(_ outcome: Outcome) -> UpdateJob? {
        guard let request = inFlight else { preconditionFailure("no job in flight") }
        inFlight = nil
        switch outcome {
        case .sent(let rectangles):
            if rectangles > 0 { pixelUpdatesSent += 1 }
        case .nothingChanged:
            outstanding = request.merged(with: outstanding)
        }
        return arrivedDuringJob ? startJob() : nil
    }

    private mutating func startJob() -> UpdateJob? {
        guard let request = outstanding else { return nil }
        if step && pixelUpdatesSent > pixelUpdatesAtLastStep {
            pixelUpdatesAtLastStep = pixelUpdatesSent
            frameIndex = min(frameIndex + 1, frameCount - 1)
        }
        outstanding = nil
        inFlight = request
        arrivedDuringJob = false
        return UpdateJob(request: request, frameIndex: frameIndex)
    }
}
