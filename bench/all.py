"""Every benchmark figure in one run: the deployment package's size, the cold import of the
Lambda handler against `import boto3`, then one_click.py, offer_decisions.py, sunset.py and
load.py in turn (each measures its own side-by-side ratios).

    .venv/bin/python bench/all.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from common import ROOT


def package_size() -> None:
    out = Path(tempfile.mkdtemp(prefix="offboard-package-")) / "prod"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    subprocess.run(
        [
            str(Path(sys.executable).parent / "chalice"),
            "package",
            "--stage",
            "prod",
            "--merge-template",
            "infra/resources.yaml",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    archive = out / "deployment.zip"
    unpacked = sum(info.file_size for info in zipfile.ZipFile(archive).infolist())
    ours = sum(
        info.file_size
        for info in zipfile.ZipFile(archive).infolist()
        if info.filename == "app.py" or info.filename.startswith("chalicelib/")
    )
    print(
        f"deployment package: {archive.stat().st_size / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB unpacked (limit 250 MB); app.py + chalicelib: {ours / 1e3:.0f} kB"
    )


def run(script: str, *args: str) -> None:
    print(f"\n== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs (the sunset list 10,000 instead of 100,000)")
    args = parser.parse_args()
    package_size()
    run("one_click.py", *(["--requests", "100", "--imports", "15"] if args.quick else []))
    run("offer_decisions.py", *(["--decisions", "100"] if args.quick else []))
    run("sunset.py", *(["--subscribers", "10000"] if args.quick else []))
    run("load.py", *(["--requests", "100", "--seconds", "30"] if args.quick else []))


if __name__ == "__main__":
    main()
