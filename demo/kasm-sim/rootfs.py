"""The container's root filesystem for bwrap, composed from bind mounts.

bwrap starts from an empty tmpfs root.  compose() fills it so that it looks like the host's
root with some paths added or replaced (the image's /usr/local, /etc/vault/manifest.yaml,
/vault and its folders, ...), without ever creating a mount point on the host: a directory is
rebuilt (an empty --dir with each host entry bound into it) only where something has to be
added inside it; everything else is one read-only bind of the host's own entry.
"""
import os


def compose(cpath, layers, mounts, uppers, args):
    """Append to `args` the bwrap arguments that make `cpath` the union of `layers` (host
    paths, lower first; the upper one wins for a file), with `mounts` (container path → its
    bwrap operation) and `uppers` (container path → one more host layer there) applied."""
    if cpath in uppers:
        layers = layers + [uppers[cpath]]
    if cpath in mounts:
        args.extend(mounts[cpath])
        layers = []
    inside = cpath.rstrip("/") + "/"
    pending = any(p.startswith(inside) for p in list(mounts) + list(uppers))
    present = [p for p in layers if os.path.lexists(p)]
    top = present[-1] if present else None
    dirs = [p for p in present if os.path.isdir(p) and not os.path.islink(p)]
    if top in dirs and len(dirs) > 1:
        pending = True           # two directories to merge
    if not pending:
        if cpath not in mounts and top is not None:
            if os.path.islink(top):
                args.extend(["--symlink", os.readlink(top), cpath])
            else:
                args.extend(["--ro-bind", top, cpath])
        return
    if cpath not in mounts and cpath != "/":
        args.extend(["--dir", cpath])
    names = set()
    for d in dirs:
        names.update(os.listdir(d))
    for p in list(mounts) + list(uppers):
        if p.startswith(inside):
            names.add(p[len(inside):].split("/")[0])
    for name in sorted(names):
        compose(inside + name, [os.path.join(d, name) for d in dirs], mounts, uppers, args)
