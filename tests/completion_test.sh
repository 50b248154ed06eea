#!/usr/bin/env bash
# Drives the bash completion function with COMP_WORDS, as bash does on <Tab>; asks fish for its
# candidates of the same lines; loads the zsh completion.
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
expect "wsmqtt " rr
expect "wsmqtt " bench
expect "wsmqtt bench " pub
expect "wsmqtt bench " merge
expect "wsmqtt bench pub --sh" --shard
expect "wsmqtt bench sub --shard " auto
expect "wsmqtt bench conn -" --bind
reject "wsmqtt bench conn -" --will-topic
expect "wsmqtt rr -" -e
expect "wsmqtt rr --ret" --retain-handling
reject "wsmqtt rr -" -l
expect "wsmqtt sub -V " mqttv5
expect "wsmqtt pub -D " publish
expect "wsmqtt sub --retain-handling " never
expect "wsmqtt sub --no" --no-local
reject "wsmqtt sub -" --topic-alias
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
expect "wsmqtt pub --j" --json
expect "wsmqtt pub --pace " recorded
reject "wsmqtt sub -" --repeat
# Every option that --help lists is offered.
bin=${WSMQTT_BIN:-}
if [[ -n $bin && -x $bin ]]; then
  for command in sub pub rr; do
    # Option lines of the help start with spaces and a dash: "  -h,--host TEXT   Broker host".
    for option in $("$bin" "$command" --help | grep -E '^ +-' | awk '{print $1}' | sed 's/{.*}//' | tr ',' '\n' | sort -u); do
      expect "wsmqtt $command $option" "$option"
    done
  done
fi
[[ $fail -eq 0 ]] && echo "bash completion: all cases pass"

# zsh and fish completions are generated from --help: they must be up to date.
if [[ -n $bin && -x $bin ]]; then
  python3 "$(dirname "$0")/../scripts/gen-completions" --check --binary "$bin" || fail=1
fi
completions=$(cd "$(dirname "$0")/../completions" && pwd)

# fish answers `complete -C LINE` with its candidates, one per line (candidate<TAB>description).
if command -v fish >/dev/null; then
  files=$(mktemp -d)
  touch "$files/ca.pem"
  fish_expect() { # fish_expect "<line>" <candidate>
    local got
    got=$(cd "$files" && fish --no-config -c "source '$completions/wsmqtt.fish'; complete -C '$1'" 2>&1 | cut -f1)
    if ! grep -qxF -- "$2" <<<"$got"; then
      echo "FAIL (fish): '$1' should offer '$2', got: $(tr '\n' ' ' <<<"$got")"; fail=1
    fi
  }
  fish_reject() {
    local got
    got=$(cd "$files" && fish --no-config -c "source '$completions/wsmqtt.fish'; complete -C '$1'" 2>&1 | cut -f1)
    if grep -qxF -- "$2" <<<"$got"; then echo "FAIL (fish): '$1' should not offer '$2'"; fail=1; fi
  }
  fish_expect "wsmqtt " sub
  fish_expect "wsmqtt " pub
  fish_expect "wsmqtt " rr
expect "wsmqtt " bench
expect "wsmqtt bench " pub
expect "wsmqtt bench " merge
expect "wsmqtt bench pub --sh" --shard
expect "wsmqtt bench sub --shard " auto
expect "wsmqtt bench conn -" --bind
reject "wsmqtt bench conn -" --will-topic
  fish_expect "wsmqtt rr --response" --response-topic
  fish_expect "wsmqtt sub --retain-handling " never
  fish_reject "wsmqtt rr --" --stdin-line
  fish_expect "wsmqtt sub --to" --topic
  fish_expect "wsmqtt pub -q " 2
  fish_expect "wsmqtt sub -V " mqttv31
  fish_expect "wsmqtt sub --tls-version " tlsv1.3
  fish_expect "wsmqtt sub --cafile " ca.pem
  fish_expect "wsmqtt pub -f " ca.pem
  fish_expect "wsmqtt sub -L " wss://
  fish_reject "wsmqtt sub --" --repeat
  fish_expect "wsmqtt pub --pace " recorded
  if [[ -n $bin && -x $bin ]]; then
    for command in sub pub rr; do
      for option in $("$bin" "$command" --help | grep -E '^ +-' | awk '{print $1}' | sed 's/{.*}//' | tr ',' '\n' | grep -- '^--' | sort -u); do
        fish_expect "wsmqtt $command $option" "$option"
      done
    done
  fi
  rm -rf "$files"
  [[ $fail -eq 0 ]] && echo "fish completion: all cases pass"
else
  echo "fish not installed: fish completion not tested"
fi

# zsh: the function loads through compinit from its folder, as installed, without errors.
if command -v zsh >/dev/null; then
  out=$(zsh -f -c "zsh -n '$completions/_wsmqtt' && fpath=('$completions' \$fpath) && autoload -U compinit &&
        compinit -u -d \"\$(mktemp)\" && [[ \${_comps[wsmqtt]} == _wsmqtt ]] && autoload -U +X _wsmqtt && whence -w _wsmqtt" 2>&1)
  if [[ $out != *"_wsmqtt: function"* ]]; then echo "FAIL (zsh): the completion does not load: $out"; fail=1
  else echo "zsh completion: loads"; fi
else
  echo "zsh not installed: zsh completion not tested"
fi
exit $fail
