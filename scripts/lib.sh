# Shared by scripts/quickstart and scripts/test: install what is missing, then build.
# Source it; it defines functions only.

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Boost >= 1.81 under the name the distribution uses (Debian 12: 1.81, Ubuntu 24.04: 1.83).
boost_package() {
  local candidate
  for candidate in libboost1.83-dev libboost1.81-dev libboost1.82-dev libboost1.84-dev; do
    if is_installed "$candidate"; then echo "$candidate"; return; fi
  done
  for candidate in libboost1.83-dev libboost1.81-dev libboost1.82-dev libboost1.84-dev; do
    if apt-cache show "$candidate" >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
  echo libboost1.81-dev
}

# Installs the build dependencies that are not there yet (apt only), and any packages named
# as arguments (the test servers).
install_dependencies() {
  if ! command -v apt-get >/dev/null; then
    echo "wsmqtt: this script installs with apt-get (Debian 12, Ubuntu 24.04); install by hand:" >&2
    echo "  cmake g++ ninja Boost>=1.81 OpenSSL CLI11 fmt Catch2(v2) mosquitto openssl python3" >&2
    return 1
  fi
  local wanted=(cmake g++ ninja-build libssl-dev libcli11-dev libfmt-dev catch2 mosquitto openssl
                python3 ccache "$@")
  local missing=() pkg
  for pkg in "${wanted[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  local boost
  # The package lists may be empty on a fresh machine: refresh them before asking about Boost.
  if ((${#missing[@]})) || ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
    echo "==> apt-get update" >&2
    as_root apt-get update -qq
  fi
  boost=$(boost_package)
  is_installed "$boost" || missing+=("$boost")
  if ((${#missing[@]})); then
    echo "==> installing: ${missing[*]}" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# ccache: a clean clone in another folder (CI's) reuses what a build elsewhere compiled. Paths
# are taken relative to the checkout, and the folder does not count for builds with debug
# information (the ASan build), whose file names then point at the first checkout.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

# Configures and builds into build/ (Release). BUILD_TARGET, when set, builds only those
# target. Extra arguments go to cmake's configure step.
build_wsmqtt() {
  local generator=() target=()
  # shellcheck disable=SC2206 # several targets, split on spaces
  [[ -n ${BUILD_TARGET:-} ]] && target=(--target $BUILD_TARGET)
  command -v ninja >/dev/null && generator=(-G Ninja)
  # A build folder made with another generator cannot be reused.
  if [[ -f build/CMakeCache.txt ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}" build/CMakeCache.txt; then
    rm -rf build
  fi
  echo "==> building" >&2
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >&2
  cmake --build build --parallel "$(nproc)" "${target[@]}" >&2
}

# A TCP port nothing listens on, on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command with its output (stdout and stderr) cut to the lines matching REGEX; returns the
# command's own status, not the filter's (a pipeline's `|| true` would hide a crash).
# Usage: run_filtered REGEX COMMAND [ARGS...]
run_filtered() {
  local regex=$1 log status=0
  shift
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  grep -E "$regex" "$log" || :
  rm -f "$log"
  return "$status"
}
