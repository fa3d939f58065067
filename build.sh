#!/usr/bin/env bash
# One entry point for newcomers and CI.
#   ./build.sh sample   build the netpol tool and run it on the bundled sample (samples/payments)
#   ./build.sh test     install what the tests need (when missing), build everything, run every test, then the package
#                       smoke test (scripts/package-smoke.sh: pack, inspect, install the tool, run samples/PolicyUnitTests)
#   ./build.sh pack     produce the NuGet packages into artifacts/package
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Nerdbank.GitVersioning needs history; in a shallow clone fall back to a version without git height.
if [ "$(git rev-parse --is-shallow-repository 2>/dev/null || echo true)" = "true" ]; then
  export NBGV_GitEngine=Disabled
fi

need_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH." >&2
    exit 2
  fi
}

# Packages the tests need: iproute2 (the network-namespace lab), libbpf1 (the loader's libbpf.so.1), clang-14 and
# libbpf-dev (rebuilding bpf-templates to check the committed objects), nftables, iptables and ipset (the netfilter
# backends' kernel tests) and unzip (the package smoke test reads the packed .nupkg files). Installed only when
# missing, where apt and root
# are available.
install_test_prerequisites() {
  local wanted=(iproute2 libbpf1 libbpf-dev clang-14 nftables iptables ipset unzip) missing=()
  for pkg in "${wanted[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "build.sh: installing ${missing[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "build.sh: missing packages ${missing[*]}; install them (as root: apt-get install ${missing[*]})" >&2
    fi
  fi
}

netpol() {
  dotnet artifacts/bin/NetPolicy.Cli/release/NetPolicy.Cli.dll "$@"
}

case "${1:-}" in
  sample)
    need_dotnet
    dotnet build src/NetPolicy.Cli -c Release -v quiet -nologo >/dev/null
    sample=samples/payments/cluster.yaml
    echo "== netpol compile $sample"
    netpol compile "$sample"
    echo
    echo "== netpol trace: frontend -> payments-api TCP/8080 (expected: denied)"
    netpol trace "$sample" --from production/frontend --to production/payments-api --port 8080 --protocol TCP
    echo
    echo "== netpol trace: nginx-ingress -> payments-api TCP/8080 (expected: allowed)"
    netpol trace "$sample" --from production/nginx-ingress --to production/payments-api --port 8080 --protocol TCP
    if [ "$(id -u)" = 0 ] && [ -e /usr/lib/x86_64-linux-gnu/libbpf.so.1 -o -e /usr/lib/aarch64-linux-gnu/libbpf.so.1 ]; then
      echo
      echo "== netpol matrix --engine bpf: real packets through the BPF datapath in a network-namespace lab (root only)"
      netpol matrix "$sample" --port 8080 --protocol TCP --engine bpf
    fi
    ;;
  test)
    need_dotnet
    install_test_prerequisites
    # The committed datapath objects must be what their sources build to.
    bpf-templates/build.sh --check
    dotnet build NetPolicy.Compiler.sln -c Release -nologo -v quiet
    log=$(mktemp)
    status=0
    dotnet test NetPolicy.Compiler.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$log" || status=$?
    # What a consumer sees: pack every package into a temporary feed, inspect it, install the tool from it, and run
    # samples/PolicyUnitTests (an application-style test project) against it. Its test summary joins the count below.
    scripts/package-smoke.sh --no-build 2>&1 | tee -a "$log" || status=$?
    # One closing line for every test project together.
    awk '/(Passed|Failed)! +- +Failed: /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}}
         END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
    rm -f "$log"
    exit $status
    ;;
  pack)
    need_dotnet
    dotnet pack NetPolicy.Compiler.sln -c Release -nologo -o artifacts/package
    ;;
  *)
    echo "usage: ./build.sh sample|test|pack" >&2
    exit 2
    ;;
esac
