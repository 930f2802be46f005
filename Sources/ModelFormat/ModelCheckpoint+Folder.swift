import Foundation

extension ModelCheckpoint {
    /// Loads a Hugging Face folder: config.json, then model.safetensors, the shards named by
    /// model.safetensors.index.json, or every *.safetensors file.
    static func loadFolder(_ folder: String) throws -> ModelCheckpoint {
        let configPath = join(folder, "config.json")
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw ModelFormatError(.missingFile, file: configPath, "missing; a Hugging Face model folder needs config.json")
        }
        var configuration = try ModelConfiguration.decode(configJSON: configData, file: configPath)
        configuration.eosTokenIDs = try mergedEOS(configuration.eosTokenIDs, folder: folder)
        try configuration.validate(file: configPath)

        let files = try weightFiles(folder)
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for file in files.paths {
            let shard = try SafetensorsFile(path: file)
            metadata.merge(shard.metadata) { first, _ in first }
            for tensor in shard.tensors {
                if let existing = tensors[tensor.name], let other = (existing.storage as? MappedFile)?.path {
                    throw ModelFormatError(.badHeader, file: file, "tensor '\(tensor.name)' is also in \(other); each tensor must be stored once")
                }
                tensors[tensor.name] = tensor
            }
        }
        // The index promises where each tensor is; a shard that lacks one is a broken download.
        for (name, shard) in files.weightMap.sorted(by: { $0.key < $1.key }) {
            let actual = (tensors[name]?.storage as? MappedFile)?.path
            guard actual != join(folder, shard) else { continue }
            let found = actual.map { " (it is in \(($0 as NSString).lastPathComponent))" } ?? ""
            throw ModelFormatError(.missingTensor, file: join(folder, shard), "has no tensor '\(name)', which model.safetensors.index.json places there\(found)")
        }
        let missingFile = files.paths.count == 1 ? files.paths[0] : folder
        try validateTensors(tensors, configuration: configuration, file: missingFile, label: { "'\($0)'" })
        return ModelCheckpoint(path: folder, format: .safetensors, configuration: configuration, ggufMetadata: [:],
                               safetensorsMetadata: metadata, tensors: tensors)
    }

    /// generate() stops on generation_config.json's eos_token_id (Llama-3 instruct lists several there), so
    /// those ids join config.json's.
    private static func mergedEOS(_ ids: [Int], folder: String) throws -> [Int] {
        let path = join(folder, "generation_config.json")
        guard let data = FileManager.default.contents(atPath: path) else { return ids }
        guard let root = try JSONValue.parse(data, file: path, what: "generation_config.json").objectValue else {
            throw ModelFormatError(.badHeader, file: path, "generation_config.json is not a JSON object")
        }
        let extra = try ConfigObject(root, file: path).intList("eos_token_id") ?? []
        return ids + extra.filter { !ids.contains($0) }
    }

    private struct WeightFiles {
        var paths: [String]
        var weightMap: [String: String] = [:]
    }

    private static func weightFiles(_ folder: String) throws -> WeightFiles {
        let manager = FileManager.default
        let indexPath = join(folder, "model.safetensors.index.json")
        if let indexData = manager.contents(atPath: indexPath) {
            let weightMap = try parseIndex(indexData, file: indexPath)
            let shards = Set(weightMap.values).sorted()
            for shard in shards where !manager.fileExists(atPath: join(folder, shard)) {
                throw ModelFormatError(.missingFile, file: join(folder, shard), "missing; model.safetensors.index.json lists it")
            }
            return WeightFiles(paths: shards.map { join(folder, $0) }, weightMap: weightMap)
        }
        let single = join(folder, "model.safetensors")
        if manager.fileExists(atPath: single) { return WeightFiles(paths: [single]) }
        let entries = (try? manager.contentsOfDirectory(atPath: folder)) ?? []
        let shards = entries.filter { $0.hasSuffix(".safetensors") }.sorted()
        if !shards.isEmpty { return WeightFiles(paths: shards.map { join(folder, $0) }) }
        let hint = entries.contains { $0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".pth") }
            ? " (PyTorch pickles are not read: convert them to safetensors)" : ""
        throw ModelFormatError(.missingFile, file: single, "missing, and there is no model.safetensors.index.json or other *.safetensors file\(hint)")
    }

    /// `weight_map` of a sharded checkpoint's index: tensor name → shard file name.
    private static func parseIndex(_ data: Data, file: String) throws -> [String: String] {
        guard let root = try JSONValue.parse(data, file: file, what: "safetensors index").objectValue,
              let map = root["weight_map"]?.objectValue else {
            throw ModelFormatError(.badHeader, file: file, "has no 'weight_map' object")
        }
        var weightMap: [String: String] = [:]
        for (name, value) in map {
            guard let shard = value.stringValue, !shard.contains("/"), !shard.isEmpty else {
                throw ModelFormatError(.badHeader, file: file, "weight_map['\(name)'] is \(value); expected a file name in this folder")
            }
            weightMap[name] = shard
        }
        return weightMap
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
