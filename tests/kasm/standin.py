#!/usr/bin/env python3
"""The stand-in Kasm: the Developer API of kasm_api.py served over HTTPS on 127.0.0.1, with a
certificate of a CA made at run time by openssl (so a client verifies it with --cacert), and a
test-only control channel on a second, plain-HTTP loopback port.

In a test:

    with StandIn(workdir) as kasm:            # kasm.url, kasm.cacert, kasm.key_file
        kasm.seed_users([{"username": "alice", "groups": ["legal"]}])
        kasm.fault(call="add_user_group", kind="503", nth=2)
        ... run the client ...
        kasm.counters()["writes"], kasm.state()

From a shell (a client's own tests):

    standin.py serve DIR          # writes DIR/standin.json (url, control, cacert, key_file)
    standin.py ctl DIR OP [JSON]  # POST JSON to the control channel, print the answer

Control operations (POST /_standin/OP with a JSON object; GET for the read-only ones):
  state                  users, groups (settings, members), sessions, workspace
  counters               {"calls": {call: n}, "writes": n applied, "write_attempts": n,
                          "faults": n injected, "log": [{"t", "call", "applied", "body"}...]}
  reset_counters         zero the counters and the log
  seed_users             {"users": [{"username", "groups": [names]}]}: users as SSO makes them
  delete_user            {"username"}
  fault                  {"call": NAME|"*", "kind": "500".."599"|"429"|"timeout"|"drop"|
                          "drop_after"|"refuse", "nth": N | "rate": P with "seed": S,
                          "times": N (default 1; 0 = unlimited), "writes_only": bool,
                          "seconds": S (timeout/refuse)} -> {"fault_id"}
  clear_faults
  workspace              {"run_config_volumes", "volume_mappings"}: the workspace's mounts
  request_kasm           {"username"}: start a session (a container when a launcher is set)
  destroyed              the sessions ended, each with its end time (time.time())

Fault kinds: an HTTP status (the call is not applied); `timeout` holds the request `seconds`
(default 30) and then closes without an answer (not applied); `drop` closes the connection
before applying; `drop_after` applies the call and then closes without an answer (the client
cannot know it happened); `refuse` closes this connection and the listening socket for
`seconds` (default 3): connections are refused until it is back on the same port.
"""
import http.server
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kasm_api  # noqa: E402
from kasm_api import KasmError  # noqa: E402


def make_ca(directory, name="vaultshim stand-in Kasm CA"):
    """A CA (ca.pem, ca.key) made by openssl; returns the certificate's path."""
    os.makedirs(directory, exist_ok=True)
    key, cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert


def make_server_cert(directory, ca_dir, names=("IP:127.0.0.1", "DNS:localhost")):
    """A server certificate for 127.0.0.1 and localhost signed by the CA in ca_dir; returns
    (cert, key)."""
    key, csr = os.path.join(directory, "server.key"), os.path.join(directory, "server.csr")
    cert, ext = os.path.join(directory, "server.pem"), os.path.join(directory, "server.ext")
    with open(ext, "w", encoding="utf-8") as f:
        f.write(f"subjectAltName={','.join(names)}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                    "-keyout", key, "-out", csr], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-days", "2", "-CA",
                    os.path.join(ca_dir, "ca.pem"), "-CAkey", os.path.join(ca_dir, "ca.key"),
                    "-CAcreateserial", "-extfile", ext, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


class Fault:
    def __init__(self, spec, fault_id):
        self.id = fault_id
        self.call = spec.get("call", "*")
        self.kind = str(spec["kind"])
        if not (self.kind in ("timeout", "drop", "drop_after", "refuse", "429")
                or (self.kind.isdigit() and 500 <= int(self.kind) <= 599)):
            raise ValueError(f"fault kind {self.kind!r}")
        self.nth = spec.get("nth")
        self.rate = spec.get("rate")
        if (self.nth is None) == (self.rate is None):
            raise ValueError("a fault needs exactly one of nth and rate")
        self.rng = random.Random(spec.get("seed", 0))
        self.times = spec.get("times", 1)
        self.writes_only = spec.get("writes_only", False)
        self.seconds = spec.get("seconds", 30 if self.kind == "timeout" else 3)
        self.seen = 0
        self.fired = 0

    def fires(self, call):
        """Counts a matching call; True when this one is to fail."""
        if self.call not in ("*", call) or (self.writes_only and call not in kasm_api.WRITE_CALLS):
            return False
        if self.times and self.fired >= self.times:
            return False
        self.seen += 1
        hit = self.seen >= self.nth if self.nth is not None else self.rng.random() < self.rate
        if hit:
            self.fired += 1
        return hit


class StandIn:
    """The stand-in Kasm, serving in threads of this process."""

    def __init__(self, workdir, seed=0, launcher=None):
        self.workdir = workdir
        self.kasm = kasm_api.Kasm(seed)
        self.launcher = launcher                # launch(kasm), destroy(kasm); None: records only
        self.faults = []
        self.lock = threading.Lock()
        self.destroyed = []
        self.connections = set()               # open API connections: `refuse` closes them
        self.reset_counters()
        self.api_key = self.kasm.new_id()[:12]
        self.api_secret = self.kasm.new_id()
        self.api_server = self.control_server = None
        self.port = 0

    # --- lifetime --------------------------------------------------------------------------

    def __enter__(self):
        os.makedirs(self.workdir, exist_ok=True)
        tls = os.path.join(self.workdir, "tls")
        self.cacert = make_ca(tls)
        self.cert, self.key = make_server_cert(tls, tls)
        self.key_file = os.path.join(self.workdir, "api-key")
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{self.api_key}:{self.api_secret}\n")
        self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls_context.load_cert_chain(self.cert, self.key)
        self._listen_api()
        self.url = f"https://127.0.0.1:{self.port}"
        self.control_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
        self.control_server.standin = self
        self.control = f"http://127.0.0.1:{self.control_server.server_address[1]}"
        threading.Thread(target=self.control_server.serve_forever, daemon=True).start()
        return self

    def _listen_api(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), ApiHandler,
                                                 bind_and_activate=False)
        server.daemon_threads = True
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.server_bind()
        server.server_activate()
        server.socket = self.tls_context.wrap_socket(server.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        server.standin = self
        self.port = server.server_address[1]
        self.api_server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def _close_api(self):
        server, self.api_server = self.api_server, None
        if server:
            server.shutdown()
            server.server_close()

    def refuse(self, seconds):
        """Close the listening socket and every open connection now: connections are
        refused for `seconds`, then it listens again on the same port."""
        self._close_api()
        with self.lock:
            open_now = list(self.connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def back():
            time.sleep(seconds)
            for _ in range(50):
                try:
                    self._listen_api()
                    return
                except OSError:
                    time.sleep(0.1)
        threading.Thread(target=back, daemon=True).start()

    def __exit__(self, *exc):
        self._close_api()
        if self.control_server:
            self.control_server.shutdown()
            self.control_server.server_close()
        if self.launcher:
            for kasm in list(self.kasm.sessions.values()):
                self.launcher.destroy(kasm)
        return False

    def info(self):
        return {"url": self.url, "control": self.control, "cacert": self.cacert,
                "key_file": self.key_file}

    # --- what the handlers call ------------------------------------------------------------

    def reset_counters(self):
        with self.lock:
            self.calls, self.log = {}, []
            self.writes = self.write_attempts = self.faults_fired = 0

    def counters(self):
        with self.lock:
            return {"calls": dict(self.calls), "writes": self.writes,
                    "write_attempts": self.write_attempts, "faults": self.faults_fired,
                    "log": list(self.log)}

    def fault(self, **spec):
        with self.lock:
            f = Fault(spec, len(self.faults) + 1)
            self.faults.append(f)
            return f.id

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def pick_fault(self, call):
        with self.lock:
            self.calls[call] = self.calls.get(call, 0) + 1
            if call in kasm_api.WRITE_CALLS:
                self.write_attempts += 1
            for f in self.faults:
                if f.fires(call):
                    self.faults_fired += 1
                    self.log.append({"t": time.time(), "call": call, "fault": f.kind})
                    return f
        return None

    def applied(self, call, body):
        if call in kasm_api.WRITE_CALLS:
            args = {k: v for k, v in body.items() if k not in ("api_key", "api_key_secret")}
            with self.lock:
                self.writes += 1
                self.log.append({"t": time.time(), "call": call, "applied": True, "body": args})

    def call(self, call, body):
        """One API call: the reply object, or KasmError.  A session the call ended has its
        container removed before the reply goes out."""
        ended = None
        if call == "destroy_kasm":
            ended = self.kasm.sessions.get(body.get("kasm_id"))
        reply = self.kasm.call(call, body)
        if ended is not None:
            self._ended(ended)
        return reply

    def _ended(self, kasm):
        if self.launcher:
            self.launcher.destroy(kasm)
        with self.lock:
            self.destroyed.append({"kasm_id": kasm["kasm_id"], "username": kasm["username"],
                                   "ended": time.time()})

    def seed_users(self, users):
        return [self.kasm.add_user(u["username"], u.get("groups", ())) for u in users]

    def request_kasm(self, username):
        user = self.kasm.user_by_name(username)
        if user is None:
            raise KasmError(f"user {username} not found")
        kasm = self.kasm.new_session(user)
        # With a launcher Docker itself refuses two host paths on one container path.
        problem = None if self.launcher else \
            self.kasm.duplicate_mount_point(kasm["_volume_mappings"])
        try:
            if problem:
                raise KasmError(problem)
            if self.launcher:
                self.launcher.launch(kasm)
        except Exception:
            self.kasm.end_session(kasm["kasm_id"])
            raise
        kasm["operational_status"] = "running"
        return kasm

    def state(self):
        return self.kasm.state()

    # --- in-process convenience for tests ---------------------------------------------------

    def api(self, call, **body):
        """A call as a client makes it, through HTTPS and the CA (counted like any other)."""
        return post_json(f"{self.url}{kasm_api.API_PREFIX}{call}",
                         dict(body, api_key=self.api_key, api_key_secret=self.api_secret),
                         cafile=self.cacert)


def post_json(url, body, cafile=None, timeout=60):
    ctx = ssl.create_default_context(cafile=cafile) if url.startswith("https:") else None
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        data = e.read()
        try:
            return e.code, json.loads(data)
        except ValueError:
            return e.code, {"body": data.decode(errors="replace")}


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kasm-standin"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.settimeout(30)
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK, 40 ms a call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.standin.lock:
            self.server.standin.connections.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.standin.lock:
                self.server.standin.connections.discard(self.connection)

    def handle(self):
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            return                              # a client that refused our certificate
        super().handle()

    def reply(self, status, obj=None, text=None, headers=()):
        data = json.dumps(obj).encode() if obj is not None else (text or "").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if obj is not None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self.reply(405, {"error_message": "the Developer API takes POST"})

    def do_POST(self):
        standin = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.startswith(kasm_api.API_PREFIX):
            return self.reply(404, {"error_message": "not found"})
        call = self.path[len(kasm_api.API_PREFIX):].split("?")[0]
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return self.reply(400, {"error_message": "the body must be a JSON object"})
        if (body.get("api_key"), body.get("api_key_secret")) != (standin.api_key,
                                                                  standin.api_secret):
            return self.reply(403, {"error_message": "Access Denied: invalid API key"})
        fault = standin.pick_fault(call)
        if fault is not None and fault.kind != "drop_after":
            return self.inject(fault)
        try:
            reply, status = standin.call(call, body), 200
        except KasmError as e:
            reply, status = {"error_message": e.message}, e.status
        if status == 200 and "error_message" not in reply:
            standin.applied(call, body)
        if fault is not None:
            return self.drop()
        self.reply(status, reply)

    def inject(self, fault):
        if fault.kind == "429":
            return self.reply(429, text="Too Many Requests", headers=[("Retry-After", "1")])
        if fault.kind.isdigit():
            return self.reply(int(fault.kind), text="<html><body>Server Error</body></html>")
        if fault.kind == "timeout":
            time.sleep(fault.seconds)
        elif fault.kind == "refuse":
            self.server.standin.refuse(fault.seconds)
        return self.drop()


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, obj):
        data = json.dumps(obj, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        s = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.answer(400, {"error": "the body must be JSON"})
        op = self.path.rstrip("/").rsplit("/", 1)[-1]
        ops = {
            "state": lambda: s.state(),
            "counters": lambda: s.counters(),
            "reset_counters": lambda: s.reset_counters() or {},
            "seed_users": lambda: {"users": s.seed_users(body["users"])},
            "delete_user": lambda: s.kasm.delete_user(
                s.kasm.user_by_name(body["username"])["user_id"]) or {},
            "fault": lambda: {"fault_id": s.fault(**body)},
            "clear_faults": lambda: s.clear_faults() or {},
            "workspace": lambda: s.kasm.workspace.update(body) or dict(s.kasm.workspace),
            "request_kasm": lambda: {"kasm": s.kasm.kasm_json(s.request_kasm(body["username"]))},
            "destroyed": lambda: {"destroyed": list(s.destroyed)},
            "info": lambda: s.info(),
        }
        if not self.path.startswith("/_standin/") or op not in ops:
            return self.answer(404, {"error": f"no control operation {self.path}"})
        try:
            self.answer(200, ops[op]())
        except (KasmError, KeyError, TypeError, ValueError) as e:
            self.answer(400, {"error": str(e)})


def serve(directory, seed):
    import signal
    with StandIn(directory, seed=seed) as standin:
        info = os.path.join(directory, "standin.json")
        with open(info + ".part", "w", encoding="utf-8") as f:
            json.dump(standin.info(), f)
        os.rename(info + ".part", info)
        print(json.dumps(standin.info()), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
    return 0


def ctl(directory, op, body):
    with open(os.path.join(directory, "standin.json"), encoding="utf-8") as f:
        info = json.load(f)
    status, answer = post_json(f"{info['control']}/_standin/{op}", json.loads(body or "{}"))
    print(json.dumps(answer, indent=1, sort_keys=True))
    return 0 if status == 200 else 1


def main(argv):
    if len(argv) >= 2 and argv[0] == "serve":
        seed = int(argv[2]) if len(argv) > 2 else 0
        return serve(argv[1], seed)
    if len(argv) in (3, 4) and argv[0] == "ctl":
        return ctl(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
    print("usage: standin.py serve DIR [SEED] | standin.py ctl DIR OP [JSON]", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
