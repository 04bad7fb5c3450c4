"""Everything the stand-in Kasm knows of Kasm Workspaces, in one place (doc/kasm-api.md is the
contract): the Developer API's calls, their JSON shapes and errors, the objects they keep
(users, groups with Kasm's own system groups, group settings, memberships, sessions), what a
`volume_mapping` value must be, and how Kasm merges Volume Mappings when a session starts.

A difference found against a real Kasm is one fix here and one in
tools/vault-orchestrator/kasm-api.c.  Transport, TLS, faults and the test-only control
channel live in standin.py; starting a session's container lives in launcher.py.

Where doc/kasm-api.md is silent, the stand-in is strict (marked *inferred* below): a create
of a group name that exists, an add of a member already in the group, a remove of one who is
not, and a second setting of one name in a group are errors, so that a client that retries a
write after an ambiguous failure has to read before it writes again.
"""
import datetime
import json
import random
import threading

API_PREFIX = "/api/public/"
SYSTEM_GROUPS = (("All Users", 1000), ("Administrators", 50))
ALL_USERS = "All Users"
# Calls that change something: the write counter counts exactly these.
WRITE_CALLS = frozenset({
    "create_group", "update_group", "delete_group", "add_user_group", "remove_user_group",
    "add_settings_group", "update_settings_group", "remove_settings_group", "destroy_kasm",
})
VOLUME_MAPPING_KEYS = {"bind": str, "mode": str, "uid": int, "gid": int, "required": bool,
                       "skip_check": bool}
SUBSTITUTIONS = ("{username}", "{user_id}", "{image_id}")


class KasmError(Exception):
    """A call Kasm answers with an error: `{"error_message": ...}` with this HTTP status."""

    def __init__(self, message, status=200):
        super().__init__(message)
        self.message, self.status = message, status


def kasm_time(t=None):
    """Kasm's timestamp format ("2026-12-07 01:02:03.456789", UTC, no zone)."""
    t = t if t is not None else datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def validate_volume_mapping(text):
    """The value of a `volume_mapping` group setting: JSON text of an object of objects, each
    host path absolute, `bind` absolute, `mode` rw or ro, the other keys of their type.
    Returns the parsed object or raises KasmError."""
    if not isinstance(text, str):
        raise KasmError("volume_mapping: the value must be a JSON string")
    try:
        value = json.loads(text)
    except ValueError as e:
        raise KasmError(f"volume_mapping: invalid JSON: {e}") from None
    if not isinstance(value, dict):
        raise KasmError("volume_mapping: must be a JSON object")
    for host, entry in value.items():
        if not host.startswith("/"):
            raise KasmError(f"volume_mapping: host path {host!r} is not absolute")
        if not isinstance(entry, dict):
            raise KasmError(f"volume_mapping: {host}: must be an object")
        for key, kind in VOLUME_MAPPING_KEYS.items():
            if key in entry and (not isinstance(entry[key], kind)
                                 or (kind is int and isinstance(entry[key], bool))):
                raise KasmError(f"volume_mapping: {host}: {key} must be {kind.__name__}")
        if not entry.get("bind", "").startswith("/"):
            raise KasmError(f"volume_mapping: {host}: bind must be an absolute path")
        if entry.get("mode", "rw") not in ("rw", "ro"):
            raise KasmError(f"volume_mapping: {host}: mode must be rw or ro")
    return value


def substitute(text, user, image_id):
    for token, value in zip(SUBSTITUTIONS, (user["username"], user["user_id"], image_id)):
        text = text.replace(token, value)
    return text


class Kasm:
    """The objects a Kasm deployment keeps and the Developer API calls on them.  Thread-safe:
    one lock around every call."""

    def __init__(self, seed=0):
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.users = {}        # user_id -> {"user_id", "username"}
        self.groups = {}       # group_id -> GROUP
        self.members = {}      # group_id -> set of user_id
        self.settings = {}     # group_id -> {group_setting_id -> SETTING}
        self.sessions = {}     # kasm_id -> KASM (plus the stand-in's own keys, below)
        # The workspace every session is of: its image, its Run Config Override's volumes
        # (Docker's form) and its Volume Mappings.
        self.workspace = {"image_id": self.new_id(), "run_config_volumes": {},
                          "volume_mappings": {}}
        for name, priority in SYSTEM_GROUPS:
            self._group(name, priority, f"Kasm's {name} group", system=True)
        all_users = self.group_by_name(ALL_USERS)
        # The image's first_launch reads KASM_USER: Kasm sets it only with this setting.
        self._setting(all_users["group_id"], "expose_user_environment_vars", "true")

    def new_id(self):
        return f"{self.rng.getrandbits(128):032x}"

    # --- objects ---------------------------------------------------------------------------

    def _group(self, name, priority, description, system=False):
        group = {"group_id": self.new_id(), "name": name, "priority": priority,
                 "description": description, "is_system": system}
        self.groups[group["group_id"]] = group
        self.members[group["group_id"]] = set()
        self.settings[group["group_id"]] = {}
        return group

    def _setting(self, group_id, name, value):
        setting = {"group_setting_id": self.new_id(), "name": name, "value": value,
                   "value_type": "json" if name == "volume_mapping" else "bool"}
        self.settings[group_id][setting["group_setting_id"]] = setting
        return setting

    def group_by_name(self, name):
        return next((g for g in self.groups.values() if g["name"] == name), None)

    def user_by_name(self, username):
        return next((u for u in self.users.values() if u["username"] == username), None)

    def add_user(self, username, groups=()):
        """A user as SSO or an admin makes one: in All Users, and in each named group (made,
        non-system, at priority 100, if Kasm has none of that name)."""
        with self.lock:
            if self.user_by_name(username):
                raise KasmError(f"user {username} exists")
            user = {"user_id": self.new_id(), "username": username}
            self.users[user["user_id"]] = user
            self.members[self.group_by_name(ALL_USERS)["group_id"]].add(user["user_id"])
            for name in groups:
                group = self.group_by_name(name) or self._group(name, 100, "from SSO")
                self.members[group["group_id"]].add(user["user_id"])
            return user

    def delete_user(self, user_id):
        with self.lock:
            self.users.pop(user_id)
            for members in self.members.values():
                members.discard(user_id)

    def user_groups(self, user_id):
        return [g for gid, g in self.groups.items() if user_id in self.members[gid]]

    def user_json(self, user, with_kasms=False):
        out = dict(user, groups=[{"group_id": g["group_id"], "name": g["name"]}
                                 for g in self.user_groups(user["user_id"])])
        if with_kasms:
            out["kasms"] = [self.kasm_json(k) for k in self.sessions.values()
                            if k["user_id"] == user["user_id"]]
        return out

    @staticmethod
    def kasm_json(kasm):
        return {k: v for k, v in kasm.items() if not k.startswith("_")}

    # --- the calls -------------------------------------------------------------------------

    def call(self, name, body):
        """One Developer API call (the key pair already checked): the reply object, or
        KasmError."""
        handler = getattr(self, "api_" + name, None) if name.isidentifier() else None
        if handler is None:
            raise KasmError(f"unknown call {name}", status=404)
        with self.lock:
            return handler(body)

    def _target(self, body, key, table, what):
        target = body.get(key)
        if not isinstance(target, dict):
            raise KasmError(f"{key} is required", status=400)
        ident = target.get(f"{what}_id")
        if ident in table:
            return table[ident]
        if what == "user" and isinstance(target.get("username"), str):
            user = self.user_by_name(target["username"])
            if user:
                return user
        raise KasmError(f"{what} not found")

    def _group_arg(self, body):
        return self._target(body, "target_group", self.groups, "group")

    def _user_arg(self, body):
        return self._target(body, "target_user", self.users, "user")

    def _writable(self, group):
        if group["is_system"]:
            raise KasmError(f"group {group['name']} is a system group and cannot be changed")

    def api_get_users(self, body):
        return {"users": [self.user_json(u) for u in self.users.values()]}

    def api_get_user(self, body):
        return {"user": self.user_json(self._user_arg(body), with_kasms=True)}

    def api_get_groups(self, body):
        return {"groups": [dict(g) for g in self.groups.values()]}

    def _group_fields(self, target, group_id=None):
        name, priority = target.get("name"), target.get("priority")
        if not isinstance(name, str) or not name.strip():
            raise KasmError("target_group.name is required", status=400)
        if not isinstance(priority, int) or isinstance(priority, bool) \
                or not 1 <= priority <= 4095:
            raise KasmError("target_group.priority must be an integer from 1 to 4095")
        other = self.group_by_name(name)
        if other and other["group_id"] != group_id:                   # inferred
            raise KasmError(f"a group named {name} exists")
        description = target.get("description", "")
        if not isinstance(description, str):
            raise KasmError("target_group.description must be a string", status=400)
        return name, priority, description

    def api_create_group(self, body):
        target = body.get("target_group")
        if not isinstance(target, dict):
            raise KasmError("target_group is required", status=400)
        return {"group": dict(self._group(*self._group_fields(target)))}

    def api_update_group(self, body):
        group = self._group_arg(body)
        self._writable(group)
        name, priority, description = self._group_fields(body["target_group"], group["group_id"])
        group.update(name=name, priority=priority, description=description)
        return {"group": dict(group)}

    def api_delete_group(self, body):
        group = self._group_arg(body)
        self._writable(group)
        gid = group["group_id"]
        del self.groups[gid], self.members[gid], self.settings[gid]
        return {}

    def api_get_users_group(self, body):
        group = self._group_arg(body)
        return {"users": [{"user_id": u, "username": self.users[u]["username"]}
                          for u in sorted(self.members[group["group_id"]])]}

    def api_add_user_group(self, body):
        user, group = self._user_arg(body), self._group_arg(body)
        if group["name"] == ALL_USERS:
            raise KasmError("every user is in All Users")
        if user["user_id"] in self.members[group["group_id"]]:            # inferred
            raise KasmError(f"user {user['username']} is already in group {group['name']}")
        self.members[group["group_id"]].add(user["user_id"])
        return {}

    def api_remove_user_group(self, body):
        user, group = self._user_arg(body), self._group_arg(body)
        if group["name"] == ALL_USERS:
            raise KasmError("every user is in All Users")
        if user["user_id"] not in self.members[group["group_id"]]:        # inferred
            raise KasmError(f"user {user['username']} is not in group {group['name']}")
        self.members[group["group_id"]].discard(user["user_id"])
        return {}

    def api_get_settings_group(self, body):
        group = self._group_arg(body)
        return {"settings": [dict(s) for s in self.settings[group["group_id"]].values()]}

    def _setting_value(self, name, target):
        value = target.get("value")
        if name == "volume_mapping":
            validate_volume_mapping(value)
        elif not isinstance(value, str):
            raise KasmError(f"{name}: the value must be a string")
        return value

    def api_add_settings_group(self, body):
        group = self._group_arg(body)
        self._writable(group)
        target = body.get("target_setting")
        if not isinstance(target, dict) or not isinstance(target.get("name"), str):
            raise KasmError("target_setting.name is required", status=400)
        name = target["name"]
        if any(s["name"] == name for s in self.settings[group["group_id"]].values()):  # inferred
            raise KasmError(f"group {group['name']} has a {name} setting")
        value = self._setting_value(name, target)
        return {"setting": dict(self._setting(group["group_id"], name, value))}

    def _setting_arg(self, body, group):
        target = body.get("target_setting")
        if not isinstance(target, dict):
            raise KasmError("target_setting is required", status=400)
        setting = self.settings[group["group_id"]].get(target.get("group_setting_id"))
        if setting is None:
            raise KasmError("group setting not found")
        return setting, target

    def api_update_settings_group(self, body):
        group = self._group_arg(body)
        self._writable(group)
        setting, target = self._setting_arg(body, group)
        setting["value"] = self._setting_value(setting["name"], target)
        return {"setting": dict(setting)}

    def api_remove_settings_group(self, body):
        group = self._group_arg(body)
        self._writable(group)
        setting, _ = self._setting_arg(body, group)
        del self.settings[group["group_id"]][setting["group_setting_id"]]
        return {}

    def api_get_kasms(self, body):
        return {"kasms": [self.kasm_json(k) for k in self.sessions.values()],
                "current_time": kasm_time()}

    def api_destroy_kasm(self, body):
        kasm = self.sessions.get(body.get("kasm_id"))
        if kasm is None:
            raise KasmError("kasm not found")
        if body.get("user_id") != kasm["user_id"]:
            raise KasmError("user_id does not match the kasm")
        self.end_session(kasm["kasm_id"])
        return {}

    # --- sessions --------------------------------------------------------------------------

    def merged_volume_mappings(self, user):
        """The mounts of a session of this user as Kasm makes them at launch: the workspace's
        Run Config Override volumes, then every group's volume_mapping by group priority (1
        first; the stand-in breaks ties by name), then the workspace's Volume Mappings; tokens
        substituted in host paths and binds; keyed by host path, the first one wins.  Returns
        (mappings, skipped) where skipped lists (group, host path) that lost."""
        image_id = self.workspace["image_id"]
        sources = [("workspace run config", self.workspace["run_config_volumes"])]
        for group in sorted(self.user_groups(user["user_id"]),
                            key=lambda g: (g["priority"], g["name"])):
            for s in self.settings[group["group_id"]].values():
                if s["name"] == "volume_mapping":
                    sources.append((group["name"], json.loads(s["value"])))
        sources.append(("workspace volume mappings", self.workspace["volume_mappings"]))
        merged, skipped = {}, []
        for origin, mapping in sources:
            for host, entry in mapping.items():
                host = substitute(host, user, image_id)
                if host in merged:
                    skipped.append((origin, host))
                    continue
                merged[host] = dict(entry, bind=substitute(entry["bind"], user, image_id))
        return merged, skipped

    @staticmethod
    def duplicate_mount_point(mappings):
        """Two host paths on one container path: Docker refuses the launch."""
        seen = {}
        for host, entry in mappings.items():
            if entry["bind"] in seen:
                return (f"Duplicate mount point: {entry['bind']} "
                        f"({seen[entry['bind']]} and {host})")
            seen[entry["bind"]] = host
        return None

    def session_environment(self, user):
        """What Kasm puts in a session's environment about its user."""
        env = {}
        exposed = any(s["name"] == "expose_user_environment_vars" and s["value"] == "true"
                      for g in self.user_groups(user["user_id"])
                      for s in self.settings[g["group_id"]].values())
        if exposed:
            env.update(KASM_USER=user["username"], KASM_USER_ID=user["user_id"])
        return env

    def new_session(self, user):
        """A session record (starting) with its merged mappings; the caller launches it."""
        with self.lock:
            mappings, skipped = self.merged_volume_mappings(user)
            now = datetime.datetime.now(datetime.timezone.utc)
            kasm = {"kasm_id": self.new_id(), "user_id": user["user_id"],
                    "username": user["username"], "image_id": self.workspace["image_id"],
                    "start_date": kasm_time(now), "keepalive_date": kasm_time(now),
                    "expiration_date": kasm_time(now + datetime.timedelta(days=1)),
                    "operational_status": "starting",
                    "_volume_mappings": mappings, "_skipped": skipped,
                    "_environment": self.session_environment(user)}
            self.sessions[kasm["kasm_id"]] = kasm
            return kasm

    def end_session(self, kasm_id):
        """Remove the record; the server's on_end (the launcher) removes the container."""
        return self.sessions.pop(kasm_id, None)

    # --- the whole state, for the test-only control channel --------------------------------

    def state(self):
        with self.lock:
            groups = []
            for gid, g in self.groups.items():
                settings = []
                for s in self.settings[gid].values():
                    s = dict(s)
                    if s["name"] == "volume_mapping":
                        s["parsed"] = json.loads(s["value"])
                    settings.append(s)
                groups.append(dict(g, settings=settings, members=sorted(
                    self.users[u]["username"] for u in self.members[gid])))
            return {"users": [dict(self.user_json(u), groups=sorted(
                        g["name"] for g in self.user_groups(u["user_id"])))
                              for u in self.users.values()],
                    "groups": groups,
                    "sessions": [dict(self.kasm_json(k), volume_mappings=k["_volume_mappings"])
                                 for k in self.sessions.values()],
                    "workspace": dict(self.workspace)}
