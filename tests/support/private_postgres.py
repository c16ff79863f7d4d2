"""A throw-away PostgreSQL cluster the fault tests may freeze and kill (never the shared one).

`initdb` into a temporary folder, `postgres` on its own port. PostgreSQL refuses to run as root, so
as root the cluster runs as the `postgres` user. Every backend calls setsid(), so signals go to the
postmaster (first, so that it forks no one meanwhile) and then to each of its children: SIGSTOP
freezes the whole server (the kernel still accepts TCP connections, nobody answers), SIGKILL crashes
it. the postmaster and every backend at once.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def binaries() -> Path | None:
    """The newest PostgreSQL bin folder that has initdb and postgres, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    def __init__(self, port: int, bin_dir: Path):
        self.port = port
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="studysync-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.process: subprocess.Popen | None = None
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user:
            os.chmod(self.root, 0o755)
            record = pwd.getpwnam(self._user)
            os.chown(self.root, record.pw_uid, record.pw_gid)
        self._run([str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--no-sync", "--no-instructions"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                   "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=60"]
        log = open(self.log, "a")
        self.process = subprocess.Popen([str(self.bin_dir / "postgres"), "-D", str(self.data),
                                         "-p", str(self.port), *options],
                                        stdout=log, stderr=subprocess.STDOUT, user=self._user,
                                        start_new_session=True)  # Ctrl-C of the tests is not its business
        log.close()
        self.wait_ready()

    def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                     connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"private PostgreSQL did not start: {self.log.read_text()[-2000:]}")
                time.sleep(0.2)

    def create_database(self, name: str) -> None:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def freeze(self) -> None:
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def crash(self) -> None:
        """SIGKILL to every process of the server: what a power cut looks like to its clients."""
        children = self._signal_all(signal.SIGSTOP)
        for pid in [self.process.pid, *children]:
            _kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.crash()
        shutil.rmtree(self.root, ignore_errors=True)

    def _signal_all(self, signum: int) -> list[int]:
        """The postmaster first, then every child it has; returns the children."""
        _kill(self.process.pid, signum)
        children = _children(self.process.pid)
        for pid in children:
            _kill(pid, signum)
        return children

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(command, user=self._user, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:  # after the name: state, ppid, ...
            found.append(int(entry.name))
    return found


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """Running and not a zombie (the children of a killed postmaster are reaped by init)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
