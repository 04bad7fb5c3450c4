"""The base images the Dockerfile's FROM lines get in place of the registry's, built here from
Debian's packages, cached in the engine's data root by the hash of their recipe.

- Debian 12: `debootstrap --variant=minbase bookworm` from the mirror apt itself uses on this
  machine (read from `apt-get indextargets` at run time, never written down here), imported
  with `docker import`.
- the build base (BUILD_BASE, for `debian:12`): Debian 12 plus the packages the Dockerfile's
  build stage installs, read from docker/Dockerfile, so its own apt-get has nothing to fetch.
- the Kasm stand-in (KASM_BASE, for `kasmweb/obsidian`): Debian 12 with kasm-user (uid 1000),
  /dockerstartup/{vnc_startup,custom_startup}.sh and Node running an Obsidian stand-in.

An image is rebuilt only when its recipe changes: every file and argument that goes into it
is hashed into its tag.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

from engine import EngineError, run, stop_with_parent

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("VS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
# The bwrap session simulator's directory (its modules are on PYTHONPATH in meson's test
# environment): the Obsidian scenario the stand-in runs comes from there.
KASM_SIM = os.path.join(SOURCE_ROOT, "demo", "kasm-sim")
STANDIN = os.path.join(HERE, "standin")
SUITE = "bookworm"
REPO = "vaultshim-test"
# What makes the Debian image (see _debootstrap): change it when _debootstrap changes.
DEBIAN_RECIPE = ("debootstrap", "--variant=minbase", SUITE, "empty apt lists and archives",
                 "tar --numeric-owner | docker import")


def debian_mirror():
    """The URI apt on this machine uses for bookworm main."""
    res = run(["apt-get", "indextargets", "--format",
               "$(REPO_URI) $(CODENAME) $(COMPONENT) $(TARGET_OF) $(IDENTIFIER)"], check=False)
    for line in res.stdout.splitlines():
        words = line.split()
        if words[1:] == [SUITE, "main", "deb", "Packages"]:
            return words[0]
    raise EngineError(f"apt has no source for {SUITE} main (apt-get indextargets)")


def build_stage_packages(dockerfile_path):
    """The packages docker/Dockerfile's build stage installs with apt-get."""
    import dockerfile
    stage = dockerfile.parse(dockerfile_path).stage("build")
    pkgs = dockerfile.apt_installs(stage) if stage else set()
    if not pkgs:
        raise EngineError(f"{dockerfile_path}: the build stage installs no packages")
    return sorted(pkgs)


def digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:16]


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Bases:
    def __init__(self, engine, dockerfile_path, log):
        self.engine = engine
        self.log = log
        self.packages = build_stage_packages(dockerfile_path)
        self.debian = f"{REPO}/debian:{SUITE}-{digest(*DEBIAN_RECIPE)}"
        build_files = self._context_files("build-base")
        self.build_base = f"{REPO}/build-base:{digest(self.debian, *self.packages, *build_files.values())}"
        kasm_files = self._context_files("kasm")
        self.kasm = f"{REPO}/kasm-standin:{digest(self.debian, *kasm_files.values())}"
        self.built = []

    @staticmethod
    def _context_files(kind):
        """name → bytes of what goes into a stand-in's build context."""
        if kind == "build-base":
            names = ["build-base.Dockerfile"]
        else:
            names = ["kasm.Dockerfile", "vnc_startup.sh", "custom_startup.sh",
                     "obsidian-standin.js"]
        files = {n: file_bytes(os.path.join(STANDIN, n)) for n in names}
        if kind == "kasm":
            # The stand-in drives the same scenario as the bwrap session simulator.
            files["obsidian-sim.js"] = file_bytes(os.path.join(KASM_SIM, "obsidian-sim.js"))
        return files

    def refs(self):
        return {self.debian, self.build_base, self.kasm}

    def have(self, ref):
        return self.engine.docker("image", "inspect", ref, check=False).returncode == 0

    def ensure(self):
        """Build what the cache lacks; remove stand-ins of older recipes."""
        for line in self.engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
            if line.startswith(REPO + "/") and line not in self.refs():
                self.engine.docker("rmi", line, check=False)
        if not self.have(self.debian):
            self._debootstrap()
        jobs = [(ref, kind) for ref, kind in ((self.build_base, "build-base"), (self.kasm, "kasm"))
                if not self.have(ref)]
        errors = []

        def build(ref, kind):
            try:
                self._build(ref, kind)
            except EngineError as e:
                errors.append(str(e))
        # The two stand-ins are independent: apt downloads of one overlap the other's unpacking.
        threads = [threading.Thread(target=build, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise EngineError("\n".join(errors))

    def _debootstrap(self):
        mirror = debian_mirror()
        self.log(f"bases: debootstrap --variant=minbase {SUITE} from {mirror}")
        tmp = tempfile.mkdtemp(prefix="debootstrap.", dir=self.engine.scratch)
        try:
            rootfs = os.path.join(tmp, "rootfs")
            res = subprocess.run(["debootstrap", "--variant=minbase", SUITE, rootfs, mirror],
                                 capture_output=True, text=True, preexec_fn=stop_with_parent)
            if res.returncode != 0:
                raise EngineError(f"debootstrap failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
            # The image starts with empty apt lists and caches, like Docker's debian:12.
            for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for entry in os.listdir(os.path.join(rootfs, sub)):
                    path = os.path.join(rootfs, sub, entry)
                    if os.path.isfile(path) and entry not in ("lock",):
                        os.unlink(path)
            tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."],
                                   stdout=subprocess.PIPE)
            res = subprocess.run(self.engine.cli("import", "-", self.debian), stdin=tar.stdout,
                                 capture_output=True, text=True)
            tar.stdout.close()
            if tar.wait() != 0 or res.returncode != 0:
                raise EngineError(f"docker import failed: {res.stderr}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _build(self, ref, kind):
        self.log(f"bases: building {ref}")
        ctx = tempfile.mkdtemp(prefix=f"context-{kind}.", dir=self.engine.scratch)
        try:
            for name, data in self._context_files(kind).items():
                with open(os.path.join(ctx, name), "wb") as f:
                    f.write(data)
                os.chmod(os.path.join(ctx, name), 0o755 if name.endswith(".sh") else 0o644)
            dockerfile = os.path.join(ctx, f"{kind}.Dockerfile")
            args = ["build", "--network", "host", "--force-rm", "-f", dockerfile,
                    "--build-arg", f"DEBIAN_BASE={self.debian}", "-t", ref]
            if kind == "build-base":
                args += ["--build-arg", "PACKAGES=" + " ".join(self.packages)]
            res = subprocess.run(self.engine.cli(*args, ctx), capture_output=True, text=True,
                                 env=dict(os.environ, DOCKER_BUILDKIT="0"))
            if res.returncode != 0:
                raise EngineError(f"building {ref} failed:\n{res.stdout[-4000:]}{res.stderr[-2000:]}")
        finally:
            shutil.rmtree(ctx, ignore_errors=True)
