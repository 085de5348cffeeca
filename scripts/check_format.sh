#!/usr/bin/env bash
# Fails if any C++ file of the repository differs from what clang-format
# (Debian 12's, with .clang-format: Google style, 100 columns) makes of it.
# Mend with: git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "check_format: clang-format is not installed (apt-get install clang-format)" >&2
  exit 1
fi
bad=()
while IFS= read -r f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.cc' '*.h')
if ((${#bad[@]})); then
  echo "check_format: ${#bad[@]} file(s) are not clang-formatted:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "mend with: git ls-files '*.cc' '*.h' | xargs clang-format -i" >&2
  exit 1
fi
echo "check_format: every C++ file is clang-formatted"
