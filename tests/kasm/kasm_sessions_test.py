#!/usr/bin/env python3
"""vault-orchestrator end to end with real sessions: the stand-in Kasm starts each session as
a container of the project's image in the image suite's private Docker engine (launcher.py:
the merged Volume Mappings as binds, network_mode "none", the exec config's first_launch).

1. The example policy (host paths under the run's scratch directory) and users: `apply` from
   an empty Kasm; each user's session has exactly the folders `vault-policy resolve` gives, in
   its modes, as the kernel shows them in the container; a second `apply` writes nothing.
2. `run` on the real clock with a contractor's window closing, then one opening (window.py):
   her running container is gone within 5 s of the instant (printed), her next session lacks
   the deal room; at the opening the running one is untouched and the next one has the folder.

Exit 77 only where docker.io is missing, without root, or without vault-orchestrator in the
build; everything else is a failure.
"""
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "image"))

import bases as base_images  # noqa: E402
import engine as eng  # noqa: E402
import kasm as kasm_image  # noqa: E402
import orch  # noqa: E402
import sessions_test as image_sessions  # noqa: E402  (tests/image: building the image)
import window  # noqa: E402
from launcher import DockerLauncher  # noqa: E402
from orch import EXAMPLE_USERS, check, describe, log, problems  # noqa: E402
from standin import StandIn  # noqa: E402

AT = "2026-12-15T00:00:00Z"


def container_folders(rec):
    """{folder: mode} below /vault as the kernel shows them in the session's container, after
    its first_launch (which must have succeeded)."""
    hook = rec["_first_launch"]
    if hook["status"] != 0:
        problems.append(f"{rec['username']}: first_launch exit {hook['status']}")
        log(f"FAILED: {rec['username']}: first_launch exit {hook['status']}\n"
            f"{hook['stdout'][-2000:]}{hook['stderr'][-2000:]}")
    return kasm_image.vault_mounts(kasm_image.init_pid(rec["_container"]))


def apply_and_sessions(engine, launcher, scratch):
    policy = image_sessions.host_policy(scratch)
    users = orch.load_users(EXAMPLE_USERS)
    window.seed_host_folders(policy, {u["username"]: u for u in users})
    with StandIn(os.path.join(scratch, "kasm-apply"), launcher=launcher) as kasm:
        orch.seed(kasm, EXAMPLE_USERS)
        o = orch.Orchestrator(kasm, os.path.join(scratch, "o-apply"), policy)
        res = o.apply(at=AT)
        check("apply from an empty Kasm: exit 0", res.returncode == 0, describe(res))
        t = time.monotonic()
        for user in users:
            rec = kasm.request_kasm(user["username"])
            got = container_folders(rec)
            want = orch.resolve(policy, user, AT)
            check(f"{user['username']}'s session container has {sorted(got.items())}",
                  got == want, f"resolve gives {want}")
            status, reply = kasm.api("destroy_kasm", kasm_id=rec["kasm_id"], user_id=rec["user_id"])
            check(f"{user['username']}: destroy_kasm removes the container",
                  status == 200 and not launcher.running(rec["kasm_id"]), reply)
        log(f"{len(users)} sessions started, checked and ended in {time.monotonic() - t:.0f} s")
        kasm.reset_counters()
        res = o.apply(at=AT)
        check("a second apply: exit 0 and no write call",
              res.returncode == 0 and kasm.counters()["writes"] == 0,
              describe(res) + f"\n{orch.written(kasm)}")


def window_with_containers(launcher, scratch):
    with StandIn(os.path.join(scratch, "kasm-window"), launcher=launcher) as kasm:
        found, lines = window.run_window(kasm, os.path.join(scratch, "window"), lead=30, gap=20,
                                         folders_of=container_folders, running=launcher.running)
        for line in lines:
            log(line)
        for p in found:
            check(p, False)
        check("with containers: the window closes and opens under run", not found)


def main():
    if os.geteuid() != 0:
        print("SKIP: kasm sessions: needs root (a private dockerd)")
        return 77
    if not os.path.exists(eng.DOCKERD):
        print("SKIP: kasm sessions: docker.io is not installed (dev/install-deps installs it)")
        return 77
    orch.require_orchestrator("kasm sessions")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    exec_config = kasm_image.load_exec_config(image_sessions.EXEC_CONFIG)
    with eng.Engine() as engine:
        bases = base_images.Bases(engine, image_sessions.DOCKERFILE, log)
        engine.keep = bases.refs() | image_sessions.cached_images(engine)
        engine.cleanup(engine.keep)
        bases.ensure()
        # The image docker-sessions built earlier in this run, when the source is the same.
        image = image_sessions.build_image(engine, bases, reuse=True)
        log(f"image ready in {time.monotonic() - t0:.0f} s")
        client = engine.client()
        os.makedirs(os.path.join(engine.scratch, "host"), exist_ok=True)
        launcher = DockerLauncher(engine, client, image, exec_config)
        apply_and_sessions(engine, launcher, engine.scratch)
        window_with_containers(launcher, engine.scratch)
        client.close()
    print(f"kasm sessions: {len(problems)} problems ({time.monotonic() - t0:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except eng.EngineError as e:
        print(f"kasm sessions: {e}")
        sys.exit(1)
