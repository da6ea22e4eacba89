# Starting and preparing a local moto_server (DESIGN.md §8), shared by the end-to-end tests
# and scripts/demo.sh. Needs E2E_TMP (a scratch directory).
#
#   moto_start        start moto_server on a free loopback port, with a clean AWS environment
#                     (HOME in E2E_TMP, no AWS_* from the caller) pointing at it
#   moto_enable_auth  create an IAM user with an allow-all policy and an access key, export
#                     that key, then turn on moto's SigV4 and IAM checking
#   moto_reset        forget every resource
#   moto_stop         stop the server (tests do this on exit)
MOTO_PID=""

moto_stop() {
  if [ -n "$MOTO_PID" ]; then
    kill "$MOTO_PID" 2>/dev/null
    wait "$MOTO_PID" 2>/dev/null
    MOTO_PID=""
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A clean AWS environment: nothing from the developer's shell or ~/.aws leaks into a test.
e2e_clean_env() {
  local v
  for v in $(env | grep -oE '^AWS_[A-Z0-9_]+' || true); do unset "$v"; done
  export HOME="$E2E_TMP/home"
  mkdir -p "$HOME"
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  export AWS_ACCESS_KEY_ID=AKIAE2EBOOTSTRAP0000 AWS_SECRET_ACCESS_KEY=bootstrap-secret
}

moto_start() {
  local port
  e2e_clean_env
  port=$(free_port)
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ECS_SERVICE_RUNNING=1 \
    moto_server -H 127.0.0.1 -p "$port" >"$E2E_TMP/moto.log" 2>&1 &
  MOTO_PID=$!
  export MOTO_URL="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL="$MOTO_URL"
  await_server "$MOTO_PID" "$E2E_TMP/moto.log" moto_server curl -sf "$MOTO_URL/moto-api/"
}

# await_server PID LOG NAME CMD...: polls CMD (quietly) until it succeeds; exits the test,
# showing LOG, when the server at PID dies or 15 s pass.
await_server() {
  local pid=$1 log=$2 name=$3 tries=0
  shift 3
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 150 ] || ! kill -0 "$pid" 2>/dev/null; then
      echo "e2e: $name did not start; its log:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

moto_reset() {
  curl -sf -X POST "$MOTO_URL/moto-api/reset" >/dev/null
}

# After this, moto checks every signature and every IAM permission, so a signing bug in plumb
# fails the test instead of passing silently.
moto_enable_auth() {
  local key
  aws iam create-user --user-name plumb-e2e >/dev/null
  aws iam put-user-policy --user-name plumb-e2e --policy-name allow-all \
    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
  key=$(aws iam create-access-key --user-name plumb-e2e --output json)
  AWS_ACCESS_KEY_ID=$(printf '%s' "$key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKey"]["AccessKeyId"])')
  AWS_SECRET_ACCESS_KEY=$(printf '%s' "$key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKey"]["SecretAccessKey"])')
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  curl -sf -X POST -H 'Content-Type: text/plain' --data 0 "$MOTO_URL/moto-api/reset-auth" >/dev/null
}

