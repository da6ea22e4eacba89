#!/usr/bin/env python3
"""A reverse proxy in front of moto for benchmarks and fault tests. It forwards every request to
--target after --latency-ms, headers and body unchanged (so SigV4 signatures, which cover Host,
still verify), and answers a share of requests itself with the faults a real AWS endpoint shows:

  --throttle PCT     the service's own throttling error, in the protocol of the call
  --error5xx PCT     a 5xx (--status5xx: 503 ServiceUnavailable, default, or 500 InternalError)
  --drop PCT         the connection closed without an answer, half of them before forwarding
                     (the request never reaches moto) and half after (moto acted, the answer
                     is lost: the case that must not create anything twice); --drop-before and
                     --drop-after set each share on its own

  --script OP=FATE[,FATE...]
                     the first calls of operation OP (CreateVpc, "PUT bucket") meet these fates
                     in order (throttle, error5xx, drop_before, drop_after, ok), whatever the
                     draw: a test makes sure the cases it is about happen (repeatable)

PCT is a percentage of requests. The protocol is read from the request, as a client library
would build it: an X-Amz-Target header is the JSON protocol (400, {"__type": ...}); a form body
with Action= is the query protocol (EC2's <Response><Errors> with RequestLimitExceeded and 503,
the others' <ErrorResponse> with Throttling and 400); the SigV4 credential scope's service
"s3" is S3 (503 SlowDown); anything else is rest-json (429, x-amzn-ErrorType). These are the
codes and statuses botocore's retry rules (botocore/retries, data/_retry.json) treat as
throttling. moto's control API (/moto-api/...) is never faulted.

--seed N makes the faults repeat: the fate of a request is drawn from (seed, operation, how
many calls of that operation came before), so the n-th CreateVpc meets the same fault in every
run whatever the threads' interleaving. --stats FILE keeps counts (JSON: requests, forwarded,
each fault, per operation) up to date after every request. --log FILE appends one line per
request: its fate (forwarded, throttle, error5xx, drop_before, drop_after), the status answered
(None when dropped) and the operation. The port is printed on the first stdout line once the
proxy listens. Loopback only. With no fault asked for, it is the latency proxy of bench/.

    fault_proxy.py --target http://127.0.0.1:5000 [--port 0] [--latency-ms 100]
                   [--throttle 10 --error5xx 5 --drop 2 --seed 7 --stats FILE]
"""
import argparse
import http.client
import http.server
import json
import os
import random
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
import uuid

FATES = ("throttle", "error5xx", "drop_before", "drop_after")

# Services whose JSON throttling error has its own name in the API model; the rest answer
# ThrottlingException, as ECS, ECR, Logs and Secrets Manager do.
JSON_THROTTLE_CODE = {"tagging": "ThrottledException"}


def credential_service(headers):
    """The service of the SigV4 credential scope (Credential=AKID/date/region/SERVICE/...)."""
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization") or "")
    return m.group(1) if m else ""


def form_value(body, name):
    """The first value of `name` in a form-encoded body, or ""."""
    return urllib.parse.parse_qs((body or b"").decode("utf-8", "replace")).get(name, [""])[0]


def classify(method, path, headers, body):
    """(protocol, service, operation) of a request, from what the client put on the wire."""
    service = credential_service(headers)
    target = headers.get("X-Amz-Target")
    if target:
        return "json", service, target.rsplit(".", 1)[-1]
    ctype = (headers.get("Content-Type") or "").lower()
    if method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
        action = form_value(body, "Action")
        if action:
            return ("ec2" if service == "ec2" else "query"), service, action
    split = urllib.parse.urlsplit(path)
    if service == "s3":
        # "PUT bucket?website": the method, what the path names and the query's keys
        parts = split.path.strip("/")
        what = "object" if "/" in parts else "bucket" if parts else "service"
        keys = sorted(k for k, _ in urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        return "rest-xml", service, "%s %s%s" % (method, what, "?" + "&".join(keys) if keys else "")
    # rest-json: the path's first segment names the operation well enough (GET /functions/...)
    return "rest-json", service, "%s /%s" % (method, split.path.strip("/").split("/")[0])


# (status, code, message) of each fault, per protocol; 5xx other than 503 take --status5xx.
ERRORS = {
    "json": {"throttle": (400, "ThrottlingException", "Rate exceeded"),
             "503": (503, "ServiceUnavailableException", "Service Unavailable"),
             "5xx": (500, "InternalFailure", "We encountered an internal error.")},
    "rest-json": {"throttle": (429, "ThrottlingException", "Rate exceeded"),
                  "503": (503, "ServiceUnavailableException", "Service Unavailable"),
                  "5xx": (500, "InternalServerException", "Internal server error")},
    # EC2 throttles with 503 (botocore's _retry.json: RequestLimitExceeded, 503)
    "ec2": {"throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
            "503": (503, "Unavailable", "The server is overloaded and can't handle the request."),
            "5xx": (500, "InternalError", "An internal error has occurred.")},
    "query": {"throttle": (400, "Throttling", "Rate exceeded"),
              "503": (503, "ServiceUnavailable", "Service Unavailable"),
              "5xx": (500, "InternalFailure", "An internal error occurred.")},
    "rest-xml": {"throttle": (503, "SlowDown", "Please reduce your request rate."),
                 "503": (503, "ServiceUnavailable", "Service Unavailable"),
                 "5xx": (500, "InternalError", "We encountered an internal error.")},
}


def error_response(protocol, service, method, version, fate, status5xx):
    """(status, headers, body) of the fault `fate` as the service would send it."""
    rid = str(uuid.uuid4())
    kind = "throttle" if fate == "throttle" else "503" if status5xx == 503 else "5xx"
    status, code, msg = ERRORS[protocol][kind]
    if kind == "5xx":
        status = status5xx
    if protocol == "json":
        if kind == "throttle":
            code = JSON_THROTTLE_CODE.get(service, code)
        body = json.dumps({"__type": code, "message": msg}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": rid,
                   "x-amzn-ErrorType": code + ":http://internal.amazon.com/coral/"}
    elif protocol == "rest-json":
        body = json.dumps({"message": msg}).encode()
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": rid,
                   "x-amzn-ErrorType": code}
    elif protocol == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
                "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
                % (code, msg, rid)).encode()
        headers = {"Content-Type": "text/xml;charset=UTF-8"}
    elif protocol == "query":
        xmlns = "https://%s.amazonaws.com/doc/%s/" % (service or "sts", version or "2011-06-15")
        body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
                "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
                % (xmlns, "Sender" if kind == "throttle" else "Receiver", code, msg, rid)).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": rid}
    else:  # rest-xml: S3
        host_id = uuid.uuid4().hex
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
                "<Message>%s</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>"
                % (code, msg, rid, host_id)).encode()
        headers = {"Content-Type": "application/xml", "x-amz-request-id": rid,
                   "x-amz-id-2": host_id}
    if method == "HEAD":  # no body, the status says it all (as S3 answers HEAD)
        body = b""
    return status, headers, body


class Faults:
    """Decides each request's fate and counts what happened."""

    def __init__(self, args):
        half = args.drop / 2.0
        self.rates = {"throttle": args.throttle, "error5xx": args.error5xx,
                      "drop_before": half if args.drop_before is None else args.drop_before,
                      "drop_after": half if args.drop_after is None else args.drop_after}
        if sum(self.rates.values()) > 100:
            sys.exit("fault_proxy: the fault shares add up to more than 100%")
        self.seed = args.seed
        self.script = {}
        for item in args.script:
            op, _, fates = item.rpartition("=")
            fates = fates.split(",")
            if not op or any(f not in FATES + ("ok",) for f in fates):
                sys.exit("fault_proxy: --script wants OP=FATE[,FATE...], FATE one of %s, ok"
                         % ", ".join(FATES))
            self.script[op] = fates
        self.rng = random.Random()
        self.stats_path = args.stats
        self.log_path = args.log
        self.lock = threading.Lock()
        self.seen = {}  # operation -> calls so far
        self.counts = {"requests": 0, "forwarded": 0, "control": 0, **{f: 0 for f in FATES}}
        self.by_op = {}

    def decide(self, operation):
        with self.lock:
            n = self.seen.get(operation, 0)
            self.seen[operation] = n + 1
            scripted = self.script.get(operation, [])
            if n < len(scripted):
                return None if scripted[n] == "ok" else scripted[n]
            draw = (random.Random("%s:%s:%d" % (self.seed, operation, n)).random()
                    if self.seed is not None else self.rng.random()) * 100.0
        for fate in FATES:
            if draw < self.rates[fate]:
                return fate
            draw -= self.rates[fate]
        return None

    def record(self, operation, fate, status):
        with self.lock:
            self.counts["requests"] += 1
            op = self.by_op.setdefault(operation, {"requests": 0, **{f: 0 for f in FATES}})
            op["requests"] += 1
            if fate:
                self.counts[fate] += 1
                op[fate] += 1
            if fate in (None, "drop_after"):
                self.counts["forwarded"] += 1
            if self.log_path:
                with open(self.log_path, "a") as f:
                    f.write("%s %s %s\n" % (fate or "forwarded", status, operation))
            self.write_stats_locked()

    def control(self):
        with self.lock:
            self.counts["control"] += 1

    def write_stats_locked(self):
        if not self.stats_path:
            return
        tmp = self.stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({**self.counts, "operations": self.by_op}, f, indent=1, sort_keys=True)
        os.replace(tmp, self.stats_path)

    def write_stats(self):
        with self.lock:
            self.write_stats_locked()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--throttle", type=float, default=0.0, metavar="PCT")
    ap.add_argument("--error5xx", type=float, default=0.0, metavar="PCT")
    ap.add_argument("--status5xx", type=int, default=503, choices=(500, 502, 503, 504))
    ap.add_argument("--drop", type=float, default=0.0, metavar="PCT")
    ap.add_argument("--drop-before", type=float, default=None, metavar="PCT")
    ap.add_argument("--drop-after", type=float, default=None, metavar="PCT")
    ap.add_argument("--script", action="append", default=[], metavar="OP=FATE[,FATE...]")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--stats", metavar="FILE")
    ap.add_argument("--log", metavar="FILE")
    args = ap.parse_args()
    target = urllib.parse.urlsplit(args.target)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fault_proxy: loopback targets only")
    faults = Faults(args)

    class Handler(http.server.BaseHTTPRequestHandler):
        # Keep-alive towards the client, as AWS endpoints do: a connection dropped after a
        # reused one answered is what a client library may silently resend on.
        protocol_version = "HTTP/1.1"
        # The headers and the body leave in two writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK of the headers, 40 ms more on every response
        # that has a body, which is not the latency asked for.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def drop(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def reply(self, status, headers, data):
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def forward_raw(self, body):
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                resp = conn.getresponse()
                return resp.status, resp.getheaders(), resp.read()
            finally:
                conn.close()

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path.startswith("/moto-api"):
                faults.control()
                self.reply(*self.forward_raw(body))
                return
            protocol, service, operation = classify(self.command, self.path, self.headers, body)
            fate = faults.decide(operation)
            time.sleep(args.latency_ms / 1000.0)
            status = None
            if fate == "drop_before":
                self.drop()
            elif fate in ("throttle", "error5xx"):
                version = form_value(body, "Version") if protocol == "query" else ""
                status, headers, data = error_response(protocol, service, self.command, version,
                                                       fate, args.status5xx)
                self.reply(status, list(headers.items()), data)
            else:
                status, headers, data = self.forward_raw(body)
                if fate == "drop_after":
                    self.drop()
                else:
                    self.reply(status, headers, data)
            faults.record(operation, fate, status)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    def on_term(*_):
        faults.write_stats()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    srv = Server(("127.0.0.1", args.port), Handler)
    faults.write_stats()
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
