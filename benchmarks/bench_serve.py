"""Benchmark `pbr serve` on the loopback interface: one family per request, and batches.

``python benchmarks/bench_serve.py [--clients 32] [--requests 4000] [--batches 200]
[--batch-size 100] [--workers 1 2] [--seconds 120] [--serve-options '...']``: generates families
(benchmarks/generate.py), starts ``pbr serve`` on a free port of 127.0.0.1 and, for each
worker count, measures

* one client, one family per request, one after another (latency with no queue);
* ``--clients`` clients at once, one family per request;
* ``--clients`` clients at once, ``--batch-size`` families per batch request;

with families per second, median and 99th-percentile latency, the server's CPU time per family
(user and system, every server process: unlike wall time, it hardly depends on what else the
machine is doing), errors, and the server's memory (resident set at start, and its peak, of
every server process). The library alone, in this process, on the same families, gives the
floor. Every request loop is bounded
in count and in time (``--seconds`` per scenario), and only 127.0.0.1 is ever contacted. The
client is a minimal keep-alive HTTP/1.1 client on asyncio, so that it takes as little of the
machine's CPU as it can (it shares the cores with the server). Prints a Markdown table. Not a
test: compare figures from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2015-03-31"


@dataclass
class Result:
    scenario: str
    workers: int
    families: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    memory_start: float = 0.0
    memory_peak: float = 0.0
    cpu: float = 0.0
    """Server CPU seconds (user and system, all its processes) spent on the scenario."""

    def row(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        rate = self.families / self.seconds if self.seconds else 0.0
        cpu = self.cpu / self.families * 1e6 if self.families else 0.0
        return (
            f"| {self.scenario} | {self.workers} | {len(self.latencies):,} | {self.families:,} "
            f"| {rate:,.0f} | {p50:.1f} | {p99:.1f} | {cpu:,.0f} | {self.errors} "
            f"| {self.memory_start:.0f} → {self.memory_peak:.0f} |"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_memory(pid: int) -> tuple[float, float]:
    """Resident and peak resident MiB of the server and its worker processes, added up."""
    rss = peak = 0.0
    pids = [pid, *_children(pid)]
    for one in pids:
        try:
            status = Path(f"/proc/{one}/status").read_text(encoding="utf-8")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields["VmRSS"].split()[0]) / 1024
        peak += int(fields["VmHWM"].split()[0]) / 1024
    return rss, peak


def server_cpu(pid: int) -> float:
    """CPU seconds (user and system) used so far by the server and its worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for one in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime and stime
    return total / ticks


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8")
    except OSError:
        return []
    found = [int(p) for p in text.split()]
    return found + [c for p in found for c in _children(p)]


class Connection:
    """One keep-alive HTTP/1.1 connection to the server: just enough to time requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, chunked = None, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value:
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length or 0)
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return status, b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run_clients(
    port: int, clients: int, bodies: list[tuple[bytes, int]], path: str, seconds: float
) -> Result:
    """`clients` connections sending `bodies` (body, families in it) until done or out of time."""
    result = Result("", 0)
    queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        connection = Connection(port)
        try:
            while not queue.empty() and time.perf_counter() < deadline:
                body, families = queue.get_nowait()
                started = time.perf_counter()
                try:
                    status, answer = await connection.post(path, body)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.errors += 1
                    connection.close()
                    connection = Connection(port)
                    continue
                result.latencies.append(time.perf_counter() - started)
                if status != 200 or (families > 1 and b'"complete":true' not in answer[-400:]):
                    result.errors += 1
                else:
                    result.families += families
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def in_process(lines: list[bytes], requests: int) -> list[str]:
    """The library alone on the same families, one call per family and one stream: the floor."""
    from datetime import date

    from pbr.batch import evaluate_many_json

    when = date.fromisoformat(AS_OF)
    rows = []
    sample = lines[: min(requests, 1000)]
    started, cpu = time.perf_counter(), time.process_time()
    for line in sample:
        list(evaluate_many_json([line.decode()], as_of=when, workers=1))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows.append(
        f"| library in process, 1 family a call | – | {len(sample):,} | {len(sample):,} "
        f"| {len(sample) / seconds:,.0f} | {seconds / len(sample) * 1000:.1f} | "
        f"| {cpu / len(sample) * 1e6:,.0f} | | |"
    )
    started, cpu = time.perf_counter(), time.process_time()
    for _ in evaluate_many_json((line.decode() for line in lines), as_of=when, workers=1):
        pass
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows.append(
        f"| library in process, one stream | – | 1 | {len(lines):,} "
        f"| {len(lines) / seconds:,.0f} | | | {cpu / len(lines) * 1e6:,.0f} | | |"
    )
    return rows


def start_server(
    workers: int, folder: Path, extra: list[str]
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = (folder / f"server-{workers}.log").open("wb")
    command = [sys.executable, "-m", "pbr.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers), *extra], stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(1.0 if workers > 1 else 0.2)  # let every worker start
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("pbr serve did not start")


def scenario(
    name: str,
    workers: int,
    process: subprocess.Popen[bytes],
    port: int,
    clients: int,
    bodies: list[tuple[bytes, int]],
    path: str,
    seconds: float,
) -> Result:
    start_rss, _ = server_memory(process.pid)
    cpu = server_cpu(process.pid)
    result = asyncio.run(run_clients(port, clients, bodies, path, seconds))
    result.cpu = server_cpu(process.pid) - cpu
    _, peak = server_memory(process.pid)
    result.scenario, result.workers = name, workers
    result.memory_start, result.memory_peak = start_rss, peak
    print(result.row(), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000, help="one-family requests")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=120, help="time limit per scenario")
    parser.add_argument(
        "--serve-options",
        default="",
        help="more options for pbr serve, given with '=': --serve-options='--no-access-log'",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # gigabytes at 50,000 families
    n = max(args.requests, args.batches * args.batch_size)
    families = folder / "families.jsonl"
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(families)], check=True)
    lines = families.read_bytes().splitlines()
    single = [(lines[i % len(lines)], 1) for i in range(args.requests)]
    batches = [
        (
            b"\n".join(lines[i * args.batch_size : (i + 1) * args.batch_size]) + b"\n",
            args.batch_size,
        )
        for i in range(args.batches)
    ]
    one = f"/v1/evaluate?as_of={AS_OF}"
    many = f"/v1/evaluate/batch?as_of={AS_OF}"
    print(f"{n:,} generated families, {families.stat().st_size / n / 1024:.1f} KB each\n")
    print(
        "| scenario | workers | requests | families | families/s | p50 ms | p99 ms "
        "| CPU µs/family | errors | server MiB (start → peak) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in in_process(lines, args.requests):
        print(row, flush=True)
    for workers in args.workers:
        process, port = start_server(workers, folder, shlex.split(args.serve_options))
        try:
            warm = single[: 50 * workers]
            asyncio.run(run_clients(port, workers, warm, one, args.seconds))
            sequential = single[: min(1000, len(single))]
            scenario("1 client, 1 family", workers, process, port, 1, sequential, one, args.seconds)
            scenario(
                f"{args.clients} clients, 1 family",
                workers,
                process,
                port,
                args.clients,
                single,
                one,
                args.seconds,
            )
            scenario(
                f"{args.clients} clients, batches of {args.batch_size}",
                workers,
                process,
                port,
                args.clients,
                batches,
                many,
                args.seconds,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    print(f"\nserver logs in {folder}")


if __name__ == "__main__":
    main()
