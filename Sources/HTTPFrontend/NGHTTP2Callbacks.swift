import CNGHTTP2

/// The C callbacks of the server session: each finds its ``NGHTTP2Session`` through `user_data` and
/// hands the event to the session's delegate. They never fail the session (returning 0), so a bad
/// request costs its stream at most, never the connection.
enum NGHTTP2Callbacks {
    static func install(on callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, Self.isRequestHeaders(frame) else { return 0 }
            NGHTTP2Session.from(userData).delegate.streamOpened(frame.pointee.hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
            NGHTTP2Session.from(userData).delegate.headerReceived(
                frame.pointee.hd.stream_id, name: UnsafeRawBufferPointer(start: name, count: nameLength),
                value: UnsafeRawBufferPointer(start: value, count: valueLength))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            Self.frameReceived(frame.pointee, NGHTTP2Session.from(userData).delegate)
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, userData in
            NGHTTP2Session.from(userData).delegate.dataReceived(stream, UnsafeRawBufferPointer(start: data, count: length))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame, frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 else { return 0 }
            NGHTTP2Session.from(userData).delegate.responseEndSent(frame.pointee.hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, errorCode, userData in
            NGHTTP2Session.from(userData).delegate.streamClosed(stream, errorCode: errorCode)
            return 0
        }
    }

    /// The response body's data source (`nghttp2_data_source_read_callback`).
    static let readResponseBody: nghttp2_data_source_read_callback = { _, stream, buffer, length, flags, _, userData in
        let delegate = NGHTTP2Session.from(userData).delegate
        switch delegate.responseBody(stream, into: UnsafeMutableRawBufferPointer(start: buffer, count: length)) {
        case .deferred:
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        case .bytes(let count, let endOfStream):
            if endOfStream { flags?.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
            return count
        }
    }

    private static func isRequestHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Bool {
        frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) && frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
    }

    private static func frameReceived(_ frame: nghttp2_frame, _ delegate: any NGHTTP2SessionDelegate) {
        let stream = frame.hd.stream_id
        let endStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(frame.hd.type) {
        case NGHTTP2_HEADERS.rawValue where frame.headers.cat == NGHTTP2_HCAT_REQUEST:
            delegate.requestHeadersComplete(stream, endStream: endStream)
        case NGHTTP2_HEADERS.rawValue, NGHTTP2_DATA.rawValue:
            if endStream { delegate.requestEnded(stream) }
        case NGHTTP2_RST_STREAM.rawValue:
            delegate.resetReceived(stream)
        default:
            break
        }
    }
}
