#!/usr/bin/env bash
# No secret leaves plumb: projects with secrets (cloudshop's database password, a Secrets
# Manager value, a secret in a tag) go through every command that writes or prints, verbose,
# and then every file plumb wrote (state, its key, plan files, journal, reports, anything under
# HOME or TMPDIR) and everything it printed is searched for each secret, raw and base64: no hit.
# State and plan files are 0600 under a umask of 022. TLS verification cannot be switched off:
# an endpoint with a certificate nobody vouches for is refused, and AWS_CA_BUNDLE (the SDKs'
# variable) is the only way to trust it.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth
umask 022
export TMPDIR="$E2E_TMP/tmp"
mkdir -p "$TMPDIR"
outputs="$E2E_TMP/outputs"
: >"$outputs"

export CLOUDSHOP_DB_PASSWORD='Pw-cloudshop-7f3a91c2'
export VAULT_VALUE='sv-vault-0be4d19e77'
export VAULT_TAG='tag-secret-5c2d8e14'
# what every run prints is kept for the final search
run_logged() {
  run_plumb "$@"
  printf '%s\n%s\n' "$OUT" "$ERR" >>"$outputs"
}

# --- cloudshop: a database password ---------------------------------------------------------
shop="$E2E_TMP/cloudshop"
cp -r "$PLUMB_SOURCE_DIR/examples/cloudshop" "$shop"
export PLUMB_MODULES_DIR="$PLUMB_SOURCE_DIR/modules"
python3 "$PLUMB_SOURCE_DIR/tests/tools/strip_checks.py" "$shop/plumb.yaml"

run_logged -C "$shop" -v plan -e stage --out "$shop/stage.plan"
check "cloudshop: a verbose plan saved to a file" expect_rc 0
check "the password shows as (sensitive)" expect_out "MasterUserPassword += \(sensitive\)"
check "the plan file is 0600" test "$(stat -c %a "$shop/stage.plan")" = 600
run_logged -C "$shop" plan -e stage --json
check "a JSON plan" expect_rc 0
run_logged -C "$shop" -v --stats apply -e stage "$shop/stage.plan"
check "cloudshop: the saved plan applies, verbose" expect_rc 0

export CLOUDSHOP_DB_PASSWORD='Pw-cloudshop-second-8e0b'
run_logged -C "$shop" -v apply -e stage --auto-approve
check "a changed password applies as an update" expect_rc 0
check "and is shown as (sensitive)" expect_err "db: modif|db: updat"
for c in "state list" "output --json" "runs --json" "graph" "refresh"; do
  # shellcheck disable=SC2086 # the command and its options are words
  run_logged -C "$shop" -v $c -e stage
  check "cloudshop: $c" expect_rc 0
done
run_plumb -C "$shop" runs -e stage --json
run_id=$(printf '%s' "$OUT" | python3 -c 'import json,sys; r=json.load(sys.stdin); r=r.get("runs", r); print(r[0]["id"])')
run_logged -C "$shop" runs -e stage --run "$run_id"
check "the journal of a run" expect_rc 0
run_logged -C "$shop" state show -e stage db
check "state show of the database" expect_out "\(sensitive\)"
run_logged -C "$shop" -v drift -e stage --json "$shop/drift.json" --markdown "$shop/drift.md"
check "a drift check with reports" expect_rc 0
run_logged -C "$shop" audit -e stage --json
check "an audit" test "$RC" -le 1

# --- a Secrets Manager value and a secret in a tag ------------------------------------------
vault="$E2E_TMP/vault"
mkdir -p "$vault"
cat >"$vault/plumb.yaml" <<'YAML'
project: vault
region: us-east-1
environments: { stage: {} }
resources:
  value:
    type: AWS::SecretsManager::Secret
    properties:
      Name: vault/${env}/api
      SecretString: ${secret.env.VAULT_VALUE}
  logs:
    type: AWS::Logs::LogGroup
    properties:
      LogGroupName: /vault/${env}
      Tags: [{ Key: owner, Value: "${secret.env.VAULT_TAG}" }]
outputs:
  secret_arn: ${value.Id}
YAML
run_logged -C "$vault" -v apply -e stage --auto-approve
check "vault: applies" expect_rc 0
check "Secrets Manager holds the value" test \
  "$(aws secretsmanager get-secret-value --secret-id vault/stage/api --query SecretString --output text)" = "$VAULT_VALUE"
export VAULT_VALUE='sv-vault-rotated-41aa'
run_logged -C "$vault" -v plan -e stage --out "$vault/p"
check "a rotated value plans as an update" expect_out "SecretString += \(sensitive\)|~ value"
run_logged -C "$vault" -v apply -e stage "$vault/p"
check "and applies" expect_rc 0
run_logged -C "$vault" state show -e stage value
run_logged -C "$vault" output -e stage --json
run_logged -C "$vault" -v drift -e stage --json "$vault/drift.json" --markdown "$vault/drift.md"
check "vault: drift is clean" expect_rc 0
run_logged -C "$vault" -v destroy -e stage --auto-approve
check "vault: destroys" expect_rc 0

# --- the search -----------------------------------------------------------------------------
# Each secret as written, and base64 of it at each of the three alignments a longer encoded
# text could place it at (the middle of each, which survives the neighbouring bytes).
needles="$E2E_TMP/needles"
python3 - >"$needles" <<'PY'
import base64, os
secrets = ["Pw-cloudshop-7f3a91c2", "Pw-cloudshop-second-8e0b", "sv-vault-0be4d19e77",
           "sv-vault-rotated-41aa", "tag-secret-5c2d8e14", os.environ["AWS_SECRET_ACCESS_KEY"]]
for s in secrets:
    print(s)
    for pad in range(3):
        enc = base64.b64encode(b"x" * pad + s.encode()).decode()
        print(enc[4:-4])
PY
check "there are needles to search for" test "$(grep -c . "$needles")" = 24
written="$E2E_TMP/written"
# every file plumb could have written: the projects (state, plans, reports), HOME, TMPDIR
find "$shop" "$vault" "$HOME" "$TMPDIR" -type f >"$written"
check "plumb wrote state, plans and reports" test "$(grep -c . "$written")" -gt 10
check "plumb left no temporary file" test -z "$(find "$TMPDIR" -type f)"
hits=$(xargs -d '\n' grep -l -a -F -f "$needles" <"$written" 2>/dev/null || true)
check "no secret in any file plumb wrote" test -z "$hits"
[ -n "$hits" ] && echo "  secrets found in: $hits" >&2
check "no secret in anything plumb printed" bash -c "! grep -q -a -F -f '$needles' '$outputs'"
check "the outputs were kept" test "$(wc -c <"$outputs")" -gt 10000

# --- permissions ----------------------------------------------------------------------------
bad=$(find "$shop/state" "$vault/state" -type f ! -perm 600 -printf '%p %m\n')
check "every state file is 0600 (umask 022)" test -z "$bad"
[ -n "$bad" ] && echo "  $bad" >&2
check "state directories are 0700" test -z "$(find "$shop/state" "$vault/state" -mindepth 1 -type d ! -perm 700)"
check "the fingerprint key exists and is 0600" test "$(stat -c %a "$shop/state/stage/fingerprint.key")" = 600
check "a plan file is 0600" test "$(stat -c %a "$vault/p")" = 600

# --- TLS verification stays on --------------------------------------------------------------
tls="$E2E_TMP/tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
python3 - "$tls" "$MOTO_URL" >"$tls/port" 2>"$tls/log" <<'PY' &
# an HTTPS front for moto with a self-signed certificate
import http.client, http.server, ssl, sys, urllib.parse
d, target = sys.argv[1], urllib.parse.urlsplit(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        c = http.client.HTTPConnection(target.hostname, target.port)
        c.request(self.command, self.path, body, dict(self.headers))
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
tls_pid=$!
await_server "$tls_pid" "$tls/log" "the TLS front" grep -qE '^[0-9]+$' "$tls/port"
https="https://127.0.0.1:$(head -n1 "$tls/port")"
(
  export AWS_ENDPOINT_URL=$https
  run_plumb -C "$vault" doctor
  check "a certificate nobody vouches for is refused" expect_rc 1
  check "the error says it is the certificate" expect_err "[Cc]ertificate|SSL|TLS"
  for v in PLUMB_INSECURE CURL_INSECURE AWS_INSECURE PLUMB_TLS_VERIFY SSL_NO_VERIFY; do
    env "$v=1" "$PLUMB" -C "$vault" doctor >/dev/null 2>&1 && echo "  $v=1 turned verification off" >&2 && exit 1
  done
  exit 0
)
check "no environment variable turns verification off" test $? = 0
(
  export AWS_ENDPOINT_URL=$https AWS_CA_BUNDLE="$tls/cert.pem"
  run_plumb -C "$vault" doctor
  check "AWS_CA_BUNDLE trusts it" expect_rc 0
)
kill "$tls_pid" 2>/dev/null
wait "$tls_pid" 2>/dev/null

finish
