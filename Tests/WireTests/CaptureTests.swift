import Foundation
import NIOCore
import NIOEmbedded
import Testing
import Wire
@testable import WireFuzz

/// The frame capture (`SPECULA_WIRE_CAPTURE`): its file format, the writer, the pipeline handler, and
/// the replay tool that measures compression on captured frames.
@Suite("Wire capture")
struct CaptureTests {
    static func prefix() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("specula-capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.path + "/run-"
    }

    static func payload(_ message: WireMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        message.encodePayload(into: &buffer)
        return buffer
    }

    static func records(_ messages: [WireMessage]) -> [WireCapture.Record] {
        messages.enumerated().map { index, message in
            WireCapture.Record(type: message.type, payload: payload(message), queuedNanoseconds: UInt64(index) * 1_000,
                               writtenNanoseconds: index == messages.count - 1 ? nil : UInt64(index) * 1_000 + 500)
        }
    }

    static func read(_ path: String) throws -> WireCapture {
        try WireCapture(bytes: ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func recordsReadBackIdenticalFromBytesAndFromTheWriter() throws {
        let records = Self.records(Samples.all)
        let capture = WireCapture(sender: .router, startedUnixNanoseconds: 1_795_000_000_123_456_789, records: records)
        #expect(try WireCapture(bytes: capture.serialized()) == capture)

        let destination = try WireCaptureDestination(prefix: try Self.prefix())
        let writer = try destination.open(sender: .worker)
        for record in records { try writer.append(record) }
        try writer.close()
        try writer.append(records[0])  // after close: dropped
        let written = try Self.read(writer.path)
        #expect(written.sender == .worker)
        #expect(written.records == records)
        #expect(writer.path == destination.prefix + "worker-\(getpid())-1.wirecap")
        #expect(try destination.open(sender: .router).path == destination.prefix + "router-\(getpid())-2.wirecap")
    }

    /// The error `bytes` get when read as a capture, or "no error".
    static func failure(_ bytes: ByteBuffer) -> String {
        do {
            _ = try WireCapture(bytes: bytes)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func aTruncatedOrForeignFileIsRefusedWithTheReason() throws {
        var bytes = WireCapture(sender: .worker, startedUnixNanoseconds: 1, records: Self.records(Samples.all)).serialized()
        bytes.moveWriterIndex(to: bytes.writerIndex - 3)
        #expect(Self.failure(bytes).contains("is truncated: the file ends inside it"))
        #expect(Self.failure(ByteBuffer(string: "SPCW and more bytes")).contains("does not start with 'SPCWCAP1'"))
        var sender = WireCapture(sender: .worker, startedUnixNanoseconds: 1).serialized()
        sender.setInteger(UInt8(7), at: 8)
        #expect(Self.failure(sender).contains("sender byte 7"))
        #expect(Self.failure(WireCapture(sender: .worker, startedUnixNanoseconds: 1).serialized()) == "no error")
    }

    @Test func aPrefixWhereNoFileCanBeCreatedIsRefusedWithThePath() {
        do {
            _ = try WireCaptureDestination(prefix: "/nonexistent-specula-dir/run-")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("SPECULA_WIRE_CAPTURE=/nonexistent-specula-dir/run-"))
            #expect("\(error)".contains("No such file or directory"))
        }
    }

    @Test func theHandlerRecordsEveryFrameSentWithItsTimes() throws {
        let destination = try WireCaptureDestination(prefix: try Self.prefix())
        var errors: [WireCaptureError] = []
        let handler = try #require(destination.makeHandler(sender: .worker) { errors.append($0) })
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([MessageToByteHandler(try FrameEncoder()), handler])
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let messages = Samples.all
        for message in messages { try channel.writeOutbound(message) }
        var parser = FrameParser()
        var decoder = try WireDecoder()
        var received: [WireMessage] = []
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) {
            parser.append(bytes)
            while let frame = try parser.next() { received.append(try decoder.decode(frame)) }
        }
        #expect(received == messages, "the handler passes every frame on unchanged")
        _ = try channel.finish()
        let capture = try Self.read(destination.prefix + "worker-\(getpid())-1.wirecap")
        #expect(capture.sender == .worker)
        #expect(capture.records.map(\.type) == messages.map(\.type))
        #expect(capture.records.map(\.payload) == messages.map(Self.payload))
        #expect(capture.records.allSatisfy { ($0.writtenNanoseconds ?? 0) >= $0.queuedNanoseconds && $0.writtenNanoseconds != nil })
        #expect(errors.isEmpty)
    }

    /// A small capture of both directions: prompts that recur (router) and token events (worker).
    static func smallCaptures() -> [WireCapture] {
        let prompt = "import os\nimport sys\n\ndef main(argv):\n    for name in os.listdir(argv[1]):\n        print(name)\n"
        let toWorker: [WireMessage] = [.hello(Hello(minVersion: 1, maxVersion: 1, challenge: Samples.challenge))]
            + (1...12).map { .assign(Assignment(requestID: UInt64($0), prompt: .text(prompt + "# \($0)\n"), maxTokens: 64, speculation: .auto(cap: nil))) }
        let toRouter: [WireMessage] = (1...40).map { .tokens(TokenEvent(requestID: UInt64($0 % 12 + 1), tokenIDs: [UInt32($0), 7], text: "  x = \($0)")) }
            + [.finish(Finish(requestID: 1, reason: .length, promptTokens: 30, completionTokens: 64))]
        return [WireCapture(sender: .router, startedUnixNanoseconds: 1, records: records(toWorker)),
                WireCapture(sender: .worker, startedUnixNanoseconds: 1, records: records(toRouter))]
    }

    @Test func theReplayToolMeasuresEachModeOnACapture() throws {
        let captures = Self.smallCaptures()
        let router = captures[0].records.map { ZstdMeasurement.Payload(bytes: $0.payload, compressible: !$0.type.isHandshake) }
        let raw = captures[0].records.reduce(0) { $0 + $1.payload.readableBytes + Frame.headerSize }
        let none = try ZstdMeasurement.measure([router], mode: .none, repeats: 1)
        let perFrame = try ZstdMeasurement.measure([router], mode: .perFrame(threshold: 64, level: 1), repeats: 1)
        let stream = try ZstdMeasurement.measure([router], mode: .stream(threshold: 64, level: 1), repeats: 1)
        #expect(none.frames == 13 && none.rawBytes == raw && none.wireBytes == raw)
        #expect(stream.rawBytes == raw && perFrame.rawBytes == raw)
        #expect(stream.wireBytes < perFrame.wireBytes && perFrame.wireBytes < raw, "recurring prompts: the stream wins")
        // The hello is never compressed, whatever the threshold.
        let hello = try ZstdMeasurement.measure([Array(router.prefix(1))], mode: .stream(threshold: 0, level: 1), repeats: 1)
        #expect(hello.wireBytes == hello.rawBytes)

        let table = try ZstdMeasurement.replay(captures).split(separator: "\n")
        #expect(table.count == 2 + 2 * ZstdMeasurement.modes.count)
        #expect(table.filter { $0.hasPrefix("| router → worker | none | 13 | \(raw) | \(raw) | 0.0% |") }.count == 1)
        #expect(table.filter { $0.hasPrefix("| worker → router |") }.count == ZstdMeasurement.modes.count)
        let summary = try CaptureSummary.describe(captures)
        #expect(summary.contains("worker sent 41 frames on 1 connection(s): tokens 40, finish 1"))
        #expect(summary.contains("tokens per tokens frame: 2.00 (80 tokens)"))
        #expect(summary.contains("1 writes failed"))
    }
}
