"""Run every benchmark: each bench/<name>.py is a script that writes
bench/results/<name>.json. `python -m bench [name ...]` runs some."""

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main(names):
    scripts = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    if names:
        scripts = [p for p in scripts if p.stem in names]
    failed = []
    for script in scripts:
        print("== bench %s" % script.stem, flush=True)
        if subprocess.run([sys.executable, str(script)], check=False).returncode:
            failed.append(script.stem)
    if failed:
        raise SystemExit("benchmarks failed: %s" % ", ".join(failed))


if __name__ == "__main__":
    main(sys.argv[1:])
