"""A small Dockerfile reader: enough of the Dockerfile reference to lint docker/Dockerfile
without a Docker engine, and to let the session simulator apply the image's ENV exactly.

Errors are collected as "file:line: message" strings; nothing here prints.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
}
# Instructions whose argument may be a JSON array ("exec form").
JSON_FORM = {"ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"}
PARSER_DIRECTIVE = re.compile(r"^#\s*(syntax|escape|check)\s*=", re.IGNORECASE)


@dataclass
class Instruction:
    line: int          # 1-based line of the instruction keyword
    name: str          # upper case
    args: str          # argument text, continuations joined with a space
    flags: dict = field(default_factory=dict)   # --from=…, --chown=… (COPY/ADD/RUN)
    exec_form: list | None = None               # the JSON array, when in exec form


@dataclass
class Stage:
    index: int
    base: str          # image reference with ARG defaults substituted
    name: str | None
    line: int
    instructions: list = field(default_factory=list)


@dataclass
class Dockerfile:
    path: str
    global_args: dict
    stages: list
    errors: list

    def stage(self, ref):
        """The stage a COPY --from=ref names: an earlier stage's name or index."""
        for s in self.stages:
            if s.name == ref or str(s.index) == ref:
                return s
        return None

    @property
    def final(self):
        return self.stages[-1] if self.stages else None


def _logical_lines(text):
    """Yield (line number, text) with backslash continuations joined and comments dropped."""
    pending, start = None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if pending is None and (not stripped or stripped.startswith("#")):
            continue
        if pending is not None and stripped.startswith("#"):
            continue      # comment lines inside a continuation are removed by the builder
        if pending is None:
            pending, start = "", number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1].strip() + " "
            continue
        pending += stripped
        yield start, pending.strip()
        pending = None
    if pending is not None:
        yield start, pending.strip() + "\\"   # marks the dangling continuation


def substitute(text, variables):
    """Expand $NAME, ${NAME} and ${NAME:-default} as the builder does for FROM/ENV/COPY."""
    def repl(m):
        name = m.group(1) or m.group(2)
        default = m.group(3)
        value = variables.get(name)
        if value in (None, "") and default is not None:
            return default
        return value if value is not None else ""
    return re.sub(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\})",
                  repl, text)


def parse_key_values(args):
    """ENV/ARG/LABEL arguments: `K=V K2="v 2"` or the legacy `K V` form."""
    words = shlex.split(args, posix=True)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    out = {}
    for w in words:
        key, sep, value = w.partition("=")
        out[key] = value if sep else None
    return out


def _split_flags(args):
    flags = {}
    rest = args
    while rest.startswith("--"):
        word, _, rest = rest.partition(" ")
        key, _, value = word[2:].partition("=")
        flags[key] = value
        rest = rest.lstrip()
    return flags, rest


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    errors, stages, global_args = [], [], {}
    for line, logical in _logical_lines(text):
        if logical.endswith("\\") and not logical.endswith("\\\\"):
            errors.append(f"{path}:{line}: line continuation at end of file")
            logical = logical[:-1]
        name, _, args = logical.partition(" ")
        upper = name.upper()
        if upper not in INSTRUCTIONS:
            errors.append(f"{path}:{line}: unknown instruction {name!r}")
            continue
        if name != upper:
            errors.append(f"{path}:{line}: write instructions in upper case ({name})")
        ins = Instruction(line, upper, args.strip())
        if upper in ("COPY", "ADD", "RUN"):
            ins.flags, ins.args = _split_flags(ins.args)
        if upper in JSON_FORM and ins.args.startswith("["):
            try:
                value = json.loads(ins.args)
            except json.JSONDecodeError as e:
                errors.append(f"{path}:{line}: {upper} exec form is not valid JSON: {e.msg}")
                value = None
            if value is not None:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    errors.append(f"{path}:{line}: {upper} exec form must be an array of strings")
                else:
                    ins.exec_form = value
        if not ins.args:
            errors.append(f"{path}:{line}: {upper} needs arguments")
            continue
        if upper == "FROM":
            words = ins.args.split()
            stage_name = None
            if len(words) == 3 and words[1].upper() == "AS":
                stage_name = words[2]
            elif len(words) != 1:
                errors.append(f"{path}:{line}: FROM takes IMAGE [AS NAME]")
            base = substitute(words[0], global_args)
            if any(s.name == stage_name for s in stages if stage_name):
                errors.append(f"{path}:{line}: stage name {stage_name!r} used twice")
            stages.append(Stage(len(stages), base, stage_name, line))
            continue
        if not stages:
            if upper != "ARG":
                errors.append(f"{path}:{line}: only ARG may come before the first FROM")
            else:
                global_args.update({k: v or "" for k, v in parse_key_values(ins.args).items()})
            continue
        stages[-1].instructions.append(ins)
    if not stages:
        errors.append(f"{path}: no FROM instruction")
    return Dockerfile(path, global_args, stages, errors)


def apt_installs(stage):
    """The packages the stage's RUN lines install with `apt-get install`."""
    pkgs = set()
    for ins in stage.instructions:
        if ins.name != "RUN":
            continue
        for m in re.finditer(r"apt-get install ((?:\s*-\S+)*)((?:\s+[a-z0-9][a-z0-9.+-]*)+)",
                             ins.args):
            pkgs.update(m.group(2).split())
    return pkgs


def stage_env(stage):
    """The environment the stage's ENV instructions set, in order, with expansion (of earlier
    ENV values and of the stage's ARG defaults)."""
    env, args = {}, {}
    for ins in stage.instructions:
        if ins.name == "ARG":
            for key, value in parse_key_values(ins.args).items():
                args[key] = substitute(value or "", {**args, **env})
        if ins.name == "ENV":
            for key, value in parse_key_values(ins.args).items():
                env[key] = substitute(value or "", {**args, **env})
    return env


SHELL_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for",
                  "!", "{", "}", "(", ")"}
# Builtins that run their first argument as a command.
COMMAND_PREFIXES = {"exec", "command", "nohup", "env"}


def shell_commands(script):
    """The programs a simple POSIX shell script runs (first word of every simple command).

    Good enough for Dockerfile RUN lines and exec-config hooks: it understands ; && || | and
    if/then/else/fi, skips VAR=value prefixes, and looks through exec/command/env.
    """
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    commands, at_start = [], True
    for token in lexer:
        if token in (";", "&&", "||", "|", "&", ";;"):
            at_start = True
            continue
        if not at_start:
            continue
        if token in SHELL_KEYWORDS or token in COMMAND_PREFIXES:
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            continue
        if token.startswith("-"):
            continue          # an option of env/command
        commands.append(token)
        at_start = False
    return commands
