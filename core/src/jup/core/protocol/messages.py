"""Message headers and typed constructors for every message type of the Jupyter protocol (5.4).

Each constructor returns the `content` dict of one message type, so callers write
`session.msg("execute_request", execute_request("1+1"))` and a typo in a field is a TypeError.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

PROTOCOL_VERSION = "5.4"

#: Which channel carries each message type (requests and their replies share one).
CHANNEL_OF: dict[str, str] = {
    **{t: "shell" for t in (
        "execute_request", "execute_reply", "inspect_request", "inspect_reply", "complete_request",
        "complete_reply", "history_request", "history_reply", "is_complete_request", "is_complete_reply",
        "kernel_info_request", "kernel_info_reply", "comm_info_request", "comm_info_reply",
        "comm_open", "comm_msg", "comm_close")},
    **{t: "control" for t in (
        "shutdown_request", "shutdown_reply", "interrupt_request", "interrupt_reply",
        "debug_request", "debug_reply", "cancel_request", "cancel_reply", "output_request",
        "output_reply")},
    **{t: "iopub" for t in (
        "stream", "display_data", "update_display_data", "execute_input", "execute_result", "error",
        "status", "clear_output", "debug_event")},
    **{t: "stdin" for t in ("input_request", "input_reply")},
}

_PID = os.getpid()


def new_id() -> str:
    """A fresh message or session id."""
    return uuid.uuid4().hex


def now_iso() -> str:
    """The current time as the ISO 8601 string the protocol wants in headers."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def make_header(msg_type: str, session: str, username: str = "jup", subshell_id: str | None = None) -> dict:
    """A message header with a unique id and the current time."""
    h = {"msg_id": new_id(), "msg_type": msg_type, "username": username, "session": session,
         "date": now_iso(), "version": PROTOCOL_VERSION}
    if subshell_id is not None:
        h["subshell_id"] = subshell_id
    return h


def make_message(msg_type: str, content: dict | None = None, parent: dict | None = None,
                 session: str = "", metadata: dict | None = None, buffers: list | None = None,
                 username: str = "jup") -> dict:
    """A complete message dict, its parent_header taken from `parent`'s header."""
    header = make_header(msg_type, session, username)
    return {"header": header, "msg_id": header["msg_id"], "msg_type": msg_type,
            "parent_header": (parent or {}).get("header", {}) if parent else {},
            "metadata": metadata or {}, "content": content if content is not None else {},
            "buffers": buffers or []}


# ---- shell ------------------------------------------------------------------------------------

def execute_request(code: str, silent: bool = False, store_history: bool = True,
                    user_expressions: dict | None = None, allow_stdin: bool = True,
                    stop_on_error: bool = True) -> dict:
    """Content of an execute_request."""
    return {"code": code, "silent": silent, "store_history": store_history,
            "user_expressions": user_expressions or {}, "allow_stdin": allow_stdin,
            "stop_on_error": stop_on_error}


def execute_reply(status: str, execution_count: int, user_expressions: dict | None = None,
                  payload: list | None = None, **error: Any) -> dict:
    """Content of an execute_reply; pass ename/evalue/traceback when status is 'error'."""
    c = {"status": status, "execution_count": execution_count}
    if status == "ok":
        c["user_expressions"] = user_expressions or {}
        c["payload"] = payload or []
    c.update(error)
    return c


def inspect_request(code: str, cursor_pos: int | None = None, detail_level: int = 0) -> dict:
    """Content of an inspect_request."""
    return {"code": code, "cursor_pos": len(code) if cursor_pos is None else cursor_pos,
            "detail_level": detail_level}


def inspect_reply(found: bool, data: dict | None = None, metadata: dict | None = None,
                  status: str = "ok") -> dict:
    """Content of an inspect_reply."""
    return {"status": status, "found": found, "data": data or {}, "metadata": metadata or {}}


def complete_request(code: str, cursor_pos: int | None = None) -> dict:
    """Content of a complete_request."""
    return {"code": code, "cursor_pos": len(code) if cursor_pos is None else cursor_pos}


def complete_reply(matches: list[str], cursor_start: int, cursor_end: int,
                   metadata: dict | None = None, status: str = "ok") -> dict:
    """Content of a complete_reply."""
    return {"status": status, "matches": matches, "cursor_start": cursor_start,
            "cursor_end": cursor_end, "metadata": metadata or {}}


def history_request(hist_access_type: str = "tail", output: bool = False, raw: bool = True,
                    session: int = 0, start: int = 0, stop: int | None = None, n: int | None = 10,
                    pattern: str = "*", unique: bool = False) -> dict:
    """Content of a history_request ('tail', 'range' or 'search')."""
    c: dict[str, Any] = {"hist_access_type": hist_access_type, "output": output, "raw": raw}
    if hist_access_type == "range":
        c.update(session=session, start=start, stop=stop)
    elif hist_access_type == "tail":
        c.update(n=n)
    elif hist_access_type == "search":
        c.update(n=n, pattern=pattern, unique=unique)
    return c


def history_reply(history: list, status: str = "ok") -> dict:
    """Content of a history_reply: a list of (session, line, input) or (session, line, (input, output))."""
    return {"status": status, "history": [list(h) if not isinstance(h, list) else h for h in history]}


def is_complete_request(code: str) -> dict:
    """Content of an is_complete_request."""
    return {"code": code}


def is_complete_reply(status: str, indent: str = "") -> dict:
    """Content of an is_complete_reply: complete, incomplete (with indent), invalid or unknown."""
    c = {"status": status}
    if status == "incomplete":
        c["indent"] = indent
    return c


def kernel_info_request() -> dict:
    """Content of a kernel_info_request (empty)."""
    return {}


def kernel_info_reply(implementation: str, implementation_version: str, language_info: dict,
                      banner: str = "", help_links: list | None = None, debugger: bool = False,
                      status: str = "ok", **extra: Any) -> dict:
    """Content of a kernel_info_reply."""
    return {"status": status, "protocol_version": PROTOCOL_VERSION, "implementation": implementation,
            "implementation_version": implementation_version, "language_info": language_info,
            "banner": banner, "help_links": help_links or [], "debugger": debugger, **extra}


def comm_info_request(target_name: str | None = None) -> dict:
    """Content of a comm_info_request, optionally filtered by target."""
    return {"target_name": target_name} if target_name else {}


def comm_info_reply(comms: dict, status: str = "ok") -> dict:
    """Content of a comm_info_reply: {comm_id: {"target_name": ...}}."""
    return {"status": status, "comms": comms}


def comm_open(comm_id: str, target_name: str, data: dict | None = None,
              target_module: str | None = None) -> dict:
    """Content of a comm_open."""
    c = {"comm_id": comm_id, "target_name": target_name, "data": data or {}}
    if target_module:
        c["target_module"] = target_module
    return c


def comm_msg(comm_id: str, data: dict | None = None) -> dict:
    """Content of a comm_msg."""
    return {"comm_id": comm_id, "data": data or {}}


def comm_close(comm_id: str, data: dict | None = None) -> dict:
    """Content of a comm_close."""
    return {"comm_id": comm_id, "data": data or {}}


# ---- control ----------------------------------------------------------------------------------

def shutdown_request(restart: bool = False) -> dict:
    """Content of a shutdown_request."""
    return {"restart": restart}


def shutdown_reply(restart: bool = False, status: str = "ok") -> dict:
    """Content of a shutdown_reply."""
    return {"status": status, "restart": restart}


def interrupt_request() -> dict:
    """Content of an interrupt_request (empty)."""
    return {}


def interrupt_reply(status: str = "ok", **error: Any) -> dict:
    """Content of an interrupt_reply; jup kernels say 'error' with evalue when the code could not be stopped."""
    return {"status": status, **error}


def cancel_request(msg_id: str) -> dict:
    """Content of a jup cancel_request: drop one queued execute_request without touching the running one."""
    return {"msg_id": msg_id}


def cancel_reply(cancelled: bool, status: str = "ok") -> dict:
    """Content of a cancel_reply."""
    return {"status": status, "cancelled": cancelled}


def output_request(msg_id: str, name: str | None = None, offset: int = 0, size: int = 1 << 20) -> dict:
    """Content of a jup output_request: a chunk of the output a cell's budget held back."""
    content: dict[str, Any] = {"msg_id": msg_id, "offset": offset, "size": size}
    if name is not None:
        content["name"] = name
    return content


def output_reply(name: str, text: str, offset: int, next_offset: int, total: int, eof: bool,
                 held: dict | None = None, status: str = "ok") -> dict:
    """Content of an output_reply (offsets and sizes in bytes of the UTF-8 output)."""
    return {"status": status, "name": name, "text": text, "offset": offset, "next_offset": next_offset,
            "total": total, "eof": eof, "held": held or {}}


def debug_request(command: str, arguments: dict | None = None, seq: int = 1) -> dict:
    """Content of a debug_request (a DAP request)."""
    return {"type": "request", "seq": seq, "command": command, "arguments": arguments or {}}


def debug_reply(content: dict) -> dict:
    """Content of a debug_reply (a DAP response)."""
    return dict(content)


# ---- iopub ------------------------------------------------------------------------------------

def stream(name: str, text: str) -> dict:
    """Content of a stream message (name is 'stdout' or 'stderr')."""
    return {"name": name, "text": text}


def display_data(data: dict, metadata: dict | None = None, transient: dict | None = None) -> dict:
    """Content of a display_data message."""
    return {"data": data, "metadata": metadata or {}, "transient": transient or {}}


def update_display_data(data: dict, display_id: str, metadata: dict | None = None) -> dict:
    """Content of an update_display_data message."""
    return {"data": data, "metadata": metadata or {}, "transient": {"display_id": display_id}}


def execute_input(code: str, execution_count: int) -> dict:
    """Content of an execute_input broadcast."""
    return {"code": code, "execution_count": execution_count}


def execute_result(execution_count: int, data: dict, metadata: dict | None = None) -> dict:
    """Content of an execute_result."""
    return {"execution_count": execution_count, "data": data, "metadata": metadata or {}}


def error(ename: str, evalue: str, traceback: list[str]) -> dict:
    """Content of an error message (also the error fields of a reply)."""
    return {"ename": ename, "evalue": evalue, "traceback": traceback}


def status(execution_state: str) -> dict:
    """Content of a status message: 'busy', 'idle' or 'starting'."""
    return {"execution_state": execution_state}


def clear_output(wait: bool = False) -> dict:
    """Content of a clear_output message."""
    return {"wait": wait}


def debug_event(event: str, body: dict | None = None, seq: int = 1) -> dict:
    """Content of a debug_event (a DAP event)."""
    return {"type": "event", "seq": seq, "event": event, "body": body or {}}


# ---- stdin ------------------------------------------------------------------------------------

def input_request(prompt: str = "", password: bool = False) -> dict:
    """Content of an input_request."""
    return {"prompt": prompt, "password": password}


def input_reply(value: str) -> dict:
    """Content of an input_reply."""
    return {"value": value}


