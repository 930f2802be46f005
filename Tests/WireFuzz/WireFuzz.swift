// The wire decoder under libFuzzer (Protocols/wire.md, "Fuzzing"):
//
//   swift build -c release --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
//       -Xswiftc -DWIRE_FUZZ --product WireFuzz
//   .build-fuzz/release/WireFuzz -max_len=4096 -runs=3000000 corpus/
//
// A normal build (no WIRE_FUZZ) makes a replay tool instead: `WireFuzz FILE…` runs each file through
// the same entry, `WireFuzz --seed DIR` writes a seed corpus of valid frames, and
// `WireFuzz --measure-zstd BENCH_DIR CORPUS.txt [REQUESTS]` prints the compression table of wire.md for
// simulated traffic, `WireFuzz --replay-capture FILE.wirecap…` the same table for frames captured from
// a serving run (SPECULA_WIRE_CAPTURE), with a summary of the frames.
import Foundation
import NIOCore
import Wire

#if WIRE_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func wireFuzzTestOneInput(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    FuzzInput.run(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
#else
@main
enum WireFuzz {
    static func main() throws {
        var arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "--seed", let folder = arguments.dropFirst().first {
            try SeedCorpus.write(to: URL(fileURLWithPath: folder))
            return
        }
        if arguments.first == "--measure-zstd", arguments.count >= 3 {
            let rest = Array(arguments.dropFirst())
            try ZstdMeasurement.run(benchFolder: URL(fileURLWithPath: rest[0]), corpus: URL(fileURLWithPath: rest[1]),
                                    requests: rest.count > 2 ? Int(rest[2]) ?? 256 : 256)
            return
        }
        if arguments.first == "--replay-capture", arguments.count >= 2 {
            let captures = try arguments.dropFirst().map { path in
                try WireCapture(bytes: ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path))))
            }
            print(try CaptureSummary.describe(captures))
            print(try ZstdMeasurement.replay(captures))
            return
        }
        arguments = arguments.isEmpty ? ["-"] : arguments
        for path in arguments {
            let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
            let (decoded, error) = data.withUnsafeBytes { FuzzInput.run($0) }
            print("\(path): \(data.count) bytes, \(decoded) messages, \(error.map { "\($0)" } ?? "no error")")
        }
    }
}
#endif
