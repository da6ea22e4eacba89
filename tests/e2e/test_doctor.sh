#!/usr/bin/env bash
# plumb doctor against moto with signature checking on: identity with a good key, a clear
# failure with a bad one, credentials from a profile and through an assumed role, and one-line
# errors for bad environment input.
. "$(dirname "$0")/lib.sh"

moto_start
moto_enable_auth

# --- a valid key: the account id is the one the aws CLI sees ---------------------------------
account=$(aws sts get-caller-identity --query Account --output text)
arn=$(aws sts get-caller-identity --query Arn --output text)
run_plumb doctor
check "doctor exits 0 with a valid key" expect_rc 0
check "doctor prints the account id the aws CLI sees" expect_out "^account: +$account\$"
check "doctor prints the caller ARN" expect_out "identity: +$arn"
check "doctor says credentials came from the environment" expect_out "credentials: environment"
check "doctor prints the resolved STS endpoint" expect_out "sts +$MOTO_URL \(AWS_ENDPOINT_URL\)"
check "doctor never prints the secret" bash -c "! grep -qF -- '$AWS_SECRET_ACCESS_KEY' '$E2E_TMP/out' '$E2E_TMP/err'"

run_plumb --stats doctor
check "--stats counts the STS request" expect_err "^sts +1 +0 +0"

# --- a wrong secret: exit 1 and the AWS error named -------------------------------------------
AWS_SECRET_ACCESS_KEY=wrong-secret run_plumb doctor
check "doctor exits 1 with a wrong secret" expect_rc 1
check "the AWS error code is named" expect_err "SignatureDoesNotMatch"
check "the HTTP status and request id are named" expect_err "HTTP 403, request id [^ )]+"

AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 run_plumb doctor
check "an unknown key id is refused" expect_rc 1
check "an unknown key id is named as such" expect_err "InvalidClientTokenId"

# --- credentials from a profile in the shared files -----------------------------------------
mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/credentials" <<CREDS
[ci]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
CREDS
cat >"$HOME/.aws/config" <<CONF
[profile ci]
region = eu-west-1
CONF
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_DEFAULT_REGION
  AWS_PROFILE=ci run_plumb doctor
  check "a profile's keys sign requests" expect_rc 0
  check "the profile is named as the source" expect_out "credentials: .*profile 'ci'"
  check "the profile's region is used" expect_out "region: +eu-west-1 \(profile\)"
)

# --- an assumed role: role_arn + source_profile ---------------------------------------------
aws iam create-role --role-name plumb-deployer \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}' >/dev/null
aws iam put-role-policy --role-name plumb-deployer --policy-name all \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
cat >>"$HOME/.aws/config" <<CONF
[profile deploy]
role_arn = arn:aws:iam::$account:role/plumb-deployer
source_profile = ci
role_session_name = e2e
CONF
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  AWS_PROFILE=deploy run_plumb doctor
  check "doctor works through an assumed role" expect_rc 0
  check "the identity is the assumed role" expect_out "identity: +arn:aws:sts::$account:assumed-role/plumb-deployer/e2e"
  check "the source names the role" expect_out "credentials: .*plumb-deployer"
)

# --- bad environment input: one line saying what and where ----------------------------------
AWS_ENDPOINT_URL="ftp://nowhere" run_plumb doctor
check "a malformed AWS_ENDPOINT_URL is refused" expect_rc 1
check "the variable and value are named" expect_err "AWS_ENDPOINT_URL: 'ftp://nowhere' is not a valid endpoint URL"
check "the error is one line" expect_err_lines 1

AWS_ENDPOINT_URL_STS="http://127.0.0.1:99999" run_plumb doctor
check "a bad port in AWS_ENDPOINT_URL_STS is refused" expect_err "AWS_ENDPOINT_URL_STS: .*bad port"

AWS_PROFILE=nosuch run_plumb doctor
check "a missing profile is refused" expect_rc 1
check "the missing profile is named" expect_err "profile 'nosuch' not found"
check "the missing-profile error is one line" expect_err_lines 1

chmod 000 "$HOME/.aws/credentials"
if [ "$(id -u)" = 0 ]; then
  # root reads any file: make it unreadable the way root cannot, a directory in its place
  mv "$HOME/.aws/credentials" "$HOME/.aws/credentials.bak"
  mkdir "$HOME/.aws/credentials"
fi
run_plumb doctor
check "an unreadable credentials file is refused" expect_rc 1
check "the unreadable file is named" expect_err "$HOME/.aws/credentials"
check "the unreadable-file error is one line" expect_err_lines 1

# --- web identity: the GitHub Actions OIDC path -------------------------------------------
# AssumeRoleWithWebIdentity is sent unsigned, as the SDKs send it; moto 5.2.1 with signature
# checking on crashes on any request without an Authorization header (HTTP 500, the aws CLI
# fails the same way), so this case runs on a fresh moto without it.
moto_stop
moto_start
rm -rf "$HOME/.aws"
aws iam create-role --role-name plumb-deployer \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}' >/dev/null
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9uYW1lIn0.c2ln' >"$E2E_TMP/oidc-token"
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  AWS_ROLE_ARN="arn:aws:iam::$account:role/plumb-deployer" \
    AWS_WEB_IDENTITY_TOKEN_FILE="$E2E_TMP/oidc-token" AWS_ROLE_SESSION_NAME=gha run_plumb doctor
  check "doctor works with a web identity token" expect_rc 0
  check "the identity is the role assumed with the token" expect_out "identity: +arn:aws:sts::$account:assumed-role/plumb-deployer/gha"
  check "the source says web identity" expect_out "credentials: web identity"
)

finish
