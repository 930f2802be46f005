import NIOCore

/// A request body being received, held to ``HTTPLimits/maxBodyBytes`` on both protocols: a
/// `content-length` announcing more, or chunks adding up to more, make it ``Verdict/tooLarge``.
struct RequestBody {
    enum Verdict: Equatable {
        case ok
        case tooLarge(String)
    }

    let limit: Int
    private(set) var bytes = ByteBuffer()

    init(limit: Int) {
        self.limit = limit
    }

    /// Checks a `content-length` header before any body arrives.
    func announce(contentLength: String?) -> Verdict {
        guard let contentLength, let length = Int(contentLength), length > limit else { return .ok }
        return .tooLarge(Self.message(length, limit))
    }

    mutating func append(_ chunk: ByteBuffer) -> Verdict {
        var chunk = chunk
        return append(chunk.readableBytes) { $0.writeBuffer(&chunk) }
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) -> Verdict {
        append(chunk.count) { $0.writeBytes(chunk) }
    }

    private mutating func append(_ count: Int, _ write: (inout ByteBuffer) -> Void) -> Verdict {
        guard bytes.readableBytes + count <= limit else {
            return .tooLarge(Self.message(bytes.readableBytes + count, limit))
        }
        write(&bytes)
        return .ok
    }

    private static func message(_ size: Int, _ limit: Int) -> String {
        "the request body has \(size) bytes or more; this server accepts at most \(limit)"
    }
}
