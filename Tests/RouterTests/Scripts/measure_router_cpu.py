"""Router CPU per streamed token: streams completions through a running router and reads the router
process's utime + stime (/proc/PID/stat) before and after.

usage: measure_router_cpu.py BASE_URL ROUTER_PID REQUESTS CONCURRENCY MAX_TOKENS SPECULATION(auto|off)
Prints one JSON object. Workers are other processes, so their CPU is not counted.
"""
import concurrent.futures
import http.client
import json
import os
import sys
import time
import urllib.parse

base, pid, requests, concurrency, max_tokens, speculation = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
url = urllib.parse.urlparse(base)
ticks = os.sysconf("SC_CLK_TCK")
prompts = ["def fibonacci(n):", "import os\n\n\ndef read_lines(path):", "class Stack:\n    def __init__(self):", "for i in range(10):"]


def cpu_seconds():
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15 of the full line)


def stream(index):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    body = json.dumps({"model": "pycode-6m", "prompt": prompts[index % len(prompts)], "max_tokens": max_tokens,
                       "temperature": 0, "ignore_eos": True, "stream": True, "speculation": speculation,
                       "stream_options": {"include_usage": True}})
    connection.request("POST", "/v1/completions", body, {"content-type": "application/json"})
    response = connection.getresponse()
    events, tokens = 0, 0
    for line in response:
        if line.startswith(b"data: {"):
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            elif chunk["choices"] and chunk["choices"][0].get("text"):
                events += 1
    connection.close()
    return events, tokens


before, started = cpu_seconds(), time.time()
with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
    results = list(pool.map(stream, range(requests)))
elapsed, cpu = time.time() - started, cpu_seconds() - before
events = sum(r[0] for r in results)
tokens = sum(r[1] for r in results)
print(json.dumps({"requests": requests, "concurrency": concurrency, "max_tokens": max_tokens, "speculation": speculation,
                  "tokens": tokens, "sse_events": events, "seconds": round(elapsed, 3), "router_cpu_seconds": round(cpu, 3),
                  "router_cpu_us_per_token": round(cpu / tokens * 1e6, 2), "router_cpu_us_per_event": round(cpu / max(events, 1) * 1e6, 2),
                  "tokens_per_second": round(tokens / elapsed, 1)}))
