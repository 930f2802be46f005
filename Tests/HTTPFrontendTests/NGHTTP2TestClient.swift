import CNGHTTP2
import NIOCore
@testable import HTTPFrontend

/// An HTTP/2 client session of libnghttp2, so the tests speak the real protocol (framing, HPACK, flow
/// control) to the server. Bytes move by hand: ``output()`` to the server, ``receive(_:)`` from it.
final class NGHTTP2TestClient {
    struct Response {
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        /// The stream's close code once closed (0 = NO_ERROR).
        var closeCode: UInt32?

        var status: Int? { headers.first { $0.name == ":status" }.flatMap { Int($0.value) } }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    }

    private(set) var responses: [Int32: Response] = [:]
    /// The error code of a GOAWAY from the server, and its last stream id.
    private(set) var goAway: (errorCode: UInt32, lastStream: Int32)?
    private var session: OpaquePointer?
    private var requestBodies: [Int32: [UInt8]] = [:]

    /// `settings` are sent in the client's first SETTINGS frame; without `autoWindowUpdate` the test
    /// acknowledges received DATA itself (``consume(_:bytes:)``).
    init(settings: [(id: nghttp2_settings_id, value: UInt32)] = [], autoWindowUpdate: Bool = true) throws {
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks)
        var options: OpaquePointer?
        nghttp2_option_new(&options)
        defer { nghttp2_option_del(options) }
        nghttp2_option_set_no_auto_window_update(options, autoWindowUpdate ? 0 : 1)
        guard nghttp2_session_client_new2(&session, callbacks, Unmanaged.passUnretained(self).toOpaque(), options) == 0 else {
            throw TestFailure("nghttp2_session_client_new2 failed")
        }
        var entries = settings.map { nghttp2_settings_entry(settings_id: Int32($0.id.rawValue), value: $0.value) }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Queues a request; returns its stream id.
    @discardableResult
    func request(_ method: String = "GET", _ path: String, headers: [(name: String, value: String)] = [],
                 body: String? = nil, holdOpen: Bool = false) throws -> Int32 {
        let fields = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "test.local")] + headers
        var provider = nghttp2_data_provider()
        // `holdOpen`: a body that never comes (the request stays unfinished).
        provider.read_callback = holdOpen ? { _, _, _, _, _, _, _ in Int(NGHTTP2_ERR_DEFERRED.rawValue) } : Self.readRequestBody
        let stream = withNameValuePairs(fields) { pairs, count in
            body == nil && !holdOpen ? nghttp2_submit_request(session, nil, pairs, count, nil, nil)
                : nghttp2_submit_request(session, nil, pairs, count, &provider, nil)
        }
        guard stream > 0 else { throw TestFailure("nghttp2_submit_request failed: \(stream)") }
        if let body { requestBodies[stream] = Array(body.utf8) }
        responses[stream] = Response()
        return stream
    }

    /// The client's SETTINGS as an `HTTP2-Settings` payload (for an h2c upgrade request).
    func settingsPayload(_ settings: [(id: nghttp2_settings_id, value: UInt32)] = []) -> [UInt8] {
        var entries = settings.map { nghttp2_settings_entry(settings_id: Int32($0.id.rawValue), value: $0.value) }
        var payload = [UInt8](repeating: 0, count: 6 * entries.count)
        let count = nghttp2_pack_settings_payload(&payload, payload.count, &entries, entries.count)
        return Array(payload.prefix(max(0, count)))
    }

    /// After the server's 101: the upgrade request becomes stream 1, its response still to come.
    func upgrade(settingsPayload: [UInt8]) throws {
        let result = nghttp2_session_upgrade2(session, settingsPayload, settingsPayload.count, 0, nil)
        guard result == 0 else { throw TestFailure("client nghttp2_session_upgrade2: \(result)") }
        responses[1] = Response()
    }

    func reset(_ stream: Int32, errorCode: UInt32 = NGHTTP2_CANCEL.rawValue) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, errorCode)
    }

    /// Acknowledges `bytes` of received DATA on `stream` (sends WINDOW_UPDATE when due).
    func consume(_ stream: Int32, bytes: Int) {
        nghttp2_session_consume(session, stream, bytes)
    }

    /// Everything the client session has to send.
    func output() -> ByteBuffer {
        var buffer = ByteBuffer()
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            guard count > 0, let data else { break }
            buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: count))
        }
        return buffer
    }

    func receive(_ bytes: ByteBuffer) throws {
        let result = bytes.withUnsafeReadableBytes { raw in
            nghttp2_session_mem_recv(session, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
        }
        if result < 0 { throw TestFailure("client nghttp2_session_mem_recv: \(result)") }
    }

    func remoteSetting(_ id: nghttp2_settings_id) -> UInt32 {
        nghttp2_session_get_remote_settings(session, id)
    }

    /// How much the server lets the client send on the connection now.
    var remoteConnectionWindow: Int32 { nghttp2_session_get_remote_window_size(session) }

    /// Request body bytes not sent yet.
    func unsentBody(_ stream: Int32) -> Int { requestBodies[stream]?.count ?? 0 }

    func response(_ stream: Int32) -> Response { responses[stream] ?? Response() }
    func isClosed(_ stream: Int32) -> Bool { responses[stream]?.closeCode != nil }

    private static func from(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2TestClient {
        Unmanaged<NGHTTP2TestClient>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static let readRequestBody: nghttp2_data_source_read_callback = { _, stream, buffer, length, flags, _, userData in
        let client = NGHTTP2TestClient.from(userData)
        let body = client.requestBodies[stream] ?? []
        let count = min(length, body.count)
        body.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: buffer, count: count).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        client.requestBodies[stream] = Array(body.dropFirst(count))
        if count == body.count { flags?.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
        return count
    }

    private static func install(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            let stream = frame!.pointee.hd.stream_id
            NGHTTP2TestClient.from(userData).responses[stream, default: Response()].headers.append(
                (String(decoding: UnsafeRawBufferPointer(start: name, count: nameLength), as: UTF8.self),
                 String(decoding: UnsafeRawBufferPointer(start: value, count: valueLength), as: UTF8.self)))
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, userData in
            NGHTTP2TestClient.from(userData).responses[stream, default: Response()].body += UnsafeRawBufferPointer(start: data, count: length)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, errorCode, userData in
            NGHTTP2TestClient.from(userData).responses[stream, default: Response()].closeCode = errorCode
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            if let frame, frame.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) {
                NGHTTP2TestClient.from(userData).goAway = (frame.pointee.goaway.error_code, frame.pointee.goaway.last_stream_id)
            }
            return 0
        }
    }
}
