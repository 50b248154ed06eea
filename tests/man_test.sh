#!/usr/bin/env bash
# The man pages are what scripts/gen-man makes from the binary's --help (so none lacks an
# option), and groff renders them without a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/gen-man --check --binary "$WSMQTT_BIN"
fail=0
for page in docs/wsmqtt.1 docs/wsmqtt-sub.1 docs/wsmqtt-pub.1 docs/wsmqtt-rr.1 docs/wsmqtt-bench.1; do
  warnings=$(groff -ww -z -man "$page" 2>&1)
  if [[ -n $warnings ]]; then
    echo "FAIL: groff warns about $page:"; echo "$warnings"; fail=1
  fi
done
# Every long option the binary knows appears in its page, as roff writes it: \fB\-\-topic\fR.
for command in sub pub rr bench; do
  while read -r option; do
    grep -qF -- "\\fB${option//-/\\-}\\fR" "docs/wsmqtt-$command.1" || { echo "FAIL: $option missing from wsmqtt-$command.1"; fail=1; }
  done < <("$WSMQTT_BIN" "$command" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
done
exit "$fail"
