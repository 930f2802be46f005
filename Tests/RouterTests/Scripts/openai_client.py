"""Drives a Specula router with the official openai SDK; prints what it got as one JSON object.

usage: openai_client.py BASE_URL PROMPT MAX_TOKENS
"""
import json
import sys

import openai
from openai import OpenAI

base, prompt, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = OpenAI(base_url=base + "/v1", api_key="not-checked", max_retries=0, timeout=300)
out = {}

completion = client.completions.create(model="pycode-6m", prompt=prompt, max_tokens=max_tokens, temperature=0)
out["completion"] = completion.choices[0].text
out["completion_finish"] = completion.choices[0].finish_reason
out["completion_tokens"] = completion.usage.completion_tokens

stream = client.completions.create(model="pycode-6m", prompt=prompt, max_tokens=max_tokens, temperature=0, stream=True)
out["completion_stream"] = "".join(chunk.choices[0].text for chunk in stream if chunk.choices)

chat = client.chat.completions.create(model="pycode-6m", messages=[{"role": "user", "content": prompt}],
                                      max_tokens=max_tokens, temperature=0)
out["chat"] = chat.choices[0].message.content
out["chat_role"] = chat.choices[0].message.role

parts, usage = [], None
stream = client.chat.completions.create(model="pycode-6m", messages=[{"role": "user", "content": prompt}],
                                        max_tokens=max_tokens, temperature=0, stream=True,
                                        stream_options={"include_usage": True})
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage.completion_tokens
out["chat_stream"] = "".join(parts)
out["chat_stream_usage"] = usage

out["models"] = [model.id for model in client.models.list()]

try:
    client.completions.create(model="no-such-model", prompt="x")
except openai.NotFoundError as error:
    out["unknown_model"] = error.status_code
try:
    client.chat.completions.create(model="pycode-6m", messages=[{"role": "user", "content": "x"}], n=2)
except openai.BadRequestError as error:
    out["n2"] = [error.status_code, error.body.get("param") if isinstance(error.body, dict) else None]

print(json.dumps(out))
