import CNGHTTP2
import NIOCore

/// What an ``NGHTTP2Session`` reports while it reads input (`nghttp2_session_mem_recv`) and produces
/// output (`nghttp2_session_mem_send`). Called on the connection's event loop, from inside those calls.
protocol NGHTTP2SessionDelegate: AnyObject {
    /// A client opened `stream` with a HEADERS frame.
    func streamOpened(_ stream: Int32)
    /// One header field of the request on `stream` (pseudo-headers included), bytes valid for the call.
    func headerReceived(_ stream: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    /// The request's header block is complete; `endStream` when it has no body.
    func requestHeadersComplete(_ stream: Int32, endStream: Bool)
    /// Request body bytes, valid for the call.
    func dataReceived(_ stream: Int32, _ bytes: UnsafeRawBufferPointer)
    /// The request ended after its body (or trailers).
    func requestEnded(_ stream: Int32)
    /// The client sent RST_STREAM for `stream`.
    func resetReceived(_ stream: Int32)
    /// A frame ending the response on `stream` (END_STREAM) went out.
    func responseEndSent(_ stream: Int32)
    /// `stream` is closed; `errorCode` is `NGHTTP2_NO_ERROR` after a complete exchange.
    func streamClosed(_ stream: Int32, errorCode: UInt32)
    /// Fills `buffer` with response body bytes of `stream`.
    func responseBody(_ stream: Int32, into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.BodyChunk
}

/// An nghttp2 error code with the call that returned it.
struct NGHTTP2Error: Error, CustomStringConvertible {
    let code: Int
    let call: String

    var description: String { "\(call): \(String(cString: nghttp2_strerror(Int32(code)))) (\(code))" }
}

/// One `nghttp2_session` (server side), owned by ``HTTP2ServerHandler`` and used only on its event
/// loop. The C callbacks find this object through `user_data` (`Unmanaged`, unretained: the handler
/// keeps it alive for as long as the session exists) and pass everything to the delegate.
final class NGHTTP2Session {
    enum BodyChunk {
        /// `count` bytes were written; `endOfStream` ends the response.
        case bytes(Int, endOfStream: Bool)
        /// Nothing to send yet: nghttp2 waits until ``NGHTTP2Session/resumeData(_:)``.
        case deferred
    }

    unowned let delegate: any NGHTTP2SessionDelegate
    private var session: OpaquePointer?

    /// Creates the session and queues the server's SETTINGS (and the connection window update).
    init(delegate: any NGHTTP2SessionDelegate, limits: HTTPLimits) throws(NGHTTP2Error) {
        self.delegate = delegate
        var callbacks: OpaquePointer?
        try Self.check(nghttp2_session_callbacks_new(&callbacks), "nghttp2_session_callbacks_new")
        defer { nghttp2_session_callbacks_del(callbacks) }
        NGHTTP2Callbacks.install(on: callbacks)
        var options: OpaquePointer?
        try Self.check(nghttp2_option_new(&options), "nghttp2_option_new")
        defer { nghttp2_option_del(options) }
        // nghttp2's own reset limiter is a backstop; HTTP2ServerHandler's answers first, with ENHANCE_YOUR_CALM.
        nghttp2_option_set_stream_reset_rate_limit(options, UInt64(limits.resetBurst) * 2, UInt64(limits.resetsPerSecond) * 2)
        try Self.check(nghttp2_session_server_new2(&session, callbacks, Unmanaged.passUnretained(self).toOpaque(), options),
                       "nghttp2_session_server_new2")
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: UInt32(limits.maxConcurrentStreams)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(clamping: limits.maxHeaderListBytes)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: UInt32(limits.initialStreamWindowBytes)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
        ]
        try Self.check(nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count),
                       "nghttp2_submit_settings")
        try Self.check(nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                                             Int32(limits.connectionWindowBytes)),
                       "nghttp2_session_set_local_window_size")
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Feeds bytes read from the connection. Throws on errors that end the session (bad preface,
    /// flooding); nghttp2 has queued a GOAWAY where the protocol calls for one.
    func receive(_ bytes: ByteBuffer) throws(NGHTTP2Error) {
        let result = bytes.withUnsafeReadableBytes { raw in
            nghttp2_session_mem_recv(session, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count)
        }
        try Self.check(result, "nghttp2_session_mem_recv")
    }

    /// The next bytes to write, empty when nghttp2 has nothing to send; valid until the next call.
    func nextOutput() throws(NGHTTP2Error) -> UnsafeRawBufferPointer {
        var data: UnsafePointer<UInt8>?
        let count = nghttp2_session_mem_send(session, &data)
        try Self.check(count, "nghttp2_session_mem_send")
        return UnsafeRawBufferPointer(start: data, count: count)
    }

    /// Queues a response's HEADERS; with `hasBody` the body comes through the delegate's
    /// ``NGHTTP2SessionDelegate/responseBody(_:into:)``, else the HEADERS end the stream.
    func submitResponse(_ stream: Int32, headers: [(name: String, value: String)], hasBody: Bool) throws(NGHTTP2Error) {
        var provider = nghttp2_data_provider()
        provider.read_callback = NGHTTP2Callbacks.readResponseBody
        let result = withNameValuePairs(headers) { pairs, count in
            hasBody ? nghttp2_submit_response(session, stream, pairs, count, &provider)
                : nghttp2_submit_response(session, stream, pairs, count, nil)
        }
        try Self.check(result, "nghttp2_submit_response")
    }

    /// Tells nghttp2 that a deferred response body has bytes (or its end) again.
    func resumeData(_ stream: Int32) {
        _ = nghttp2_session_resume_data(session, stream)
    }

    func resetStream(_ stream: Int32, errorCode: UInt32) {
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, errorCode)
    }

    /// A graceful GOAWAY: streams up to the last one processed finish, later ones are refused.
    func submitGoAway(errorCode: UInt32 = NGHTTP2_NO_ERROR.rawValue) {
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
                                  nghttp2_session_get_last_proc_stream_id(session), errorCode, nil, 0)
    }

    /// GOAWAY with `errorCode`, after which the session wants neither to read nor to write.
    func terminate(errorCode: UInt32) {
        _ = nghttp2_session_terminate_session(session, errorCode)
    }

    /// Continues an HTTP/1.1 `Upgrade: h2c` request as stream 1 (half-closed: its request is complete).
    func upgrade(settingsPayload: [UInt8], headRequest: Bool) throws(NGHTTP2Error) {
        let result = settingsPayload.withUnsafeBufferPointer {
            nghttp2_session_upgrade2(session, $0.baseAddress, $0.count, headRequest ? 1 : 0, nil)
        }
        try Self.check(result, "nghttp2_session_upgrade2")
    }

    /// False once the session is over (GOAWAY exchanged and no stream open, or a fatal error).
    var isActive: Bool {
        nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0
    }

    static func from(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
        Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func check<Result: BinaryInteger>(_ result: Result, _ call: String) throws(NGHTTP2Error) {
        if result < 0 { throw NGHTTP2Error(code: Int(result), call: call) }
    }
}

/// Calls `body` with `headers` as nghttp2 name/value pairs (nghttp2 copies them during the call).
func withNameValuePairs<Result>(_ headers: [(name: String, value: String)],
                                _ body: (UnsafePointer<nghttp2_nv>, Int) -> Result) -> Result {
    var bytes: [UInt8] = []
    var ranges: [(name: Range<Int>, value: Range<Int>)] = []
    for (name, value) in headers {
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        ranges.append((nameStart..<valueStart, valueStart..<bytes.count))
    }
    bytes.append(0)  // so an empty last value still has a valid address
    return bytes.withUnsafeMutableBufferPointer { storage in
        let base = storage.baseAddress!
        let pairs = ranges.map { range in
            nghttp2_nv(name: base + range.name.lowerBound, value: base + range.value.lowerBound,
                       namelen: range.name.count, valuelen: range.value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        return pairs.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }
}
