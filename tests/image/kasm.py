"""What Kasm Workspaces does with the vaultshim image, done here against the private engine:
turn Volume Mappings into binds, start the session container through the Docker SDK for
Python, run the Docker Exec Config's hooks, and what the test reads of a session from the host.
"""
import json
import os
import shlex
import time

from engine import EngineError

EXEC_ORDER = ("first_launch", "go")          # container start, then the user connects
SESSION_USER = 1000


def kasm_volume_mappings_to_binds(mappings):
    """Volume Mappings (the `--format kasm` dict) as the Kasm agent applies them: the host
    directory must exist when `required` (else the session fails; an optional one is left
    out), its ownership is set to uid:gid unless `skip_check`, and Docker gets
    {host: {bind, mode}}."""
    binds = {}
    for host, m in mappings.items():
        if not os.path.isdir(host):
            if m.get("required", True):
                raise EngineError(f"Volume Mapping {host}: required and not there")
            continue
        if not m.get("skip_check", False):
            os.chown(host, m.get("uid", SESSION_USER), m.get("gid", SESSION_USER))
        binds[host] = {"bind": m["bind"], "mode": m.get("mode", "rw")}
    return binds


def start_session(client, image, volumes, environment, name, **run_config):
    """containers.run() with the keyword arguments Kasm passes (the binds, and the Run Config
    Override's other keys); no network at all."""
    return client.containers.run(image, detach=True, name=name, volumes=volumes,
                                 environment=environment, user=SESSION_USER,
                                 network_mode="none", **run_config)


def run_hook(engine, container, exec_config, hook):
    """One exec-config hook as Kasm runs it: `docker exec --user USER` of its cmd."""
    entry = exec_config[hook]
    args = ["exec", "--user", entry.get("user", "kasm-user")]
    if entry.get("privileged"):
        args.append("--privileged")
    for key, value in entry.get("environment", {}).items():
        args += ["--env", f"{key}={value}"]
    res = engine.docker(*args, container.id, *shlex.split(entry["cmd"]), check=False)
    return {"hook": hook, "status": res.returncode, "stdout": res.stdout, "stderr": res.stderr}


def load_exec_config(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --- the session seen from the host -------------------------------------------------------

def init_pid(container):
    container.reload()
    return container.attrs["State"]["Pid"]


def obsidian_pid(container, timeout=30):
    """The Obsidian stand-in's host pid: a node process in the container's pid namespace."""
    ns = os.readlink(f"/proc/{init_pid(container)}/ns/pid")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") != ns:
                    continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[:1] == [b"node"] and any(a.endswith(b"obsidian-standin.js") for a in argv):
                return int(pid)
        time.sleep(0.1)
    raise EngineError(f"{container.name}: no Obsidian stand-in process after {timeout} s")


def vault_mounts(pid):
    """{name: "rw"|"ro"} of the mounts below /vault in the process's mount namespace."""
    mounts = {}
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            point, options = fields[4], fields[5].split(",")
            if point.startswith("/vault/"):
                mounts[point[len("/vault/"):]] = "ro" if "ro" in options else "rw"
    return mounts


def environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [e.decode(errors="replace").partition("=") for e in f.read().split(b"\0") if e]
    return {k: v for k, _, v in pairs}


def maps_shim(pid):
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as f:
        return any(line.rstrip().endswith("/libvaultshim.so") for line in f)


def ask(pid, request, timeout=120, wait=True):
    """Hand the Obsidian stand-in one request (through the process's root) and, with wait,
    return its answer."""
    home = f"/proc/{pid}/root/home/kasm-user/.standin"
    name = f"{time.monotonic_ns()}.json"
    deadline = time.monotonic() + 30
    while not os.path.isdir(f"{home}/requests"):
        if time.monotonic() > deadline:
            raise EngineError("the Obsidian stand-in made no request directory")
        time.sleep(0.05)
    tmp = f"{home}/requests/.{name}.part"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(request, f)
    os.rename(tmp, f"{home}/requests/{name}")
    if not wait:
        return None
    answer = f"{home}/results/{name}"
    deadline = time.monotonic() + timeout
    while not os.path.exists(answer):
        if time.monotonic() > deadline:
            raise EngineError(f"no answer to {request} within {timeout} s")
        time.sleep(0.05)
    with open(answer, encoding="utf-8") as f:
        return json.load(f)


def exec_as_user(engine, container, *argv):
    res = engine.docker("exec", "--user", "kasm-user", container.id, *argv, check=False)
    return res.returncode, (res.stdout + res.stderr).strip()


