"""Asks a Specula router for logprobs through the official openai SDK and checks their shapes.

usage: openai_logprobs.py BASE_URL PROMPT MAX_TOKENS
Prints one JSON object: {"checks": {name: bool}, "counts": {...}, "sample": {...}}.
"""
import json
import sys

import openai
from openai import OpenAI

base, prompt, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = OpenAI(base_url=base + "/v1", api_key="not-checked", max_retries=0, timeout=300)
checks, counts = {}, {}


def close(a, b, tolerance=1e-4):
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b))


def completion(stream, speculation="auto"):
    """tokens, token_logprobs, top_logprobs, text_offset and text of a greedy completion with logprobs=2."""
    response = client.completions.create(model="pycode-6m", prompt=prompt, max_tokens=max_tokens, temperature=0,
                                         logprobs=2, stream=stream, extra_body={"speculation": speculation})
    chunks = list(response) if stream else [response]
    merged = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": [], "text": ""}
    for chunk in chunks:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        merged["text"] += choice.text
        if choice.logprobs is not None:
            for key in ("tokens", "token_logprobs", "top_logprobs", "text_offset"):
                merged[key] += getattr(choice.logprobs, key)
    return merged


plain = completion(stream=False)
n = len(plain["tokens"])
counts["completion_tokens"] = n
checks["completion has tokens"] = n > 0
checks["completion lists are parallel"] = all(len(plain[key]) == n for key in ("token_logprobs", "top_logprobs", "text_offset"))
checks["completion logprobs <= 0"] = all(lp <= 0 for lp in plain["token_logprobs"])
checks["completion top has 2 or 3 entries"] = all(2 <= len(top) <= 3 for top in plain["top_logprobs"])
checks["completion chosen is the most likely (greedy)"] = all(
    abs(lp - max(top.values())) <= 1e-6 and top.get(token) == lp
    for token, lp, top in zip(plain["tokens"], plain["token_logprobs"], plain["top_logprobs"]))
checks["completion text offsets rise from 0"] = plain["text_offset"][:1] == [0] and plain["text_offset"] == sorted(plain["text_offset"])
if all("\\x" not in token for token in plain["tokens"]):
    checks["completion tokens join to the text"] = "".join(plain["tokens"]) == plain["text"]

streamed = completion(stream=True)
checks["streamed completion: same tokens and text"] = streamed["tokens"] == plain["tokens"] and streamed["text"] == plain["text"]
checks["streamed completion: same logprobs"] = close(streamed["token_logprobs"], plain["token_logprobs"])
checks["streamed completion: same offsets"] = streamed["text_offset"] == plain["text_offset"]

off = completion(stream=False, speculation="off")
checks["speculation off: same tokens"] = off["tokens"] == plain["tokens"]
checks["speculation off: logprobs within 1e-4 of auto"] = close(off["token_logprobs"], plain["token_logprobs"])


def chat_entries(stream):
    response = client.chat.completions.create(model="pycode-6m", messages=[{"role": "user", "content": prompt}],
                                              max_tokens=max_tokens, temperature=0, logprobs=True, top_logprobs=3,
                                              stream=stream)
    chunks = list(response) if stream else [response]
    entries, text = [], ""
    for chunk in chunks:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        text += (choice.delta.content or "") if stream else choice.message.content
        if choice.logprobs is not None and choice.logprobs.content:
            entries += choice.logprobs.content
    return entries, text


entries, text = chat_entries(stream=False)
counts["chat_tokens"] = len(entries)
checks["chat has entries"] = len(entries) > 0
checks["chat top_logprobs has 3"] = all(len(entry.top_logprobs) == 3 for entry in entries)
checks["chat logprob <= 0 and the most likely (greedy)"] = all(
    entry.logprob <= 0 and abs(entry.logprob - entry.top_logprobs[0].logprob) <= 1e-6
    and entry.top_logprobs[0].token == entry.token for entry in entries)
checks["chat top sorted"] = all(
    all(a.logprob >= b.logprob for a, b in zip(entry.top_logprobs, entry.top_logprobs[1:])) for entry in entries)
checks["chat bytes join to the text"] = bytes(b for entry in entries for b in entry.bytes).decode("utf-8") == text
checks["chat matches completion logprobs"] = close([e.logprob for e in entries], plain["token_logprobs"])
streamed_entries, streamed_text = chat_entries(stream=True)
checks["streamed chat: same tokens"] = [e.token for e in streamed_entries] == [e.token for e in entries]
checks["streamed chat: same logprobs"] = close([e.logprob for e in streamed_entries], [e.logprob for e in entries])

try:
    client.chat.completions.create(model="pycode-6m", messages=[{"role": "user", "content": "x"}], top_logprobs=2)
    checks["top_logprobs without logprobs is 400"] = False
except openai.BadRequestError as error:
    checks["top_logprobs without logprobs is 400"] = isinstance(error.body, dict) and error.body.get("param") == "top_logprobs"

print(json.dumps({"checks": checks, "counts": counts,
                  "sample": {"tokens": plain["tokens"][:4], "token_logprobs": plain["token_logprobs"][:4],
                             "top_logprobs": plain["top_logprobs"][:2], "chat": [e.model_dump() for e in entries[:2]]}}))
