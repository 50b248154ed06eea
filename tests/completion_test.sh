#!/usr/bin/env bash
# Drives the bash completion function with COMP_WORDS, as bash does on <Tab>.
set -euo pipefail
source "$(dirname "$0")/../completions/wsmqtt.bash"

fail=0
# Fills COMPREPLY for a command line as bash would on <Tab> at its end.
complete_line() {
  read -ra COMP_WORDS <<<"$1"
  [[ $1 == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _wsmqtt
}
expect() { # expect "<words>" <word expected among the candidates>
  complete_line "$1"
  if [[ " ${COMPREPLY[*]} " != *" $2 "* ]]; then
    echo "FAIL: '$1' should offer '$2', got: ${COMPREPLY[*]}"; fail=1
  fi
}
reject() { # reject "<words>" <word that must not be offered>
  complete_line "$1"
  if [[ " ${COMPREPLY[*]} " == *" $2 "* ]]; then
    echo "FAIL: '$1' should not offer '$2'"; fail=1
  fi
}

expect "wsmqtt " sub
expect "wsmqtt " pub
expect "wsmqtt sub --to" --topic
expect "wsmqtt sub -" -C
expect "wsmqtt pub -" -m
reject "wsmqtt sub -" -m
reject "wsmqtt pub -" -C
expect "wsmqtt pub -q " 2
expect "wsmqtt sub -V " mqttv31
expect "wsmqtt sub -L w" wss://
expect "wsmqtt sub --re" --retained-only
expect "wsmqtt sub --re" --remove-retained
expect "wsmqtt sub -" --json
expect "wsmqtt pub -" -l
expect "wsmqtt pub --to" --topic-separator
expect "wsmqtt pub --will-q" --will-qos
expect "wsmqtt pub --will-qos " 1
expect "wsmqtt sub --tls-version " tlsv1.3
expect "wsmqtt pub --proxy " socks5h://
reject "wsmqtt pub -" --json
reject "wsmqtt sub -" --repeat
# Every option that --help lists is offered.
bin=${WSMQTT_BIN:-}
if [[ -n $bin && -x $bin ]]; then
  for command in sub pub; do
    # Option lines of the help start with spaces and a dash: "  -h,--host TEXT   Broker host".
    for option in $("$bin" "$command" --help | grep -E '^ +-' | awk '{print $1}' | tr ',' '\n' | sort -u); do
      expect "wsmqtt $command $option" "$option"
    done
  done
fi
[[ $fail -eq 0 ]] && echo "bash completion: all cases pass"
exit $fail
