#!/usr/bin/env bash
# Builds the `fence` command line as a Python wheel (as squawk ships its linter): the release
# binary in the wheel's scripts, so `pip install fence-cli-*.whl` puts `fence` on the PATH of
# the environment, with no Rust toolchain. The platform tag is the manylinux one of the
# newest glibc symbol the binary needs (read from the binary itself).
# Usage: scripts/wheel.sh [--check]
#   --check   installs the wheel into a fresh virtualenv (no index, no network) and runs it:
#             --version, and the content hashes of the shared vectors
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CHECK=
case "${1:-}" in
    --check) CHECK=1 ;;
    "") ;;
    *) echo "usage: scripts/wheel.sh [--check]" >&2; exit 2 ;;
esac

say "building the fence CLI wheel (release build)"
cargo build --release -q -p fence-cli
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
mkdir -p target/wheel
WHEEL=$(python3 - "$VERSION" target/release/fence target/wheel <<'PY'
import base64, hashlib, os, re, subprocess, sys, zipfile
version, binary, out = sys.argv[1:]
# The newest GLIBC_x.y symbol version the binary needs decides the manylinux tag.
symbols = subprocess.run(["objdump", "-T", binary], capture_output=True, text=True, check=True).stdout
glibc = max((tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+\.\d+)", symbols)), default=(2, 17))
machine = os.uname().machine
tag = f"py3-none-manylinux_{glibc[0]}_{glibc[1]}_{machine}"
name = f"fence_cli-{version}"
path = os.path.join(out, f"{name}-{tag}.whl")
files = {
    f"{name}.data/scripts/fence": (open(binary, "rb").read(), 0o755),
    f"{name}.dist-info/METADATA": ((
        "Metadata-Version: 2.1\n"
        "Name: fence-cli\n"
        f"Version: {version}\n"
        "Summary: fence's command line: lock analysis of PostgreSQL migrations without a database, "
        "content hashes for fence approvals, offline verification of fence's audit chain\n"
        "License: PostgreSQL\n"
        "Requires-Python: >=3.7\n").encode(), 0o644),
    f"{name}.dist-info/WHEEL": ((
        "Wheel-Version: 1.0\n"
        "Generator: fence scripts/wheel.sh\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {tag}\n").encode(), 0o644),
}
record = []
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
    for arcname, (data, mode) in files.items():
        info = zipfile.ZipInfo(arcname, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        wheel.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arcname},sha256={digest},{len(data)}")
    record.append(f"{name}.dist-info/RECORD,,")
    info = zipfile.ZipInfo(f"{name}.dist-info/RECORD", date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o100644 << 16
    wheel.writestr(info, "\n".join(record) + "\n")
print(path)
PY
)
echo "wheel: $WHEEL"

if [ -n "$CHECK" ]; then
    say "installing the wheel into a fresh virtualenv"
    VENV=$(mktemp -d)
    trap 'rm -rf "$VENV"' EXIT
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --no-index --disable-pip-version-check "$WHEEL"
    fails=0
    [ "$("$VENV/bin/fence" --version)" = "fence $VERSION" ] && echo "  ok    fence --version: fence $VERSION" \
        || { echo "  FAIL  fence --version"; fails=$((fails + 1)); }
    # The installed binary computes the content hashes the extension computes.
    if python3 - "$VENV/bin/fence" <<'PY'
import json, subprocess, sys
bad = 0
for v in json.load(open("crates/fence-core/tests/vectors.json")):
    got = subprocess.run([sys.argv[1], "hash", "-"], input=v["sql"].encode(), capture_output=True).stdout.decode().split()
    if not got or got[0] != v["content_hash"]:
        print(f"  FAIL  content hash of vector {v['name']!r}: {got[:1]}, expected {v['content_hash']}")
        bad += 1
sys.exit(1 if bad else 0)
PY
    then :; else fails=$((fails + 1)); fi
    [ "$fails" -eq 0 ] && echo "  ok    the installed fence hashes the shared vectors as the extension does"
    [ "$fails" -eq 0 ] || exit 1
fi
