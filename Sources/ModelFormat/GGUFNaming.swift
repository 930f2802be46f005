/// llama.cpp tensor names ↔ Hugging Face names for the Llama-shaped families.
enum GGUFNaming {
    private static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    private static let perLayer: [String: String] = [
        "attn_norm.weight": "input_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight",
        "attn_k.weight": "self_attn.k_proj.weight",
        "attn_v.weight": "self_attn.v_proj.weight",
        "attn_output.weight": "self_attn.o_proj.weight",
        "attn_q.bias": "self_attn.q_proj.bias",
        "attn_k.bias": "self_attn.k_proj.bias",
        "attn_v.bias": "self_attn.v_proj.bias",
        "ffn_norm.weight": "post_attention_layernorm.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight",
        "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_down.weight": "mlp.down_proj.weight",
    ]

    /// The llama.cpp name for an HF name (for messages about missing tensors), or nil.
    static func ggufName(_ huggingFaceName: String) -> String? {
        if let entry = global.first(where: { $0.value == huggingFaceName }) { return entry.key }
        let prefix = "model.layers."
        guard huggingFaceName.hasPrefix(prefix) else { return nil }
        let rest = huggingFaceName.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]),
              let entry = perLayer.first(where: { $0.value == rest[rest.index(after: dot)...] }) else { return nil }
        return "blk.\(layer).\(entry.key)"
    }

    /// The HF name for a llama.cpp name, or nil for tensors without one (e.g. `rope_freqs.weight`).
    static func huggingFaceName(_ ggufName: String) -> String? {
        if let name = global[ggufName] { return name }
        guard ggufName.hasPrefix("blk.") else { return nil }
        let rest = ggufName.dropFirst(4)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0,
              let suffix = perLayer[String(rest[rest.index(after: dot)...])] else { return nil }
        return "model.layers.\(layer).\(suffix)"
    }
}
