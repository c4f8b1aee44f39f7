// libFuzzer target: the PPM / gzipped PPM parser.


public func fuzzPPM(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let fb = try? PPMImage.decode(bytes) {
        precondition(fb.width >= 1 && fb.height >= 1 && fb.bytes.count == fb.width * fb.height * 4)
    }
    return 0
}
