#!/usr/bin/env python3
"""A local stand-in for the two credential endpoints on the instance's link, for the
credential chain's tests (tests/aws/credentials.c):

  EC2 instance metadata, IMDSv2 only:
    PUT /latest/api/token                  needs X-aws-ec2-metadata-token-ttl-seconds (1-21600)
    GET /latest/meta-data/iam/security-credentials/        the role name
    GET /latest/meta-data/iam/security-credentials/ROLE    the role's credentials
    Both GETs need X-aws-ec2-metadata-token with a token this server issued (else 401).

  ECS container credentials:
    GET /ecs/...   the task's credentials; with --ecs-token the Authorization header must
                   equal it (else 401).

  Test control (not part of any AWS API):
    GET  /_stats        JSON: request counts by kind, rejections, the last ECS request path
    POST /_expiration   body: ISO 8601; credentials handed out from now on expire then

Credentials carry a counter (ASIAIMDS0001, ASIAECS0001, ...) so a test sees a refresh.
It prints its port on the first line once it listens, and serves until terminated.
"""
import argparse
import datetime
import http.server
import json
import socketserver
import sys
import threading

IMDS_ROLES = "/latest/meta-data/iam/security-credentials/"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", default="plumb-test-role")
    ap.add_argument("--no-role", action="store_true", help="the instance has no IAM role")
    ap.add_argument("--ecs-token", help="the Authorization value ECS requests must carry")
    ap.add_argument("--expiration", help="ISO 8601 expiry of the credentials (default: +6 h)")
    args = ap.parse_args()

    if args.expiration:
        expiration = args.expiration
    else:
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=6)
        expiration = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    lock = threading.Lock()
    state = {
        "expiration": expiration,
        "tokens": set(),
        "stats": {"token": 0, "roles": 0, "credentials": 0, "ecs": 0, "unauthorized": 0,
                  "bad_request": 0, "last_ecs_path": None},
    }

    def count(kind):
        with lock:
            state["stats"][kind] += 1
            return state["stats"][kind]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="text/plain"):
            if isinstance(body, (dict, list)):
                body, ctype = json.dumps(body), "application/json"
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n).decode() if n else ""

        def token_ok(self):
            with lock:
                ok = self.headers.get("X-aws-ec2-metadata-token") in state["tokens"]
            if not ok:
                count("unauthorized")
                self.answer(401, "")
            return ok

        def do_PUT(self):
            self.body()
            if self.path != "/latest/api/token":
                return self.answer(404, "")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                count("bad_request")
                return self.answer(400, "")
            token = "imds-token-%d" % count("token")
            with lock:
                state["tokens"].add(token)
            self.answer(200, token)

        def do_POST(self):
            data = self.body()
            if self.path == "/_expiration":
                with lock:
                    state["expiration"] = data.strip()
                return self.answer(200, "")
            self.answer(404, "")

        def credentials(self, prefix, n):
            with lock:
                exp = state["expiration"]
            return {"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": exp,
                    "AccessKeyId": "ASIA%s%04d" % (prefix, n),
                    "SecretAccessKey": "%s-secret-%d" % (prefix.lower(), n),
                    "Token": "%s-session-%d" % (prefix.lower(), n), "Expiration": exp}

        def do_GET(self):
            if self.path == "/_stats":
                with lock:
                    return self.answer(200, dict(state["stats"]))
            if self.path.startswith("/ecs/"):
                if args.ecs_token is not None and \
                        self.headers.get("Authorization") != args.ecs_token:
                    count("unauthorized")
                    return self.answer(401, {"message": "bad token"})
                with lock:
                    state["stats"]["last_ecs_path"] = self.path
                return self.answer(200, self.credentials("ECS", count("ecs")))
            if self.path == IMDS_ROLES:
                if not self.token_ok():
                    return None
                count("roles")
                if args.no_role:
                    return self.answer(404, "")
                return self.answer(200, args.role + "\n")
            if self.path.startswith(IMDS_ROLES):
                if not self.token_ok():
                    return None
                if self.path[len(IMDS_ROLES):] != args.role or args.no_role:
                    return self.answer(404, "")
                return self.answer(200, self.credentials("IMDS", count("credentials")))
            self.answer(404, "")

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
