"""The example organisation in docker/examples/: its users and the fixed time its shipped
JSON was generated at.  users.yaml is read with a deliberately small parser (the file is ours
and flat); vault-policy reads the same file with its strict loader in `matrix`.
"""
import os
import re

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "docker", "examples")
POLICY = os.path.join(EXAMPLES, "vault-permissions.yaml")
USERS = os.path.join(EXAMPLES, "users.yaml")
# The shipped kasm/ and docker/ JSON are what `resolve --now EXAMPLE_NOW` prints: inside the
# contractors' engagement window on the Acme deal.
EXAMPLE_NOW = "2026-12-15T00:00:00Z"


def load_users(path=USERS):
    """[{name, id, groups}] in file order."""
    users = []
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip() or line.strip() == "users:":
                continue
            m = re.match(r'^\s*(-\s+)?(name|id|groups):\s*(.*)$', line)
            if not m:
                raise ValueError(f"{path}:{number}: cannot read {line.strip()!r}")
            if m.group(1):
                users.append({})
            if not users:
                raise ValueError(f"{path}:{number}: a user starts with '- name:'")
            key, value = m.group(2), m.group(3).strip()
            if key == "groups":
                users[-1][key] = [g.strip() for g in value.strip("[]").split(",") if g.strip()]
            else:
                users[-1][key] = value.strip('"')
    return users


def user(name, path=USERS):
    for u in load_users(path):
        if u["name"] == name:
            return u
    raise KeyError(f"{path}: no user {name!r}")
