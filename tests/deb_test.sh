#!/usr/bin/env bash
# Builds the .deb with CPack, checks its metadata, unpacks it into a scratch root (dpkg -x) and
# runs the binary and reads the man page from there.
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >/dev/null) || fail "cpack failed"
deb=$(ls "$work"/out/wsmqtt_*.deb 2>/dev/null | head -1)
[[ -n $deb ]] || fail "no .deb made"
echo "made $(basename "$deb")"

info=$(dpkg-deb -f "$deb" Package Version Architecture Depends)
echo "$info"
grep -q '^Package: wsmqtt$' <<<"$info" || fail "package name"
# dpkg-shlibdeps found the shared libraries the binary needs, and nothing build-only.
grep -qE '^Depends: .*libc6' <<<"$info" || fail "Depends lacks libc6"
grep -qE '^Depends: .*libssl3' <<<"$info" || fail "Depends lacks libssl3"
if grep -qE 'libstdc\+\+|libfmt|libboost' <<<"$info"; then fail "Depends names a library that is linked in or header-only"; fi

# lintian (installed by scripts/test): no error and no warning. Its overrides say why each one
# that is left is right (packaging/lintian-overrides).
if command -v lintian >/dev/null; then
  lintian --fail-on error,warning "$deb" 2>&1 | grep -v 'running with root privileges' || true
  lintian --fail-on error,warning "$deb" >/dev/null 2>&1 || fail "lintian found errors or warnings"
  echo "lintian: no errors, no warnings"
elif [[ ${WSMQTT_REQUIRE_LINTIAN:-0} == 1 ]]; then
  fail "lintian is not installed"
fi

root="$work/root"
dpkg -x "$deb" "$root"
for f in usr/bin/wsmqtt usr/share/doc/wsmqtt/copyright usr/share/doc/wsmqtt/changelog.gz usr/share/man/man1/wsmqtt.1.gz usr/share/man/man1/wsmqtt-sub.1.gz usr/share/man/man1/wsmqtt-pub.1.gz usr/share/man/man1/wsmqtt-rr.1.gz usr/share/man/man1/wsmqtt-bench.1.gz \
         usr/share/bash-completion/completions/wsmqtt usr/share/zsh/site-functions/_wsmqtt \
         usr/share/fish/vendor_completions.d/wsmqtt.fish; do
  [[ -e $root/$f ]] || fail "not in the package: /$f"
done
version=$("$root/usr/bin/wsmqtt" --version) || fail "the packaged binary does not run"
[[ $version =~ ^wsmqtt\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "unexpected --version: $version"
rc=0
"$root/usr/bin/wsmqtt" pub -L mqtt://127.0.0.1:1 -t t -m x --quiet || rc=$?
[[ $rc -eq 1 ]] || fail "a refused connection should exit 1 (network), got $rc"
rc=0
"$root/usr/bin/wsmqtt" pub -L mqtts://127.0.0.1:1 -t t -m x --quiet || rc=$?
[[ $rc -eq 1 ]] || fail "a refused mqtts:// connection should exit 1 (network), got $rc"
man -l "$root/usr/share/man/man1/wsmqtt-sub.1.gz" 2>/dev/null | grep -q -- '--topic' || fail "the packaged man page does not render"
echo "the package installs and runs: $version"
