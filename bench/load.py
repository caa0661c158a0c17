"""Driving load with wrk (Debian's /usr/bin/wrk), a separate process, bounded in time.

Each measurement is one wrk run against one request kind. A Lua script sets
the method, headers and body; kinds that must act on a different session each
time (confirm, notes) read a list of (path, token, body) lines and walk it,
each wrk thread its own share, so no two requests use the same line. The
script's done() prints one JSON line with the throughput and the latency
percentiles, which `parse` reads.
"""

import json
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK = "/usr/bin/wrk"
MARK = "WRKJSON "

PRELUDE = r"""
-- setup() numbers the threads and keeps them, so done() can ask each how far it got.
bench_threads = {}
setup = function(thread)
  thread:set("thread_no", #bench_threads)
  bench_threads[#bench_threads + 1] = thread
end
"""

DONE = r"""
done = function(summary, latency, requests)
  local used = 0
  for _, thread in ipairs(bench_threads) do
    local counter = thread:get("counter")
    if counter and counter > used then used = counter end
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"non_2xx_3xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"used":%d}\n',
    "WRKJSON ", summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, used))
end
"""

ROTATING = r"""
local threads, lines, nonce = {threads}, {{}}, "{nonce}"
counter = 0  -- globals: the prelude's setup() sets thread_no, done() reads counter
thread_no = 0
init = function(args)
  for line in io.lines("{data}") do
    local path, token, body = line:match("([^\t]*)\t([^\t]*)\t(.*)")
    lines[#lines + 1] = {{path, token, body}}
  end
  counter = thread_no
end
request = function()
  local item = lines[(counter % #lines) + 1]
  counter = counter + threads
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Authorization"] = "Bearer " .. item[2]
  local body = item[3]:gsub("{{n}}", nonce .. "-" .. counter)  -- never the text of an earlier run
  return wrk.format(wrk.method, item[1], headers, body)
end
"""


@dataclass
class Kind:
    """One request kind of the table: what to send and what status it must answer."""

    key: str
    label: str
    method: str = "GET"
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    expect: int = 200
    rotate: list[tuple[str, str, str]] | None = None  # (path, token, body with {n}) per request
    consume: bool = False  # each rotating line serves once (a session confirmed cannot be confirmed again)
    floor: bool = False


    def request(self, attempt: int) -> tuple[str, dict[str, str], str]:
        """(path, headers, body) of one request as the load sends it (rotating kinds: the attempt-th line)."""
        if not self.rotate:
            return self.path, dict(self.headers), self.body
        path, token, body = self.rotate[attempt % len(self.rotate)]
        return path, {**self.headers, "Authorization": f"Bearer {token}"}, body.replace("{n}", f"c{attempt}")


def threads_for(connections: int) -> int:
    return max(1, min(connections, 2))


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for our ASCII values


def script(kind: Kind, workdir: Path, connections: int) -> Path:
    lines = [PRELUDE, f"wrk.method = {_lua(kind.method)}", f"wrk.path = {_lua(kind.path)}"]
    for name, value in kind.headers.items():
        lines.append(f"wrk.headers[{_lua(name)}] = {_lua(value)}")
    if kind.body:
        lines.append(f"wrk.body = {_lua(kind.body)}")
    if kind.rotate:
        data = workdir / f"{kind.key}.tsv"
        data.write_text("".join(f"{p}\t{t}\t{b}\n" for p, t, b in kind.rotate))
        lines.append(ROTATING.format(threads=threads_for(connections), data=data, nonce=secrets.token_hex(4)))
    path = workdir / f"{kind.key}-c{connections}.lua"
    path.write_text("\n".join(lines) + "\n" + DONE)
    return path


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int
    used: int = 0  # rotating lines used (upper bound)


def parse(output: str) -> Result:
    for line in output.splitlines():
        if line.startswith(MARK):
            data = json.loads(line[len(MARK):])
            seconds = data["duration_us"] / 1e6
            return Result(
                requests=data["requests"], seconds=seconds, rps=data["requests"] / seconds if seconds else 0.0,
                p50_ms=data["p50_us"] / 1000, p95_ms=data["p95_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                non_2xx_3xx=data["non_2xx_3xx"], socket_errors=data["socket_errors"], used=data.get("used", 0),
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")


def run(base_url: str, kind: Kind, *, connections: int, seconds: int, workdir: Path) -> Result:
    if not shutil.which(WRK):
        raise RuntimeError(f"{WRK} is missing: apt-get install wrk")
    lua = script(kind, workdir, connections)
    command = [WRK, "-t", str(threads_for(connections)), "-c", str(connections), "-d", f"{int(seconds)}s",
               "--timeout", "10s", "-s", str(lua), base_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse(done.stdout)
    if kind.consume and kind.rotate:
        if result.used >= len(kind.rotate):
            raise RuntimeError(f"{kind.label}: ran out of prepared sessions; raise --confirms")
        kind.rotate = kind.rotate[result.used:]
    return result
