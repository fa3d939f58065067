#!/usr/bin/env bash
# A build pipeline's policy gate, as an application repository would run it:
#   1. compile the manifests into every rule artifact (identities, IR, nftables, iptables + ipset, BPF map images) and
#      compare them with the reviewed copies committed under expected/; any difference fails the job with a diff;
#   2. write the connections a proposed change opens, closes or changes as Markdown (a PR comment) and, with
#      --fail-on-open, fail when it opens any.
#
#   check.sh [--netpol CMD] [--input FILE|DIR] [--proposed FILE|DIR] [--fail-on-open] [--update]
#     --netpol CMD     the netpol command (default: the repository's build, else `netpol` on PATH)
#     --input          the manifests to compile (default: ../payments/cluster.yaml)
#     --proposed       manifests of a proposed change to report on (default: proposed/cluster.yaml)
#     --update         rewrite expected/ from this compile instead of comparing (review the change, then commit it)
# Exit codes: 0 artifacts as expected, 1 artifacts differ (or netpol failed), 3 the proposed change opens connections
# (with --fail-on-open).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

netpol=()
input=../payments/cluster.yaml
proposed=proposed/cluster.yaml
update=false
fail_on_open=()
while [ $# -gt 0 ]; do
  case "$1" in
    --netpol) read -r -a netpol <<<"$2"; shift 2 ;;
    --input) input=$2; shift 2 ;;
    --proposed) proposed=$2; shift 2 ;;
    --update) update=true; shift ;;
    --fail-on-open) fail_on_open=(--fail-on-open); shift ;;
    *) echo "check.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ ${#netpol[@]} -eq 0 ]; then
  if [ -f ../../artifacts/bin/NetPolicy.Cli/release/NetPolicy.Cli.dll ]; then
    netpol=(dotnet ../../artifacts/bin/NetPolicy.Cli/release/NetPolicy.Cli.dll)
  else
    netpol=(netpol)
  fi
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/netpol-pipeline.XXXXXX")
trap 'rm -rf "$out"' EXIT

# 1. The artifacts: deterministic, so a byte difference is a real change.
"${netpol[@]}" compile "$input" -o "$out/artifacts" >/dev/null
if $update; then
  rm -rf expected
  cp -r "$out/artifacts" expected
  echo "check.sh: expected/ rewritten from $input; review 'git diff' and commit it"
else
  if ! diff -ru --exclude=maps.bin expected "$out/artifacts" >"$out/artifacts.diff" || ! cmp -s expected/bpf/maps.bin "$out/artifacts/bpf/maps.bin"; then
    echo "check.sh: the rule artifacts of $input differ from the reviewed ones in expected/:" >&2
    cat "$out/artifacts.diff" >&2
    cmp -s expected/bpf/maps.bin "$out/artifacts/bpf/maps.bin" || echo "Binary files expected/bpf/maps.bin and the new bpf/maps.bin differ" >&2
    echo "check.sh: if the change is intended, run check.sh --update and commit expected/" >&2
    exit 1
  fi
  echo "check.sh: rule artifacts of $input match expected/"
fi

# 2. What the proposed change does to connections, as a PR comment.
status=0
"${netpol[@]}" diff "$input" "$proposed" --format md "${fail_on_open[@]}" >"$out/connections.md" || status=$?
cat "$out/connections.md"
exit $status
