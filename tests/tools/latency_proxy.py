#!/usr/bin/env python3
"""A reverse proxy for benchmarks and fault tests: forwards every request to --target after
--latency-ms, headers and body unchanged (so SigV4 signatures, which cover Host, still
verify), and prints its port on the first line once it listens. Loopback only.

    latency_proxy.py --target http://127.0.0.1:5000 --latency-ms 100 [--port 0]
"""
import argparse
import http.client
import http.server
import socketserver
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    target = urllib.parse.urlsplit(args.target)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("latency_proxy: loopback targets only")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body leave in two writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK of the headers, 40 ms more on every response
        # that has a body, which is not the latency asked for.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            time.sleep(args.latency_ms / 1000.0)
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items()}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", args.port), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
