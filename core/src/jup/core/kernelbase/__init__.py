"""The kernel-side server every Python-implemented jup kernel stands on. This docstring is the contract.

Subclass `Kernel`, set the class attributes, override the `do_*` methods; return reply *content*
dicts (the base fills `status` = "ok", `execution_count`, `payload`, `user_expressions` and error
defaults)::

    class MyKernel(Kernel):
        implementation = "my"; implementation_version = "1.0"; banner = ""; help_links = []
        language_info = {"name": "my", "mimetype": "text/plain", "file_extension": ".my"}

        def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
            self.stream("stdout", code)                       # or print(): sys.stdout is captured
            self.execute_result({"text/plain": code})
            return {"status": "ok"}

    if __name__ == "__main__":
        raise SystemExit(MyKernel.main())                     # `python -m mymod -f CONNECTION_FILE`

Where each method runs
    do_execute                 the MAIN thread (signals and GUI toolkits work there). Raising an
                               exception publishes an `error` and replies status "error"; a kernel
                               that returns status "error" itself must publish its `error` first.
    do_complete, do_inspect,   an introspection worker thread, *concurrently with do_execute*,
    do_is_complete, do_history under a deadline (`introspection_deadline`, default 1 s, env
                               JUP_INTROSPECTION_DEADLINE). Past it the client gets an empty reply whose
                               metadata has `jup_skipped` saying why (or what the kernel passed to
                               `partial_reply(content)` so far); the late result is dropped, and a
                               fresh worker serves the next request (at most 4 stuck workers).
    do_shutdown(restart)       the I/O thread, before the reply; keep it short.
    kernel_ready()             the main thread, once, when the sockets are up and before the first
                               execute. Keep it short: kernel_info and introspection are served
                               meanwhile, executes wait. (The Python kernel starts a thread here that
                               loads its shell and plugins, then calls the `jup_kernel_startup` hook
                               on the main thread, at the latest just before the first cell runs.)
    idle_hook()                the main thread, every `idle_interval` (0.05 s) while no execute waits,
                               if set (not None): GUI event loops, background warm-ups. Not in-process.
    idle_waiter.wait(timeout)  the main thread, if set, in place of its plain wait for the next request:
                               runs the kernel's own work (an asyncio loop's tasks) until
                               `idle_waiter.wake()` (called by the queue on every put, from any
                               thread) or `timeout` (idle_interval when an idle_hook is set, else
                               None). A wake that comes before `wait` must make it return at once.
                               If it has `run(fn)`, comm messages and call_on_main functions run as
                               `run(handler)` (in its loop, so they can start tasks); executes do not.

Services (thread-safe unless noted)
    execution_count, parent (the message of the running cell), session (jup.core Session),
    publish(msg_type, content, parent=None, metadata=None, buffers=None)   any iopub message
    stream(name, text, parent=None)      stdout/stderr text, batched (50 ms, up to
                                         0.2 s while output floods, or 1 MiB)
    execute_result(data, metadata=None)  display(data, metadata=None, transient=None, update=False)
    clear_output(wait=False)             send_payload(source, **data) / payloads (reset per cell)
    raw_input(prompt="", password=False) -> str   stdin round trip (main thread). Raises
        StdinNotImplementedError when the cell's request had allow_stdin false, KeyboardInterrupt
        when interrupted, EOFError at shutdown.
    comm_manager                         register_target(name, cb(comm, msg)), open(target, data),
                                         info(); Comm.send/close/on_msg/on_close
    interrupt_main()                     raise KeyboardInterrupt in the thread running cells
    call_on_main(fn)                     run fn() on the main thread between cells (after the
                                         executes queued before it)
    partial_reply(content)               from an introspection method: the answer so far, sent if
                                         the deadline passes before the method returns

Output
    sys.stdout/sys.stderr are `OutStream`s; each write goes to the cell that wrote it: the running
    cell, or for a thread / asyncio task the cell that started it (`threading.Thread.start` is
    wrapped once, process-wide, to remember the cell; outside cells the wrapper does nothing). File descriptors 1 and 2 (C code,
    subprocesses) are captured through pipes and shown in the running cell (`capture_fds`, not in
    in-process mode). Each cell has an output budget (`output_budget` characters, both streams, default
    5,000,000, env JUP_OUTPUT_BUDGET, 0 = unlimited): past it the frontend gets one notice line, the
    full output goes to a file in the runtime dir (removed when the kernel exits unless
    `keep_output_files` / JUP_KEEP_OUTPUT_FILES=1), and the cell's end sends a marker with how much
    was held back and the file's path, then the tail. Frontends fetch the full output with
    output_request {msg_id, name, offset, size} on control (jup extension; execute_reply metadata
    `jup.held_back` says there is some); `held_output(N)` serves `%output N`.

Protocol behaviour
    iopub is an XPUB socket: each new subscriber gets an `iopub_welcome` {subscription} message, so
    a client knows its iopub connection is live. What iopub published before the first subscriber
    came (status "starting", a first cell sent at once) is kept, up to 1000 messages and 2 s after
    start, and sent to that subscriber right after its welcome. The I/O thread answers kernel_info (content has
    `jup.rejected_messages`: bad messages dropped so far, and `jup.pid`) and comm_info; execute_request and comm_* are run in arrival order on the main thread;
    status busy/idle surround every execute and comm message; requests answered while a cell runs
    get no status messages, so the kernel never looks idle while it is busy.
    Control: interrupt_request -> interrupt_reply status "ok" when the cell stopped within
    `interrupt_grace` (1 s, env JUP_INTERRUPT_GRACE), else status "error" (ename InterruptFailed) saying
    the code is stuck in C and a restart will stop it. C code that holds the GIL (e.g.
    `sum(range(10**12))`) starves every Python thread, so no reply comes at all until it ends: a
    client should treat "no interrupt_reply within grace + 1 s" the same way (the heartbeat, echoed in
    C, still answers, which tells "stuck" from "dead"). A kernel process runs with a 1 ms GIL switch
    interval (`switch_interval`) so control messages are served promptly while Python code computes. cancel_request {msg_id} (jup extension) ->
    cancel_reply {cancelled: bool}; the cancelled execute gets execute_reply status "aborted" (no
    status messages). After a cell errors with stop_on_error, the executes received before its
    execute_reply was sent are replied "aborted" (with busy/idle each), and only then is the failed
    cell's idle sent: a cell sent after the client saw the reply or the idle runs.
    debug_request -> debug_reply success false. shutdown_request -> shutdown_reply (also on iopub),
    then the process exits 0; it also exits when the process named by JPY_PARENT_PID dies. SIGINT raises KeyboardInterrupt only while a cell runs (one that arrives after the cell's busy,
    before its code started, stops the cell as it starts). A SIGINT whose Python handler CPython
    left pending (it landed on another thread, or just before the main thread blocked in a sleep or
    a read) is re-sent to the main thread within ~0.1 s (interrupt_watch); a SIGINT handler that
    stands in for the kernel's during a cell calls `kernel.sigint_arrived()` first and has
    `calls_sigint_arrived = True`, else it gets no re-sends.
    iopub has no high-water mark (ZeroMQ's default, 1000, makes a PUB drop silently for a slow
    subscriber): a flood of output waits in the kernel's memory until read; the output budget bounds
    it for text.

In-process mode (the terminal runs the Python kernel in its own process)
    kernel = MyKernel.in_process(context=None)   # started; sockets bound on inproc:// endpoints
    kernel.connection_info   # dict like a connection file: transport "inproc", ip NAME, ports 1-5,
                             # key "" (unsigned); endpoint of a channel = f"inproc://{ip}-{port}"
    kernel.context           # the zmq.Context the client MUST use (inproc needs the same context)
    kernel.pump(timeout)     # run queued executes/comm messages on the CALLING thread (call it from
                             # the main thread while waiting for replies); waits up to `timeout` s
                             # for the first one; returns how many ran
    kernel.shut_down         # threading.Event set after a shutdown_request was answered
    kernel.close()           # stop threads and close the kernel's sockets (the context stays usable)
    sys.stdout/sys.stderr are redirected only while pump runs a cell; fds are never captured; an
    interrupt_request sends SIGINT to the pumping thread (the host's handler raises KeyboardInterrupt).
"""

from jup.core.kernelbase.comm import Comm, CommManager
from jup.core.kernelbase.server import Kernel, StdinNotImplementedError

__all__ = ["Comm", "CommManager", "Kernel", "StdinNotImplementedError"]
