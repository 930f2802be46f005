/// HF `post_processor`, for single sequences: what `add_special_tokens=True` adds around the ids.
indirect enum PostProcessor: Sendable {
    case byteLevel
    /// TemplateProcessing `single`: each item is either the special ids to insert or nil for `$A`.
    case template([[Int]?])
    case sequence([PostProcessor])

    init(json: JSONObject) throws {
        let type = try json.string("type")
        switch type {
        case "ByteLevel": self = .byteLevel
        case "Sequence": self = .sequence(try json.objects("processors").map(PostProcessor.init(json:)))
        case "TemplateProcessing": self = try Self.template(json)
        default:
            throw json.error("type", found: "\"\(type)\"",
                             expected: "a supported post-processor (ByteLevel, TemplateProcessing, Sequence)")
        }
    }

    private static func template(_ json: JSONObject) throws -> PostProcessor {
        let specials = try json.object("special_tokens")
        var items: [[Int]?] = []
        for item in try json.objects("single") {
            if let special = item.values["SpecialToken"] as? [String: Any] {
                let name = try JSONObject(values: special, file: item.file, path: item.keyPath("SpecialToken")).string("id")
                let entry = try specials.object(name)
                let ids = try entry.array("ids").enumerated().map { index, value in
                    guard let id = value as? Int else {
                        throw entry.error("ids[\(index)]", found: JSONObject.describe(value), expected: "an integer")
                    }
                    return id
                }
                items.append(ids)
            } else if item.values["Sequence"] != nil {
                items.append(nil)
            } else {
                throw item.error("", found: "an item without SpecialToken or Sequence", expected: "a template piece")
            }
        }
        return .template(items)
    }

    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case .byteLevel: return ids
        case .template(let items): return items.flatMap { $0 ?? ids }
        case .sequence(let steps): return steps.reduce(ids) { $1.process($0) }
        }
    }

    /// The ids the processor puts before the sequence.
    var prefixIDs: [Int] {
        switch self {
        case .byteLevel: return []
        case .template(let items): return Array(items.prefix { $0 != nil }.compactMap { $0 }.joined())
        case .sequence(let steps): return steps.flatMap(\.prefixIDs)
        }
    }
}
