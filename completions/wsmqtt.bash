# bash completion for wsmqtt                                    -*- shell-script -*-
# Installed as share/bash-completion/completions/wsmqtt; or: source completions/wsmqtt.bash

_wsmqtt() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
  fi

  local common="-h --host -p --port -L --url --tls --tcp --ws-path --connect-timeout --cafile
    --insecure -i --id -I --id-prefix -k --keepalive -c --disable-clean-session -u --username
    -P --pw -V --protocol-version --will-topic --will-payload --will-qos --will-retain -q --qos
    -W --timeout -o --options-file -d --debug --quiet --help --password-file -H --header --origin
    --user-agent --subprotocol --compress --proxy --no-proxy --capath --cert --key --key-password-file
    --tls-version --ciphers --alpn --tls-keylog --no-reconnect --retry-first --reconnect-max
    --max-packet-size -x --session-expiry -D --property --auth-method --auth-data"
  local output="-F --format --json -v --verbose -N"
  local message="-m --message -f --file -s --stdin-file -n --null-message --user-property
    --content-type --correlation-data --message-expiry --payload-format"
  local sub_opts="-t --topic -T --filter-out -U --unsubscribe -C --count -E -R --no-retained
    --retained-only --remove-retained $output --rate --user-property --subscription-id --no-local
    --retain-as-published --retain-handling"
  local pub_opts="-t --topic $message -l --stdin-line --topic-separator -r --retain --repeat
    --repeat-delay -M --max-inflight --progress --no-progress --response-topic --topic-alias --json
    --pace --speed --rate"
  local rr_opts="-t --topic -e --response-topic $message -C --count $output --retain-handling"
  local bench_opts="-h --host -p --port --url --tls --tcp --ws-path --connect-timeout --max-packet-size --proxy
    --no-proxy --bind -H --header --origin --user-agent --subprotocol --compress --cafile --capath --cert --key
    --key-password-file --tls-version --ciphers --alpn --tls-keylog --insecure -u --username -P --password
    -V --protocol-version -k --keepalive -c --count -R --connrate -i --interval -n --startnumber --prefix
    -t --topic -q --qos -s --size -I --interval_of_msg --rate -L --limit --duration --inflight --shard
    --start-at --processes --json --summary-json --hgrm --quiet --help"

  local command="" w
  for w in "${words[@]:1:cword-1}"; do
    case $w in sub|pub|rr|bench) command=$w; break ;; esac
  done

  if [[ $command == bench ]]; then
    case $prev in
      --shard) COMPREPLY=($(compgen -W "auto" -- "$cur")); return ;;
      --json|--summary-json|--hgrm) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null || true; return ;;
      -c|--count|-R|--connrate|-i|--interval|-n|--startnumber|--prefix|-s|--size|-I|--interval_of_msg|--rate|\
      -L|--limit|--duration|--inflight|--start-at|--bind|--processes|-P|--password) return ;;
    esac
    # The mode comes first: conn, pub, sub or merge (merge then takes files).
    local mode="" seen=0
    for w in "${words[@]:1:cword-1}"; do
      ((seen)) && case $w in conn|pub|sub|merge) mode=$w; break ;; esac
      [[ $w == bench ]] && seen=1
    done
    if [[ -z $mode ]]; then COMPREPLY=($(compgen -W "conn pub sub merge" -- "$cur")); return; fi
    if [[ $mode == merge && $cur != -* ]]; then COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null || true; return; fi
  fi

  case $prev in
    -q|--qos|--will-qos) COMPREPLY=($(compgen -W "0 1 2" -- "$cur")); return ;;
    -V|--protocol-version) COMPREPLY=($(compgen -W "mqttv5 mqttv311 mqttv31" -- "$cur")); return ;;
    -D|--property) COMPREPLY=($(compgen -W "connect publish subscribe unsubscribe disconnect will" -- "$cur")); return ;;
    --retain-handling) COMPREPLY=($(compgen -W "always new never" -- "$cur")); return ;;
    --payload-format) COMPREPLY=($(compgen -W "utf8 unspecified" -- "$cur")); return ;;
    --pace) COMPREPLY=($(compgen -W "recorded" -- "$cur")); return ;;
    --tls-version) COMPREPLY=($(compgen -W "tlsv1.2 tlsv1.3" -- "$cur")); return ;;
    --proxy) COMPREPLY=($(compgen -W "http:// socks5:// socks5h://" -- "$cur")); compopt -o nospace 2>/dev/null || true; return ;;
    --capath) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null || true; return ;;
    -f|--file|--cafile|-o|--options-file|--cert|--key|--key-password-file|--password-file|--tls-keylog) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null || true; return ;;
    -L|--url) COMPREPLY=($(compgen -W "ws:// wss:// mqtt:// mqtts://" -- "$cur")); compopt -o nospace 2>/dev/null || true; return ;;
    -F|--format) COMPREPLY=($(compgen -W "'Topic: %t | %p' '%t %p' '%p' '%j' '%I %t %p'" -- "$cur")); return ;;
    -h|--host|-p|--port|-t|--topic|-T|--filter-out|-U|--unsubscribe|-m|--message|-i|--id|-I|--id-prefix|\
    -k|--keepalive|-u|--username|-P|--pw|-W|--timeout|-C|--count|--ws-path|--connect-timeout|\
    --will-topic|--will-payload|--topic-separator|--repeat|--repeat-delay|-M|--max-inflight|\
    -H|--header|--origin|--user-agent|--subprotocol|--ciphers|--alpn|--reconnect-max|--max-packet-size|\
    -x|--session-expiry|--auth-method|--auth-data|--user-property|--content-type|--correlation-data|\
    --message-expiry|--topic-alias|--subscription-id|-e|--response-topic|--speed)
      return ;;
  esac

  case $command in
    "") COMPREPLY=($(compgen -W "sub pub rr bench --help --version" -- "$cur")) ;;
    sub) COMPREPLY=($(compgen -W "$common $sub_opts" -- "$cur")) ;;
    pub) COMPREPLY=($(compgen -W "$common $pub_opts" -- "$cur")) ;;
    rr) COMPREPLY=($(compgen -W "$common $rr_opts" -- "$cur")) ;;
    bench) COMPREPLY=($(compgen -W "$bench_opts" -- "$cur")) ;;
  esac
}
complete -F _wsmqtt wsmqtt
