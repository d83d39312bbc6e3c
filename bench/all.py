"""Every benchmark figure in one run: the deployment package's size (function zip and layer,
each against its target), the cold import of the HTTP handler against `import boto3`, then
one_click.py, offer_decisions.py, sunset.py and load.py in turn (each measures its own
side-by-side ratios).

    .venv/bin/python bench/all.py [--quick] [--package-only]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from common import ROOT, cold_import_ratio

FUNCTION_ZIP_TARGET = 1_000_000  # bytes: code deploys upload app.py + chalicelib only
TOTAL_TARGET = 18_700_000  # bytes: function + layer, no larger than the one 18.7 MB zip before the layer
IMPORT_RATIO_TARGET = 1.25  # cold `import app` against cold `import boto3`


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def package_size() -> None:
    out = Path(tempfile.mkdtemp(prefix="offboard-package-")) / "prod"
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "OUT": str(out),
        "STAGE": "prod",
        "BOOTSTRAP": "0",
    }
    env.pop("DYNAMODB_ENDPOINT", None)
    subprocess.run([str(ROOT / "scripts" / "package")], cwd=ROOT, env=env, check=True, capture_output=True)
    code, layer = out / "deployment.zip", out / "layer-deployment.zip"
    ours = sum(
        info.file_size
        for info in zipfile.ZipFile(code).infolist()
        if info.filename == "app.py" or info.filename.startswith("chalicelib/")
    )
    unpacked = sum(info.file_size for z in (code, layer) for info in zipfile.ZipFile(z).infolist())
    total = code.stat().st_size + layer.stat().st_size
    print(
        f"function zip (app.py + chalicelib, uploaded by every code deploy): {code.stat().st_size / 1e3:.0f} kB"
        f"  target <= {FUNCTION_ZIP_TARGET / 1e6:.0f} MB  {verdict(code.stat().st_size <= FUNCTION_ZIP_TARGET)}"
        f"  (app.py + chalicelib unpacked: {ours / 1e3:.0f} kB)"
    )
    print(
        f"layer zip (dependencies, boto3 + botocore trimmed to the services called): {layer.stat().st_size / 1e6:.1f} MB"
    )
    print(
        f"function + layer: {total / 1e6:.1f} MB zipped  target <= {TOTAL_TARGET / 1e6:.1f} MB  {verdict(total <= TOTAL_TARGET)}"
        f"  ({unpacked / 1e6:.1f} MB unpacked; Lambda's limit 250 MB)"
    )


def cold_import(runs: int) -> None:
    """The HTTP handler's cold import (`import app`) against `import boto3`, alternating fresh
    interpreters, median of `runs` each; above the target, what app.py imports, costliest first."""
    from tools.stage import load_stage_environment

    load_stage_environment("dev")  # the settings read at import (table names) as in a deployed stage
    app, boto3 = cold_import_ratio("import app", "import boto3", runs)
    ratio = app / boto3
    print(f"cold import app.py (HTTP handler) median of {runs}: {app * 1000:.0f} ms")
    print(f"cold import boto3 median of {runs}:                 {boto3 * 1000:.0f} ms")
    print(
        f"import app / import boto3: {ratio:.2f}x  target <= {IMPORT_RATIO_TARGET}x  {verdict(ratio <= IMPORT_RATIO_TARGET)}"
    )
    if ratio > IMPORT_RATIO_TARGET:
        for module, ms in eager_imports():
            print(f"  imported at cold start: {module:45} {ms:6.0f} ms cumulative")


def eager_imports(limit: int = 12) -> list[tuple[str, float]]:
    """`python -X importtime -c 'import app'`: the costliest modules imported under app, with
    boto3's own import cost counted once (botocore and what it pulls in)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if cumulative.strip().isdigit() and 1 <= depth <= 3:
            rows.append((name.strip(), int(cumulative) / 1000))
    rows.sort(key=lambda r: -r[1])
    return rows[:limit]


def run(script: str, *args: str) -> None:
    print(f"\n== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs (the sunset list 10,000 instead of 100,000)")
    parser.add_argument("--package-only", action="store_true", help="only the package sizes and the cold import")
    args = parser.parse_args()
    package_size()
    cold_import(11 if args.quick else 25)
    if args.package_only:
        return
    run("one_click.py", *(["--requests", "100", "--imports", "15"] if args.quick else []))
    run("offer_decisions.py", *(["--decisions", "100"] if args.quick else []))
    run("sunset.py", *(["--subscribers", "10000"] if args.quick else []))
    run("load.py", *(["--requests", "100", "--seconds", "30"] if args.quick else []))


if __name__ == "__main__":
    main()
