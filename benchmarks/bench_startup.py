"""Start-up of the command line against ``python -c "import click"``, measured in the same run.

Each command runs in a fresh interpreter; the best of several runs is the
least disturbed by other work on the machine. Targets: ``kantelmeter --help``
under 3x importing click; ``instruments list`` (every shipped YAML parsed
once, with libyaml). Also shown: which heavy libraries ``--help`` loads (none).

Run: ``.venv/bin/python benchmarks/bench_startup.py [repeat]``
"""

from __future__ import annotations

import subprocess
import sys
import time

HEAVY = ("pandas", "numpy", "statsmodels", "nbformat", "pydantic", "sqlalchemy")


def best_run(code: str, repeat: int) -> float:
    """Best wall time of ``repeat`` fresh interpreters running ``code``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def command(*args: str) -> str:
    """Code that runs ``kantelmeter ARGS`` as the console script does."""
    return f"import sys; sys.argv = ['kantelmeter', *{list(args)!r}]\nfrom kantelmeter.cli import main\nmain()"


def main(repeat: int = 7) -> None:
    click = best_run("import click", repeat)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kantelmeter.cli import main; "
            f"print(', '.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"python -c 'import click'         {click * 1000:6.0f} ms")
    for args, target in ((("--help",), 3.0), (("instruments", "list"), None)):
        wall = best_run(command(*args), repeat)
        verdict = f"  target under {target:.0f}x: {'met' if wall / click < target else 'NOT met'}" if target else ""
        print(f"kantelmeter {' '.join(args):<20} {wall * 1000:6.0f} ms   {wall / click:4.1f}x import click{verdict}")
    print(f"heavy libraries loaded by the command line: {loaded}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
