"""`make security`: pip-audit over requirements.txt, honestly reported.

Exit 1 when a pinned package has a known vulnerability (not listed in
IGNORED with a reason). When the advisory data cannot be reached (no network
to PyPI's JSON API, as on an offline workstation) or a package could not be
audited, say so loudly: that is *not* a pass. It fails too when
PIP_AUDIT_REQUIRED=1 (set it where the network is there).
"""

from __future__ import annotations

import json
import os

# A fixed command line, no outside input.
import subprocess  # nosec B404
import sys

# Vulnerability id → why it does not apply to us. Empty today.
IGNORED: dict[str, str] = {}


def main() -> int:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        "requirements.txt",
        "--no-deps",  # every runtime package is pinned in requirements.txt
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        *[arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)],
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)  # nosec B603
    try:
        report = json.loads(run.stdout)
    except ValueError:
        print(run.stderr[-2000:], file=sys.stderr)
        return _not_audited("pip-audit could not run to the end (no advisory data?)")
    dependencies = report.get("dependencies", [])
    vulnerable = [(d["name"], d["version"], v["id"]) for d in dependencies for v in d.get("vulns", [])]
    skipped = [
        f"{d['name']} {d.get('version', '')}: {d['skip_reason']}"
        for d in dependencies
        if d.get("skip_reason")
    ]
    for name, version, vuln in vulnerable:
        print(f"pip-audit: {name} {version} has {vuln}")
    if vulnerable:
        return 1
    if skipped:
        return _not_audited(
            f"{len(skipped)} of {len(dependencies)} packages could not be audited, e.g. {skipped[0]}"
        )
    print(f"pip-audit: no known vulnerabilities in {len(dependencies)} pinned packages.")
    return 0


def _not_audited(why: str) -> int:
    print(f"pip-audit: NOT AUDITED - {why}.")
    print("This is not a pass: run `make security` where PyPI's advisory data is reachable.")
    return 1 if os.environ.get("PIP_AUDIT_REQUIRED") == "1" else 0


if __name__ == "__main__":
    sys.exit(main())
