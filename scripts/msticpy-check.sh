#!/usr/bin/env bash
# Runs msticpy 3.0.2 (QueryProvider "MDE" and "M365DGraph") and a urllib client written
# after Microsoft's documented Python sample for advanced hunting against a real
# `peregrine serve --demo` on 127.0.0.1 — the check that existing tools work by changing
# only their base URLs. Not part of .ci/run: it needs PyPI.
#
#   bash scripts/msticpy-check.sh
#
# Environment (all optional):
#   PEREGRINE_BIN           the peregrine binary (default: $CARGO_TARGET_DIR/release/peregrine
#                           or target/release/peregrine, built with `cargo build --release -p
#                           peregrine` when missing)
#   PEREGRINE_MSTICPY_VENV  the Python venv, made outside the repository when missing
#                           (default: ~/.cache/peregrine-msticpy/venv)
#   PEREGRINE_DEMO_DEVICES  write a smaller demo tenant (N devices, 2 days) before serving,
#                           instead of serve --demo's default one (50 devices, 7 days)
#   PYTHON                  the Python that makes the venv (default: python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

venv="${PEREGRINE_MSTICPY_VENV:-$HOME/.cache/peregrine-msticpy/venv}"
if ! "$venv/bin/python" -c 'import msticpy, sys; sys.exit(msticpy.__version__ != "3.0.2")' 2>/dev/null; then
  echo "msticpy-check: installing msticpy==3.0.2 into $venv" >&2
  mkdir -p "$(dirname "$venv")"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'msticpy==3.0.2'
fi

bin="${PEREGRINE_BIN:-}"
if [[ -z "$bin" ]]; then
  target="${CARGO_TARGET_DIR:-$repo/target}"
  bin="$target/release/peregrine"
  if [[ ! -x "$bin" ]]; then
    (cd "$repo" && cargo build --release -p peregrine)
  fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/peregrine-msticpy.XXXXXX")"
server=""
cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
if [[ -n "${PEREGRINE_DEMO_DEVICES:-}" ]]; then
  "$bin" demo --data "$data" --devices "$PEREGRINE_DEMO_DEVICES" --days 2 >"$work/demo.log" 2>&1
fi

# A free port on the loopback interface.
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

"$bin" serve --demo --data "$data" --listen "127.0.0.1:$port" >"$work/serve.out" 2>"$work/serve.log" &
server=$!

# serve --demo prints the demo app's credentials once it listens.
for _ in $(seq 1 1200); do
  grep -q 'client secret:' "$work/serve.out" 2>/dev/null && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "msticpy-check: the server stopped:" >&2
    tail -20 "$work/serve.log" >&2
    exit 1
  fi
  sleep 0.5
done
field() { sed -n "s/^ *$1: *//p" "$work/serve.out" | head -1; }
tenant="$(field 'tenant id')"
client_id="$(field 'client id')"
secret="$(field 'client secret')"
if [[ -z "$secret" ]]; then
  echo "msticpy-check: no credentials from serve --demo" >&2
  tail -20 "$work/serve.log" >&2
  exit 1
fi

# The configuration the issue gives: discovery via resource_manager_url, the API at apiRoot.
cat >"$work/msticpyconfig.yaml" <<YAML
Azure:
  cloud: global
  resource_manager_url: $base/
DataProviders:
  MicrosoftDefender:
    Args:
      ClientId: "$client_id"
      TenantId: "$tenant"
      ClientSecret: "$secret"
      apiRoot: $base/
YAML

echo "msticpy-check: server $base, tenant $tenant, app $client_id" >&2
status=0
MSTICPYCONFIG="$work/msticpyconfig.yaml" PEREGRINE_URL="$base" PEREGRINE_TENANT="$tenant" \
  PEREGRINE_CLIENT_ID="$client_id" PEREGRINE_CLIENT_SECRET="$secret" \
  "$venv/bin/python" "$here/msticpy_check.py" || status=$?
if [[ $status -ne 0 ]]; then
  echo "msticpy-check: FAILED; the server's log ends with:" >&2
  tail -30 "$work/serve.log" >&2
fi
exit $status
