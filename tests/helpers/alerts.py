"""A real webhook (HTTP server) and mailbox (aiosmtpd handler) on 127.0.0.1 for the alert sensor, and one
evaluation of the sensor as the daemon runs it."""

from __future__ import annotations

import json
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
from aiosmtpd.smtp import AuthResult, LoginPassword


class Webhook:
    """An HTTP server recording each POST's path and JSON body; `fail_next` answers that many with 500."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.fail_next = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.fail_next:
                    hook.fail_next -= 1
                    self.send_response(500)
                else:
                    assert self.headers["Content-Type"] == "application/json"
                    hook.bodies.append(json.loads(data))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/plant"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd's handler: keeps each message; `logins` the credentials it was given."""

    def __init__(self):
        self.messages = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


def tick(defs, instance, cursor=None):
    sensor = defs.resolve_sensor_def("alert_sensor")
    # the definitions' own resources, as the daemon hands them (a bare context would give it none)
    with dg.build_sensor_context(
        instance=instance, definitions=defs, cursor=cursor, resources=dict(defs.resources)
    ) as context:
        result = sensor.evaluate_tick(context)
    return result.cursor
