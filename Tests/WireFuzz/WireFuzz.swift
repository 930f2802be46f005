// The wire decoder under libFuzzer (Protocols/wire.md, "Fuzzing"):
//
//   swift build -c release --scratch-path .build-fuzz -sanitize=fuzzer -sanitize=address \
//       -Xswiftc -DWIRE_FUZZ --product WireFuzz
//   .build-fuzz/release/WireFuzz -max_len=4096 -runs=3000000 corpus/
//
// A normal build (no WIRE_FUZZ) makes a replay tool instead: `WireFuzz FILE…` runs each file through
// the same entry, and `WireFuzz --seed DIR` writes a seed corpus of valid frames.
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
        arguments = arguments.isEmpty ? ["-"] : arguments
        for path in arguments {
            let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes { FuzzInput.run($0) }
            print("\(path): \(data.count) bytes, ok")
        }
    }
}
#endif
