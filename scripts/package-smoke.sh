#!/usr/bin/env bash
# Package smoke test: what a consumer of the NuGet packages sees.
#   1. packs every shipped package into a temporary feed and checks each one: README, XML docs, symbols (snupkg with
#      the portable PDB and its SourceLink map), the Nerdbank.GitVersioning version and the repository commit;
#   2. installs the netpol tool from that feed (dotnet tool install --tool-path) and runs compile and trace on
#      samples/payments/cluster.yaml;
#   3. runs samples/PolicyUnitTests (an application-style xunit project) against the feed, with the packed version.
# Offline-safe: the only package sources are the temporary feed and the local NuGet cache.
#
#   scripts/package-smoke.sh [--no-build]     --no-build: pack what `dotnet build -c Release` already built
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

pack_args=()
[ "${1:-}" = "--no-build" ] && pack_args+=(--no-build)

work=$(mktemp -d "${TMPDIR:-/tmp}/netpol-package-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
feed=$work/feed
fail() { echo "package-smoke: FAILED: $*" >&2; exit 1; }
step() { echo "package-smoke: $*"; }

# --- 1. pack and inspect --------------------------------------------------------------------------------------------
step "packing into $feed"
dotnet pack NetPolicy.Compiler.sln -c Release -nologo -v quiet -o "$feed" "${pack_args[@]}" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; fail "dotnet pack"; }

list_zip() {
  if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$1"; else python3 -c 'import sys,zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; fi
}
read_zip() {
  if command -v unzip >/dev/null 2>&1; then unzip -p "$1" "$2"; else python3 -c 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$1" "$2"; fi
}

testing_pkg=$(ls "$feed"/NetPolicy.Testing.*.nupkg 2>/dev/null | grep -v '\.symbols\.' | head -1) || true
[ -n "$testing_pkg" ] || fail "no NetPolicy.Testing package in $feed"
version=$(basename "$testing_pkg" .nupkg); version=${version#NetPolicy.Testing.}
# Nerdbank.GitVersioning: version.json's major.minor, the git height as patch, a -g<commit> suffix off the public branches.
nbgv_major_minor=$(sed -n 's/.*"version": *"\([0-9]*\.[0-9]*\).*/\1/p' version.json)
case "$version" in "$nbgv_major_minor".*) ;; *) fail "version $version does not come from version.json ($nbgv_major_minor)";; esac
step "packed version $version"

origin=$(git remote get-url origin 2>/dev/null || true)
sourcelink_host=$(sed -n 's#^\(https://\|git@\)\(github\.com\|gitlab\.com\|bitbucket\.org\|dev\.azure\.com\)[:/].*#\2#p' <<<"$origin")
[ -n "$sourcelink_host" ] || step "note: origin '${origin:-none}' is not a hosted git service; SourceLink maps are checked only in such clones (the commit always is)"

for id in NetPolicy.Compiler NetPolicy.Manifests NetPolicy.Loader NetPolicy.Analysis NetPolicy.Testing NetPolicy.Cli; do
  pkg=$feed/$id.$version.nupkg
  sym=$feed/$id.$version.snupkg
  [ -f "$pkg" ] || fail "$id: $pkg is missing"
  [ -f "$sym" ] || fail "$id: symbol package $sym is missing"
  files=$(list_zip "$pkg")
  nuspec=$(read_zip "$pkg" "$id.nuspec")
  grep -qx 'README.md' <<<"$files" || fail "$id: README.md is not in the package"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$id: the nuspec does not declare its README"
  grep -q "<version>$version</version>" <<<"$nuspec" || fail "$id: nuspec version differs from $version"
  grep -q '<repository [^>]*commit="[0-9a-f]\{40\}"' <<<"$nuspec" || fail "$id: the nuspec has no repository commit (SourceLink)"
  read_zip "$pkg" README.md | grep -q "$id" || fail "$id: README.md does not describe $id"
  if [ "$id" = NetPolicy.Cli ]; then
    dir=tools/net10.0/any
    grep -q '<packageType name="DotnetTool"' <<<"$nuspec" || fail "$id: not a dotnet tool package"
    grep -qx "$dir/DotnetToolSettings.xml" <<<"$files" || fail "$id: DotnetToolSettings.xml is missing"
  else
    dir=lib/net10.0
    grep -qx "$dir/$id.xml" <<<"$files" || fail "$id: XML documentation $dir/$id.xml is missing"
  fi
  grep -qx "$dir/$id.dll" <<<"$files" || fail "$id: $dir/$id.dll is missing"
  pdb=$(list_zip "$sym" | grep -x "$dir/$id.pdb") || fail "$id: the symbol package has no $dir/$id.pdb"
  # The portable PDB carries the SourceLink map as raw JSON: {"documents":{"/path/*":"https://raw.../*"}}. The SDK's
  # built-in SourceLink can only map a clone whose origin is a known host (GitHub, ...); other clones get the commit only.
  if [ -n "$sourcelink_host" ]; then
    read_zip "$sym" "$pdb" | grep -aq '{"documents":' || fail "$id: the PDB has no SourceLink map (origin $origin)"
    grep -q "<repository [^>]*url=\"https://$sourcelink_host/" <<<"$nuspec" || fail "$id: the nuspec has no repository URL"
  fi
  step "ok $id $version: README, $([ "$id" = NetPolicy.Cli ] && echo tool || echo 'XML docs'), snupkg, commit${sourcelink_host:+ and SourceLink map}"
done

sources_of_cache=$(dotnet nuget locals global-packages -l | sed 's/^global-packages: *//')
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="smoke-feed" value="$feed" />
    <add key="local-cache" value="$sources_of_cache" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="smoke-feed"><package pattern="NetPolicy.*" /></packageSource>
    <packageSource key="local-cache"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF
# A private package folder: never a stale NetPolicy.* of the same version from an earlier run.
export NUGET_PACKAGES=$work/packages

# --- 2. the tool ----------------------------------------------------------------------------------------------------
step "dotnet tool install NetPolicy.Cli $version"
dotnet tool install --tool-path "$work/tool" --configfile "$work/nuget.config" NetPolicy.Cli --version "$version" >"$work/tool.log" 2>&1 || { cat "$work/tool.log" >&2; fail "tool install"; }
netpol=$work/tool/netpol
sample=samples/payments/cluster.yaml
"$netpol" compile "$sample" >"$work/compile.txt" || fail "netpol compile $sample"
grep -q 'production/payments-api' "$work/compile.txt" || fail "netpol compile printed no payments-api"
"$netpol" trace "$sample" --from production/frontend --to production/payments-api --port 8080 >"$work/trace1.txt" || fail "netpol trace (frontend)"
grep -q '^DENIED' "$work/trace1.txt" || { cat "$work/trace1.txt" >&2; fail "frontend -> payments-api:8080 is not denied"; }
"$netpol" trace "$sample" --from production/nginx-ingress --to production/payments-api --port http >"$work/trace2.txt" || fail "netpol trace (nginx-ingress)"
grep -q '^ALLOWED' "$work/trace2.txt" || { cat "$work/trace2.txt" >&2; fail "nginx-ingress -> payments-api:http is not allowed"; }
step "ok netpol compile and trace from the installed tool"

# samples/PipelineArtifacts with the installed tool: the committed artifacts match, a changed input fails with a diff,
# and --fail-on-open fails on the proposed change that opens a connection.
pipeline=samples/PipelineArtifacts/check.sh
"$pipeline" --netpol "$netpol" >"$work/pipeline.txt" 2>&1 || { cat "$work/pipeline.txt" >&2; fail "$pipeline: the committed artifacts in samples/PipelineArtifacts/expected differ (run it with --update if intended)"; }
grep -q 'Opened (1)' "$work/pipeline.txt" || { cat "$work/pipeline.txt" >&2; fail "$pipeline printed no opened connection for proposed/"; }
status=0; "$pipeline" --netpol "$netpol" --input proposed/cluster.yaml >"$work/pipeline-changed.txt" 2>&1 || status=$?
[ "$status" = 1 ] && grep -q 'differ from the reviewed ones' "$work/pipeline-changed.txt" || { cat "$work/pipeline-changed.txt" >&2; fail "$pipeline accepted changed artifacts (exit $status)"; }
status=0; "$pipeline" --netpol "$netpol" --fail-on-open >/dev/null 2>&1 || status=$?
[ "$status" = 3 ] || fail "$pipeline --fail-on-open exited $status, not 3"
step "ok samples/PipelineArtifacts: artifacts match, a change fails with a diff, --fail-on-open fails on an opened connection"

# --- 3. the application-style test project --------------------------------------------------------------------------
# Copied out of the repository, so nothing of the repository's build (props, central versions) can leak in.
mkdir -p "$work/app/samples"
cp -r samples/PolicyUnitTests samples/payments "$work/app/samples/"
rm -rf "$work/app/samples/PolicyUnitTests/bin" "$work/app/samples/PolicyUnitTests/obj"
app=$work/app/samples/PolicyUnitTests
step "dotnet test samples/PolicyUnitTests against NetPolicy.Testing $version"
dotnet restore "$app" --configfile "$work/nuget.config" -p:NetPolicyVersion="$version" -v quiet >"$work/restore.log" 2>&1 || { cat "$work/restore.log" >&2; fail "restore of samples/PolicyUnitTests"; }
dotnet test "$app" --no-restore -c Release -nologo -p:NetPolicyVersion="$version" --logger "console;verbosity=minimal" 2>&1 | tee "$work/test.log" | grep -E 'Passed!|Failed!|error' || true
grep -q 'Passed!  - Failed:     0' "$work/test.log" || { cat "$work/test.log" >&2; fail "samples/PolicyUnitTests"; }
grep -q "netpolicy.testing/$version" "$work/app/samples/PolicyUnitTests/obj/project.assets.json" || fail "samples/PolicyUnitTests did not use NetPolicy.Testing $version"
step "ok: every package packed, inspected, installed and used"
