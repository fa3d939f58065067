#!/usr/bin/env bash
# Appends every symbol the PublicApiAnalyzers report as undeclared (RS0016) to the project's
# PublicAPI.Unshipped.txt and drops lines for removed symbols (RS0017). Review the diff: it is the API review.
set -euo pipefail
project=${1:?usage: eng/update-public-api.sh src/Project}
dir=$(cd "$project" && pwd)
for _ in 1 2 3; do
  out=$(dotnet build "$dir" --no-incremental 2>&1 || true)
  added=$(grep -oP "error RS0016: Symbol '\K.*(?=' is not part of the declared public API)" <<<"$out" | sort -u || true)
  removed=$(grep -oP "error RS0017: Symbol '\K.*(?=' is part of the declared API, but is either not public or could not be found)" <<<"$out" | sort -u || true)
  [ -z "$added$removed" ] && break
  if [ -n "$removed" ]; then
    while IFS= read -r sym; do grep -vxF -- "$sym" "$dir/PublicAPI.Unshipped.txt" > "$dir/.tmp" || true; mv "$dir/.tmp" "$dir/PublicAPI.Unshipped.txt"; done <<<"$removed"
  fi
  [ -n "$added" ] && printf '%s\n' "$added" >> "$dir/PublicAPI.Unshipped.txt"
  { head -1 "$dir/PublicAPI.Unshipped.txt"; tail -n +2 "$dir/PublicAPI.Unshipped.txt" | sort -u; } > "$dir/.tmp" && mv "$dir/.tmp" "$dir/PublicAPI.Unshipped.txt"
done
grep -E "error|warning" <<<"$out" | grep -vE "RS0016|RS0017" | sort -u | head -40 || true
