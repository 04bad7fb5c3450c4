"""A private Docker engine for the image suite: started and stopped by the test itself.

The daemon gets its own data root, exec root, socket, pidfile and an empty config file, no
bridge, no iptables rules and no IP forwarding; the only networks it knows are Docker's
built-in `none` and `host`, and this module never creates another.  Every container it runs
uses network_mode "none" (the one exception, `docker build --network host`, is for apt-get
reaching Debian's mirror).  The data root persists between runs (it caches the base images by
the hash of their recipe); everything else lives in a per-run directory removed at the end.
"""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

DOCKERD = "/usr/sbin/dockerd"
# Debian's client, not whatever else is first on PATH: it matches the daemon's API.
DOCKER = "/usr/bin/docker"
CACHE_ROOT = os.environ.get("VS_IMAGE_CACHE", "/var/tmp/vaultshim-image-test")


class EngineError(Exception):
    pass


def run(cmd, check=True, **kw):
    kw.setdefault("capture_output", True)
    res = subprocess.run(cmd, text=True, **kw)
    if check and res.returncode != 0:
        raise EngineError(f"{' '.join(cmd)}: exit {res.returncode}\n{res.stdout or ''}{res.stderr or ''}")
    return res


class Engine:
    """with Engine() as engine: a running private dockerd; stopped, with every container and
    every image it made except the cached bases removed, when the block ends."""

    def __init__(self):
        self.cache = CACHE_ROOT
        self.proc = None
        self.lock = None
        self.keep = set()      # image references cleanup() leaves: the cached bases

    def __enter__(self):
        os.makedirs(self.cache, mode=0o700, exist_ok=True)
        # One run at a time per data root: a second run waits for the first.
        self.lock = open(os.path.join(self.cache, "lock"), "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.data_root = os.path.join(self.cache, "data-root")
        self.pidfile = os.path.join(self.cache, "dockerd.pid")
        self._stop_leftover()
        # We hold the lock, so any run directory is a killed run's: its mounts and files go.
        for entry in os.listdir(self.cache):
            if entry.startswith("run."):
                unmount_below(os.path.join(self.cache, entry))
                shutil.rmtree(os.path.join(self.cache, entry), ignore_errors=True)
        self.scratch = tempfile.mkdtemp(prefix="run.", dir=self.cache)
        os.chmod(self.scratch, 0o755)
        self.exec_root = os.path.join(self.scratch, "exec")
        self.socket = os.path.join(self.scratch, "docker.sock")
        self.log_path = os.path.join(self.scratch, "dockerd.log")
        config = os.path.join(self.scratch, "daemon.json")
        with open(config, "w", encoding="utf-8") as f:
            # Not the host's /etc/docker/daemon.json, and the daemon's key not in /etc/docker.
            json.dump({"deprecated-key-path": os.path.join(self.cache, "key.json")}, f)
        try:
            self._start(config)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self, config):
        cmd = [DOCKERD, "--config-file", config, "--data-root", self.data_root,
               "--exec-root", self.exec_root, "--pidfile", self.pidfile,
               "-H", "unix://" + self.socket, "--bridge=none", "--iptables=false",
               "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
               "--storage-driver", "overlay2"]
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=stop_with_parent)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EngineError(f"dockerd exited with {self.proc.returncode}:\n{self.log_tail()}")
            if run(self.cli("version"), check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise EngineError(f"dockerd did not answer within 60 s:\n{self.log_tail()}")

    def _stop_leftover(self):
        """A daemon of a run that was killed before it could stop it: same data root."""
        try:
            with open(self.pidfile, encoding="utf-8") as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError):
            return
        if argv[:1] == [DOCKERD.encode()] and self.data_root.encode() in argv:
            os.kill(pid, signal.SIGTERM)
            for _ in range(300):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.1)

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def cli(self, *args):
        return [DOCKER, "-H", "unix://" + self.socket, *args]

    def docker(self, *args, check=True, **kw):
        return run(self.cli(*args), check=check, **kw)

    def client(self):
        import docker  # Debian's python3-docker, the SDK Kasm starts sessions with
        return docker.DockerClient(base_url="unix://" + self.socket, version="auto")

    def cleanup(self, keep):
        """Remove every container and every image but those tagged in keep."""
        ids = self.docker("ps", "-aq", check=False).stdout.split()
        if ids:
            self.docker("rm", "-f", "-v", *ids, check=False)
        for line in self.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}",
                                check=False).stdout.splitlines():
            ref, _, image_id = line.partition(" ")
            if ref not in keep:
                self.docker("rmi", "-f", ref if not ref.startswith("<none>") else image_id,
                            check=False)
        self.docker("image", "prune", "-f", check=False)
        self.docker("builder", "prune", "-f", check=False)

    def __exit__(self, *exc):
        try:
            if self.proc and self.proc.poll() is None:
                self.cleanup(self.keep)
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            # The daemon unmounts its overlays when it stops, but leaves its network namespace
            # file mounted in the exec root; anything else left below our directories (a daemon
            # that had to be killed, debootstrap's /proc) is unmounted here too.
            for root in (getattr(self, "scratch", None), self.data_root):
                if root:
                    unmount_below(root)
            if getattr(self, "scratch", None):
                shutil.rmtree(self.scratch, ignore_errors=True)
            if self.lock:
                self.lock.close()
        return False


def stop_with_parent():
    """In the daemon's child before exec: SIGTERM when the test process dies, however it dies
    (a SIGKILL from a test runner's timeout included), so the daemon stops its containers and
    exits instead of outliving the test."""
    import ctypes
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def unmount_below(root):
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            points = [line.split()[4] for line in f]
    except OSError:
        return
    for point in sorted((p for p in points if p.startswith(root.rstrip("/") + "/")),
                        key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
