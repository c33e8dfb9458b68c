"""Runs a command on a pseudo-terminal (what a person at a keyboard gives it), waits for a prompt,
types one line, and prints {"out": everything the terminal showed, "code": exit code} as JSON.
Usage: pty-run.py PROMPT LINE TIMEOUT_S -- ARGV...   (the environment is passed through)."""
import json
import os
import pty
import select
import sys
import time

prompt, line, timeout = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
argv = sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
typed = False
deadline = time.time() + timeout
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if not typed and prompt in out:
        os.write(fd, line + b"\r")
        typed = True
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0) if not done else (done, status)
print(json.dumps({"out": out.decode("utf-8", "replace"), "code": os.waitstatus_to_exitcode(status)}))
