"""A real `pbr serve` process on a free loopback port, spoken to over HTTP.

The long test streams 10,000 generated families through the batch endpoint and checks the
answer is byte for byte what ``pbr evaluate --format json`` writes, with the server's memory
bounded. Every address used is on the loopback interface.
"""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

import pbr
from tests.serve_support import EXAMPLES, generated, library_json

pytestmark = pytest.mark.slow


TOKEN = "a-token-for-the-integration-test-only"
FAMILIES = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def peak_memory_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="utf-8")
        (line,) = [row for row in status.splitlines() if row.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024


def start(folder: Path, *options: str, token: bool = True) -> Server:
    port = free_port()
    log = folder / f"server-{port}.log"
    command = [sys.executable, "-m", "pbr.cli", "serve", "--port", str(port), *options]
    if token:
        path = folder / "token"
        path.write_text(TOKEN + "\n", encoding="utf-8")
        path.chmod(0o600)
        command += ["--token-file", str(path)]
    with log.open("wb") as err:
        process = subprocess.Popen(command, stderr=err, cwd=folder)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pbr serve stopped: {log.read_text(encoding='utf-8')}")
        try:
            if httpx.get(f"{server.url}/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("pbr serve did not answer within 60 s")


def stop(server: Server) -> bool:
    """Stop the server as systemd does; whether it shut down cleanly.

    uvicorn finishes what it was doing, then ends by the signal it was sent.
    """
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=30) in (0, -signal.SIGTERM)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(tmp_path_factory.mktemp("serve"))
    yield running
    if running.process.poll() is None:
        stop(running)


def test_a_real_server_answers_over_http(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=server.auth) as client:
        answer = client.post("/v1/evaluate", params={"as_of": "2015-03-31"}, content=FAMILIES[4])
        assert answer.status_code == 200
        assert answer.text == library_json(FAMILIES[4], date(2015, 3, 31))
        assert answer.headers["x-pbr-version"] == pbr.__version__
        assert "server" not in answer.headers  # no advertising of the stack
    assert (
        httpx.post(f"{server.url}/v1/evaluate", params={"as_of": "2015-03-31"}).status_code == 401
    )
    assert httpx.get(f"{server.url}/v1/health").status_code == 200


@pytest.mark.parametrize("chunked", [False, True])
def test_a_request_that_offers_an_upgrade_keeps_its_body(server: Server, chunked: bool) -> None:
    """Java's HttpClient offers h2c on every plain-HTTP request; the body must still arrive."""
    body = FAMILIES[4].encode()
    framing = (
        b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
        if chunked
        else f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    )
    request = (
        b"POST /v1/evaluate?as_of=2015-03-31 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n".encode()
        + framing
    )
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < 100:
            answer += connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


@pytest.mark.slow
def test_ten_thousand_families_stream_through_byte_identical(
    server: Server, tmp_path: Path
) -> None:
    families = generated(10_000, tmp_path)
    expected = tmp_path / "cli.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pbr.cli",
            "evaluate",
            str(families),
            "--as-of",
            "2015-03-31",
            "--format",
            "json",
            "--output",
            str(expected),
        ],
        check=True,
        capture_output=True,
    )
    got = tmp_path / "served.jsonl"
    with (
        httpx.Client(base_url=server.url, headers=server.auth, timeout=300) as client,
        families.open("rb") as body,  # streamed up, and all sent before the answer is read
        client.stream(
            "POST",
            "/v1/evaluate/batch",
            params={"as_of": "2015-03-31"},
            content=body,
            headers={"Content-Type": "application/x-ndjson"},
        ) as answer,
        got.open("wb") as out,
    ):
        assert answer.status_code == 200
        for part in answer.iter_bytes():
            out.write(part)
    served = got.read_bytes()
    decisions, summary = served[: served.rindex(b"\n", 0, -1) + 1], served.splitlines()[-1]
    assert decisions == expected.read_bytes()
    assert b'"evaluated":10000' in summary
    assert b'"complete":true' in summary
    size_mib = families.stat().st_size / 2**20
    assert server.peak_memory_mib() < 150, (server.peak_memory_mib(), size_mib)


def test_the_log_holds_no_family_data_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    running = start(tmp_path)
    with httpx.Client(base_url=running.url, headers=running.auth) as client:
        for line in FAMILIES[:5]:
            client.post("/v1/evaluate", params={"as_of": "2015-03-31"}, content=line)
        client.post("/v1/evaluate", params={"as_of": "2015-03-31"}, content=b'{"family_id": "LEAK"')
    assert stop(running)
    log = running.log.read_text(encoding="utf-8")
    assert log.count("POST /v1/evaluate") == 6
    assert "LEAK" not in log
    for line in FAMILIES[:5]:
        assert pbr.Family.model_validate_json(line).family_id not in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_several_workers(tmp_path: Path) -> None:
    running = start(tmp_path, "--workers", "2", "--interpretation", "employment_weeks=all_13")
    try:
        with httpx.Client(base_url=running.url, headers=running.auth) as client:
            for line in FAMILIES[:6]:
                answer = client.post("/v1/evaluate", params={"as_of": "2015-03-31"}, content=line)
                expected = library_json(
                    line, date(2015, 3, 31), interpretations={"employment_weeks": "all_13"}
                )
                assert answer.text == expected
    finally:
        assert stop(running)


def _serve(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbr.cli", "serve", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_refusals_are_one_line_and_exit_2(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("abc\n", encoding="utf-8")
    short.chmod(0o600)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        cases = [
            (["--host", "0.0.0.0"], "without a token"),
            (["--token-file", str(tmp_path / "missing")], "cannot read the token file"),
            (["--token-file", str(short)], "at least 16"),
            (["--port", port], "cannot listen on"),
            (["--plan", str(tmp_path / "missing.toml")], "missing.toml"),
            (["--ledger", str(tmp_path / "missing.db")], "no ledger"),
            (["--interpretation", "employment_weeks=never"], "jsa_26_other_13"),
            (["--tls-cert", str(short)], "--tls-key"),
        ]
        for argv, said in cases:
            done = _serve(*argv)
            assert done.returncode == 2, (argv, done.stderr)
            assert done.stderr.startswith("pbr: "), (argv, done.stderr)
            assert said in done.stderr, (argv, done.stderr)
            assert len(done.stderr.strip().splitlines()) == 1, (argv, done.stderr)
            assert "Traceback" not in done.stderr


def test_a_file_name_in_a_refusal_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """The token file's warning and a missing ledger's refusal escape the names they quote."""
    token = tmp_path / "t\x1b]0;x\x07"
    token.write_text("a-token-of-sixteen-or-more\n", encoding="utf-8")
    token.chmod(0o644)  # readable by others: warned
    done = _serve("--token-file", str(token), "--ledger", str(tmp_path / "l\x1b[2J.db"))
    assert done.returncode == 2, done.stderr
    assert "\x1b" not in done.stderr
    assert "\x07" not in done.stderr
    assert "t\\x1b]0;x\\x07 can be read by other users" in done.stderr
    assert "l\\x1b[2J.db" in done.stderr


def test_without_the_serve_extra_it_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None; from pbr.cli import main; "
        "raise SystemExit(main(['serve']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "pbr: pbr serve needs the serve extra (uvicorn is missing): pip install 'pbr-claims[serve]'"
    ]


def test_a_world_readable_token_file_is_warned_about(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN, encoding="utf-8")
    token.chmod(0o644)
    done = _serve("--token-file", str(token), "--plan", str(tmp_path / "missing.toml"))
    assert done.returncode == 2
    assert "can be read by other users" in done.stderr.splitlines()[0]


def _fenced(language: str, containing: str) -> str:
    """The first block of `language` on docs/serve.md that contains `containing`."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "serve.md").read_text(encoding="utf-8")
    for block in page.split(f"```{language}\n")[1:]:
        code = block.split("\n```", 1)[0]
        if containing in code:
            return code
    raise AssertionError(f"no {language} block with {containing!r} on docs/serve.md")


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    import shutil

    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(EXAMPLES, folder / "examples")
    running = start(folder, token=False)
    yield running, folder
    stop(running)


@pytest.mark.slow
def test_the_curl_examples_of_the_docs_work(open_server: tuple[Server, Path]) -> None:
    if shutil_which("curl") is None:
        pytest.skip("no curl")
    server, folder = open_server
    script = _fenced("sh", "curl").replace("http://127.0.0.1:8000", server.url)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decisions = (folder / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(decisions) == len(FAMILIES) + 1
    assert '"complete":true' in decisions[-1]
    assert decisions[-1] in done.stdout
    assert "Working paper: family" in done.stdout
    assert (
        (folder / "audit.html")
        .read_text(encoding="utf-8")
        .lstrip()
        .lower()
        .startswith("<!doctype html")
    )


@pytest.mark.slow
def test_the_java_example_of_the_docs_works(open_server: tuple[Server, Path]) -> None:
    if shutil_which("java") is None:
        pytest.skip("no Java")
    server, folder = open_server
    (folder / "PbrClient.java").write_text(
        _fenced("java", "class PbrClient").replace("http://127.0.0.1:8000", server.url),
        encoding="utf-8",
    )
    (folder / "family.json").write_text(FAMILIES[0] + "\n", encoding="utf-8")
    (folder / "families.jsonl").write_text("\n".join(FAMILIES) + "\n", encoding="utf-8")
    done = subprocess.run(
        ["java", "PbrClient.java"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first, *_, last = done.stdout.splitlines()
    assert first.startswith("200 rules hash ")
    assert last.startswith('{"summary":')
    assert '"complete":true' in last


def shutil_which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


@pytest.mark.slow
def test_https_with_a_certificate(tmp_path: Path) -> None:
    if shutil_which("openssl") is None:
        pytest.skip("no openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    port = free_port()
    log = tmp_path / "server.log"
    token = tmp_path / "token"
    token.write_text(TOKEN, encoding="utf-8")
    token.chmod(0o600)
    command = [sys.executable, "-m", "pbr.cli", "serve", "--port", str(port)]
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--token-file", str(token)]
    with log.open("wb") as err:
        process = subprocess.Popen([*command, *tls], stderr=err)
    server = Server(f"https://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.post(
                    f"{server.url}/v1/evaluate",
                    params={"as_of": "2015-03-31"},
                    content=FAMILIES[2],
                    headers=server.auth,
                    verify=ssl.create_default_context(cafile=str(cert)),
                    timeout=5,
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(log.read_text(encoding="utf-8"))
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.text == library_json(FAMILIES[2], date(2015, 3, 31))
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)  # no plain HTTP
        assert "https://127.0.0.1" in log.read_text(encoding="utf-8")
    finally:
        assert stop(server)
