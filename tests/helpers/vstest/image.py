"""What the image tests share: where the source and build trees are, and how a test ends."""
import os

SOURCE_ROOT = os.environ.get("VS_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD_ROOT = os.environ.get("VS_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))


def finish(problems, summary):
    """Print every problem, then one summary line; the exit status for sys.exit()."""
    for p in problems:
        print(p)
    print(f"{summary}, {len(problems)} problems")
    return 1 if problems else 0
