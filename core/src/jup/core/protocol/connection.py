"""Connection files as Jupyter writes them: ip, five ports, key, signature scheme, transport."""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jup.core.errors import ConfigError

CHANNELS = ("shell", "iopub", "stdin", "control", "hb")


def _free_ports(n: int, ip: str) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            s.bind((ip, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


@dataclass
class ConnectionInfo:
    """Where a kernel listens and how messages are signed."""

    ip: str = "127.0.0.1"
    transport: str = "tcp"
    shell_port: int = 0
    iopub_port: int = 0
    stdin_port: int = 0
    control_port: int = 0
    hb_port: int = 0
    key: str = field(default_factory=lambda: secrets.token_hex(32))
    signature_scheme: str = "hmac-sha256"
    kernel_name: str = ""

    @classmethod
    def allocate(cls, ip: str = "127.0.0.1", transport: str = "tcp", kernel_name: str = "",
                 ipc_base: str | None = None) -> ConnectionInfo:
        """New connection info with free ports (tcp) or fresh ipc endpoints, and a random key."""
        info = cls(ip=ip, transport=transport, kernel_name=kernel_name)
        if transport == "tcp":
            for ch, port in zip(CHANNELS, _free_ports(5, ip), strict=True):
                setattr(info, f"{ch}_port", port)
        else:
            info.ip = ipc_base or os.path.join(runtime_dir(), f"kernel-ipc-{secrets.token_hex(4)}")
            for i, ch in enumerate(CHANNELS, 1):
                setattr(info, f"{ch}_port", i)
        return info

    def ports_in_use(self) -> list[int]:
        """The tcp ports of this info that someone is listening on now (none for ipc).

        Ports are picked free but are only bound later, by the kernel: another process may take one
        in between. Checked the way a ZeroMQ kernel binds (SO_REUSEADDR, so a closed connection's
        TIME_WAIT does not count), this tells a manager that a kernel died of that race.
        """
        if self.transport != "tcp":
            return []
        taken = []
        for ch in CHANNELS:
            port = getattr(self, f"{ch}_port")
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((self.ip, port))
                except OSError:
                    taken.append(port)
        return taken

    def url(self, channel: str) -> str:
        """The zmq endpoint of one channel."""
        port = getattr(self, f"{channel}_port")
        if self.transport == "tcp":
            return f"tcp://{self.ip}:{port}"
        return f"ipc://{self.ip}-{port}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, source: str = "connection info") -> ConnectionInfo:
        """Read a dict as found in a connection file; unknown keys are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        try:
            info = cls(**{k: v for k, v in d.items() if k in known})
        except TypeError as e:
            raise ConfigError(f"{source} is not a valid connection file: {e}") from None
        if isinstance(info.key, bytes):
            info.key = info.key.decode()
        return info

    def write(self, path: str | os.PathLike) -> Path:
        """Write the file with mode 0600, created that way so the key is never world-readable."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.to_dict(), f, indent=1)
        os.chmod(path, 0o600)
        return path

    @classmethod
    def read(cls, path: str | os.PathLike) -> ConnectionInfo:
        """Load a connection file, with an error that names it when it cannot be used."""
        try:
            with open(path) as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"Connection file {path} does not exist; check the path or start the kernel first.") from None
        except ValueError as e:
            raise ConfigError(f"Connection file {path} is not valid JSON ({e}).") from None
        return cls.from_dict(data, str(path))


def runtime_dir() -> str:
    """Jupyter's runtime dir (JUPYTER_RUNTIME_DIR, else the platform's data dir + runtime)."""
    from jup.core.paths import jupyter_runtime_dir
    return jupyter_runtime_dir()


def find_connection_file(name: str | None = None) -> Path:
    """Resolve `--existing [NAME]`: a path, a file in the runtime dir, or the newest kernel-*.json."""
    rd = Path(runtime_dir())
    if name:
        for cand in (Path(name), rd / name, rd / f"kernel-{name}.json"):
            if cand.is_file():
                return cand
        raise ConfigError(f"No connection file {name!r} here or in {rd}.")
    files = sorted(rd.glob("kernel-*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise ConfigError(f"No running kernel found: {rd} has no kernel-*.json. Start one with `jup kernel`.")
    return files[-1]
