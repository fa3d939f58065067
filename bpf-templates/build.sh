#!/usr/bin/env bash
# Builds the datapath objects with the pinned clang and records, beside each object, the hash of its sources and the
# clang version that built it. The objects are committed and embedded in NetPolicy.Loader, so `dotnet build` never
# needs clang.
#   ./build.sh           rebuild out/<name>.bpf.o and out/<name>.bpf.o.info
#   ./build.sh --check   rebuild into a temporary folder and fail when the committed objects or their recorded
#                        source hashes differ from what the sources produce (CI runs this)
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-14}
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
CFLAGS=(-O2 -g -Wall -Werror -target bpf -I/usr/include/"$MULTIARCH" -ffile-prefix-map="$PWD"=.)

if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "bpf-templates/build.sh: $CLANG not found; install it (Debian: apt-get install clang-14 libbpf-dev)" >&2
  exit 2
fi
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
  echo "bpf-templates/build.sh: bpf/bpf_helpers.h not found; install libbpf-dev" >&2
  exit 2
fi

clang_version=$("$CLANG" --version | head -n1)
check=false
[ "${1:-}" = "--check" ] && check=true
out=out
if $check; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi

status=0
for src in *.bpf.c; do
  name=${src%.c}
  # The hash covers the program and every header it can include from this folder.
  source_hash=$(cat "$src" include/*.h | sha256sum | cut -d' ' -f1)
  "$CLANG" "${CFLAGS[@]}" -c "$src" -o "$out/$name.o"
  object_hash=$(sha256sum "$out/$name.o" | cut -d' ' -f1)
  printf 'source-sha256: %s\nobject-sha256: %s\nclang: %s\n' "$source_hash" "$object_hash" "$clang_version" > "$out/$name.o.info"
  if $check; then
    if ! cmp -s "$out/$name.o.info" "out/$name.o.info" || ! cmp -s "$out/$name.o" "out/$name.o"; then
      echo "bpf-templates: out/$name.o is stale: rebuild with bpf-templates/build.sh and commit the result" >&2
      diff "out/$name.o.info" "$out/$name.o.info" >&2 || true
      status=1
    else
      echo "bpf-templates: out/$name.o matches its sources ($clang_version)"
    fi
  else
    echo "built out/$name.o ($object_hash)"
  fi
done
exit $status
