"""Sessions of the stand-in Kasm as real containers of the project's image, started the way the
Kasm agent starts them, through the image suite's private Docker engine (tests/image/engine.py,
kasm.py): the session's merged Volume Mappings (kasm_api.Kasm.merged_volume_mappings) turned
into binds, containers.run() with network_mode "none", then the exec config's first_launch
as `docker exec --user`.  destroy_kasm removes the container before the call answers.
"""
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "image"))

import kasm as kasm_image  # noqa: E402  (tests/image/kasm.py: the Kasm agent's side)
from engine import EngineError  # noqa: E402


class DockerLauncher:
    def __init__(self, engine, client, image, exec_config):
        self.engine, self.client, self.image, self.exec_config = engine, client, image, exec_config
        self.lock = threading.Lock()
        self.containers = {}         # kasm_id -> container, while the session runs
        self.names = {}              # kasm_id -> container name, for ever

    def launch(self, kasm):
        binds = kasm_image.kasm_volume_mappings_to_binds(kasm["_volume_mappings"])
        environment = dict(kasm["_environment"], KASM_ID=kasm["kasm_id"])
        name = f"kasm-{kasm['username']}-{kasm['kasm_id'][:12]}"
        self.names[kasm["kasm_id"]] = name
        try:
            container = kasm_image.start_session(self.client, self.image, binds, environment, name)
        except Exception as e:                  # docker.errors.APIError: Docker refused it
            raise EngineError(f"{name}: the launch failed: {e}") from None
        with self.lock:
            self.containers[kasm["kasm_id"]] = container
        kasm["_container"] = container
        kasm["_binds"] = binds
        kasm["_first_launch"] = kasm_image.run_hook(self.engine, container, self.exec_config,
                                                    "first_launch")

    def destroy(self, kasm):
        with self.lock:
            container = self.containers.pop(kasm["kasm_id"], None)
        if container is not None:
            container.remove(force=True)

    def running(self, kasm_id):
        """Whether Docker still has the session's container (asked of Docker itself)."""
        name = self.names[kasm_id]
        res = self.engine.docker("ps", "-aq", "--filter", f"name=^{name}$", check=False)
        return bool(res.stdout.strip())
