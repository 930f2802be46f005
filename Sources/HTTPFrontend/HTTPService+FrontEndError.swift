import NIOCore

extension HTTPService {
    /// A response the front end produces itself (400, 413, 431, 500, 503), in the service's error
    /// shape, with its `content-length`.
    func frontEndError(status: Int, message: String) -> (head: HTTPResponseHead, body: ByteBuffer) {
        let error = errorResponse(status: status, message: message)
        let head = HTTPResponseHead(status: status, headers: [
            ("content-type", error.contentType), ("content-length", String(error.body.readableBytes)),
        ])
        return (head, error.body)
    }
}
