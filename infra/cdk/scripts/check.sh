#!/usr/bin/env bash
# Everything CI checks about the AWS stack, from a fresh clone, without AWS credentials:
#
#   1. install the pinned npm dependencies (npm ci; npm install only if there is no lockfile),
#   2. npm test: type-check + the CDK assertion tests (including a `cdk synth` through the CLI),
#   3. synthesize cdk.out/ with placeholder Lambda assets,
#   4. cfn-lint every synthesized template (zero errors and zero warnings).
#
# cfn-lint (PyPI) lives in the repo's shared venv at .cache/venv, which scripts/lib/emulators.sh
# also uses for moto; it is created if absent, and cfn-lint is installed into it only when the
# pinned version is missing. The venv lock (.cache/venv.lock) is the one emulators.sh takes.
#
# Idempotent: a second run reuses node_modules when package-lock.json has not changed (set
# FANORDER_NPM_CI=1 to force a clean `npm ci`) and reuses the venv.
set -euo pipefail

CFN_LINT_VERSION="1.58.0"

CDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "${CDK_DIR}/../.." && pwd)"
VENV="${REPO_ROOT}/.cache/venv"

log() { printf '\n==> [infra/cdk] %s\n' "$*"; }

# Synthesis must never pick up a developer's AWS session or make AWS calls.
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
export AWS_EC2_METADATA_DISABLED=true
export CDK_DISABLE_CLI_TELEMETRY=true

cd "$CDK_DIR"

# --- 1. npm dependencies ----------------------------------------------------------------------
log "npm dependencies"
if [[ -f package-lock.json ]]; then
  stamp="node_modules/.fanorder-deps"
  want="$( (node --version; sha256sum package-lock.json package.json) | sha256sum | cut -d' ' -f1)"
  if [[ "${FANORDER_NPM_CI:-0}" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$want" && -x node_modules/.bin/cdk ]]; then
    echo "node_modules matches package-lock.json; skipping npm ci"
  else
    npm ci --no-audit --no-fund
    printf '%s\n' "$want" >"$stamp"
  fi
else
  npm install --no-audit --no-fund
fi

# --- 2. tests ---------------------------------------------------------------------------------
log "npm test (tsc + CDK assertion tests)"
npm test

# --- 3. synth ---------------------------------------------------------------------------------
log "cdk synth with placeholder assets"
rm -rf cdk.out
npm run --silent synth -- --no-notices
shopt -s nullglob
templates=(cdk.out/*.template.json)
shopt -u nullglob
if ((${#templates[@]} == 0)); then
  echo "error: cdk synth produced no template in ${CDK_DIR}/cdk.out" >&2
  exit 1
fi

# --- 4. cfn-lint ------------------------------------------------------------------------------
cfn_lint_ok() {
  [[ -x "${VENV}/bin/cfn-lint" ]] &&
    [[ "$("${VENV}/bin/cfn-lint" --version 2>/dev/null)" == "cfn-lint ${CFN_LINT_VERSION}" ]]
}

install_cfn_lint() {
  cfn_lint_ok && return 0
  # A venv whose interpreter is gone (python upgraded or removed) is rebuilt, as emulators.sh does.
  if [[ -d "$VENV" && ! -x "${VENV}/bin/python" ]]; then
    echo "removing broken venv ${VENV}"
    rm -rf "$VENV"
  fi
  if [[ ! -d "$VENV" ]]; then
    echo "creating venv ${VENV}"
    python3 -m venv "$VENV"
  fi
  echo "installing cfn-lint==${CFN_LINT_VERSION} into ${VENV}"
  "${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==${CFN_LINT_VERSION}"
  cfn_lint_ok || {
    echo "error: cfn-lint ${CFN_LINT_VERSION} is not runnable from ${VENV}/bin after installing it" >&2
    return 1
  }
}

log "cfn-lint ${CFN_LINT_VERSION}"
if ! cfn_lint_ok; then
  command -v python3 >/dev/null || { echo "error: python3 is needed for cfn-lint" >&2; exit 1; }
  mkdir -p "${REPO_ROOT}/.cache"
  if command -v flock >/dev/null; then
    (
      flock 9
      install_cfn_lint
    ) 9>"${VENV}.lock"
  else
    install_cfn_lint
  fi
fi
# No check is ignored globally. The one known warning (W3005, a DependsOn that CDK's
# lambda.Function adds next to a GetAtt on the same role) is silenced on those four resources
# only, through their Metadata (lib/constructs/rust-function.ts).
"${VENV}/bin/cfn-lint" --include-checks I -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} template(s), no findings"

log "infra/cdk checks passed"
