#!/usr/bin/env python3
"""Starts moto_server on a free loopback port for the C unit tests (tests/helpers/server.c):
prints the port once the server answers, then stays until terminated, stopping moto with it.
Environment as in DESIGN.md §8 (managed policies loaded, ECS tasks reported running)."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def main():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ECS_SERVICE_RUNNING="1")
    child = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(*_):
        # Killed outright (its state is thrown away anyway); the main thread's child.wait()
        # below then returns and we exit. Waiting here instead would deadlock on Popen's wait
        # lock, which the main thread holds: that used to cost every driver test 5 s.
        child.kill()

    signal.signal(signal.SIGTERM, stop)
    for _ in range(300):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/moto-api/" % port, timeout=1)
            break
        except Exception:
            if child.poll() is not None:
                sys.exit("moto_server exited")
            time.sleep(0.05)
    print(port, flush=True)
    child.wait()


if __name__ == "__main__":
    main()
