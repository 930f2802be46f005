import Foundation
import Testing
@testable import ModelFormat

@Suite("SafetensorsWriter: whole and streamed writes read back exactly")
struct SafetensorsWriterTests {
    @Test("f32 / f16 / bf16 tensors and metadata round-trip; the data section starts 8-byte aligned")
    func roundTrip() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let values: [Float] = [0, 1, -2.5, 3.25, 1e-3, -65504, 0.1, 7]
        var specs: [(name: String, dtype: DType, shape: [Int], bytes: [UInt8])] = []
        specs.append(("a.f32", .f32, [2, 4], values.withUnsafeBytes { [UInt8]($0) }))
        specs.append(("b.f16", .f16, [8], values.map(halfBitsFromFloat).withUnsafeBytes { [UInt8]($0) }))
        specs.append(("c \"quoted\"", .bf16, [4, 2], values.map(bfloat16BitsFromFloat).withUnsafeBytes { [UInt8]($0) }))
        specs.append(("empty", .f32, [0, 3], []))
        let path = temp.file("x.safetensors")
        try SafetensorsWriter.write(specs, metadata: ["format": "pt", "note": "a\nb"], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "note": "a\nb"])
        let byName = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0) })
        for spec in specs {
            let tensor = try #require(byName[spec.name])
            #expect(tensor.dtype == spec.dtype && tensor.shape == spec.shape && [UInt8](tensor.data) == spec.bytes)
        }
        #expect(byName["a.f32"]?.floats() == values)
        let headerLength = try Data(contentsOf: URL(fileURLWithPath: path)).le(UInt64.self, at: 0)
        #expect(headerLength % 8 == 0)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }

    @Test("streaming: chunks and float conversion, exact byte counts enforced, no partial file left")
    func streaming() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.file("s.safetensors")
        let specs = [SafetensorsWriter.TensorSpec(name: "w", dtype: .bf16, shape: [300, 1000]),
                     SafetensorsWriter.TensorSpec(name: "n", dtype: .f16, shape: [1000])]
        let rows = (0..<300).map { r in (0..<1000).map { c in Float((r - c) % 128) / 64 } }  // exact in bf16
        try SafetensorsWriter.write(specs, metadata: [:], to: path) { index, sink in
            if index == 0 {
                for row in rows { try sink.write(floats: row) }  // 300 chunks of 2000 bytes
            } else {
                try sink.write(floats: [Float](repeating: 0.5, count: 1000))
            }
        }
        let file = try SafetensorsFile(path: path)
        let w = try #require(file.tensors.first { $0.name == "w" })
        let roundTripped = w.floats() == rows.flatMap { $0 }  // a Bool: never print 300k floats
        #expect(roundTripped)
        #expect(file.tensors.first { $0.name == "n" }?.floats() == [Float](repeating: 0.5, count: 1000))

        let short = expectError(.invalidValue) {
            try SafetensorsWriter.write(specs, metadata: [:], to: temp.file("short.safetensors")) { _, sink in
                try sink.write([1, 2, 3, 4])
            }
        }
        #expect(short?.message.contains("tensor 'w' got 4 bytes; expected 600000") == true)
        #expect(!FileManager.default.fileExists(atPath: temp.file("short.safetensors")))
        #expect(!FileManager.default.fileExists(atPath: temp.file("short.safetensors.partial")))
        expectError(.invalidValue) {
            try SafetensorsWriter.write([specs[1]], metadata: [:], to: temp.file("long.safetensors")) { _, sink in
                try sink.write(floats: [Float](repeating: 0, count: 1001))
            }
        }
    }

    @Test("bad specs are refused before anything is written")
    func badSpecs() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.file("bad.safetensors")
        expectError(.unsupportedDType) { try SafetensorsWriter.write([("q", .q8_0, [32], [UInt8](repeating: 0, count: 34))], metadata: [:], to: path) }
        expectError(.invalidValue) { try SafetensorsWriter.write([("a", .f32, [1], [0, 0, 0, 0]), ("a", .f32, [1], [0, 0, 0, 0])], metadata: [:], to: path) }
        expectError(.invalidValue) { try SafetensorsWriter.write([("a", .f32, [-1], [])], metadata: [:], to: path) }
        expectError(.io) { try SafetensorsWriter.write([("a", .f32, [1], [0, 0, 0, 0])], metadata: [:], to: temp.file("no/such/dir.safetensors")) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a checkpoint re-written with SafetensorsWriter + hfConfigJSON loads back identical (the synth path)")
    func rewriteCheckpoint() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let source = try ModelCheckpoint.load(path: Fixtures.pycode)
        let folder = temp.file("copy")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try source.configuration.hfConfigJSON().write(to: URL(fileURLWithPath: folder + "/config.json"))
        let names = source.tensorNames
        let specs = try names.map { name in
            let t = try source.tensor(name)
            return SafetensorsWriter.TensorSpec(name: name, dtype: t.dtype, shape: t.shape)
        }
        try SafetensorsWriter.write(specs, metadata: ["format": "pt"], to: folder + "/model.safetensors") { index, sink in
            try sink.write(try source.tensor(names[index]).data)
        }
        let copy = try ModelCheckpoint.load(path: folder)
        #expect(copy.configuration == source.configuration)
        #expect(copy.tensorNames == names)
        for name in names { #expect(try [UInt8](copy.tensor(name).data) == [UInt8](source.tensor(name).data), "\(name)") }
    }
}
