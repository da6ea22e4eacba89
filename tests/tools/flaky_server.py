#!/usr/bin/env python3
"""A scripted AWS-like endpoint for retry tests. Each request takes the next answer from the
list given on the command line (the last one repeats):

  ok         200, an STS GetCallerIdentity result (query protocol XML)
  json       200, {} (a JSON protocol result with nothing in it)
  throttle   400 Throttling (query protocol error)
  503 / 500  that status with an InternalFailure body
  denied     403 AccessDenied
  exists     400 ResourceExistsException (Secrets Manager's "already exists")
  notfound   404 NoSuchEntity (IAM's "not found")
  inuse      400 ResourceInUse (ELBv2's "still referenced")
  drop       close the connection without answering
  slow       wait 3 s, then answer ok (for timeouts)

With --keep-alive its answers keep the connection open, as AWS endpoints do, so a "drop" on
a reused connection is one libcurl resends by itself.

With --cert and --key it speaks HTTPS. It prints its port on the first line once it listens, and appends one line per request
(method, path, the Authorization header's presence) to the file named by --log.
"""
import argparse
import http.server
import socket
import socketserver
import sys
import time

OK = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/flaky</Arn>
    <UserId>AIDAFLAKY</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"""


def error(code, msg):
    return ("""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>
  <RequestId>req-%s</RequestId>
</ErrorResponse>""" % (code, msg, code.lower())).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--key", help="the certificate's private key (PEM)")
    ap.add_argument("--keep-alive", action="store_true", help="answer without Connection: close")
    ap.add_argument("answers", nargs="+")
    args = ap.parse_args()
    answers = list(args.answers)
    state = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            i = state["n"]
            state["n"] += 1
            answer = answers[min(i, len(answers) - 1)]
            with open(args.log, "a") as f:
                f.write("%s %s auth=%s body=%s\n" % (
                    self.command, self.path, "yes" if self.headers.get("Authorization") else "no",
                    body.decode(errors="replace").replace("\n", " ")))
            if answer == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if answer == "slow":
                time.sleep(3)
                answer = "ok"
            status, payload = {
                "ok": (200, OK),
                "json": (200, b"{}"),
                "throttle": (400, error("Throttling", "Rate exceeded")),
                "503": (503, error("ServiceUnavailable", "try again")),
                "500": (500, error("InternalFailure", "oops")),
                "denied": (403, error("AccessDenied", "not allowed")),
                "exists": (400, error("ResourceExistsException", "already there")),
                "notfound": (404, error("NoSuchEntity", "not there")),
                "inuse": (400, error("ResourceInUse", "still in use")),
            }[answer]
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", "req-%d" % i)
            # Like moto, no keep-alive unless asked: libcurl resends by itself a request whose
            # reused connection was dropped, which only the tests of that case want.
            if not args.keep_alive:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", 0), Handler)
    if args.cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
