"""A CloudTrail endpoint for tests: the `LookupEvents` call only (moto_server does not
implement it), over HTTP on 127.0.0.1, in the AWS JSON 1.1 protocol the SDK speaks.

    python3 fake_cloudtrail.py PORT TRAIL_DIR CALLS_LOG

It serves the records of every `.json` trail file under TRAIL_DIR (`{"Records": [...]}`) as
CloudTrail's event history does: filtered by the one lookup attribute asked (EventName),
newest first, two events a page with a `NextToken`, each event's record as the JSON string
`CloudTrailEvent`. One extra `AuthorizeSecurityGroupIngress` event carries a `CloudTrailEvent`
that is not JSON. Each request's `X-Amz-Target` and lookup attribute are appended to
CALLS_LOG; any other operation is answered with an error (and logged).
"""

import calendar
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The SDK sends `CloudTrail_20131101.LookupEvents`; the API reference writes it with the
# `com.amazonaws.cloudtrail.v20131101.` namespace in front.
TARGETS = (
    "CloudTrail_20131101.LookupEvents",
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
)
PAGE = 2


def load(trail_dir):
    records = []
    for root, _dirs, files in os.walk(trail_dir):
        for name in sorted(files):
            if name.endswith(".json"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    records.extend(json.load(f).get("Records", []))
    return records


def epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def event(rec):
    return {
        "EventId": rec.get("eventID", ""),
        "EventName": rec.get("eventName", ""),
        "ReadOnly": "false",
        "EventTime": epoch(rec["eventTime"]),
        "EventSource": rec.get("eventSource", ""),
        "Username": "test",
        "Resources": [],
        "CloudTrailEvent": json.dumps(rec),
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        attrs = body.get("LookupAttributes", [])
        with open(self.server.calls_log, "a", encoding="utf-8") as log:
            log.write(json.dumps({"target": target, "attributes": attrs}) + "\n")
        if target not in TARGETS:
            self.answer(400, {"__type": "UnsupportedOperationException", "message": target})
            return
        if len(attrs) != 1 or attrs[0].get("AttributeKey") != "EventName":
            self.answer(400, {"__type": "InvalidLookupAttributesException"})
            return
        name = attrs[0].get("AttributeValue")
        events = [event(r) for r in self.server.records if r.get("eventName") == name]
        if name == "AuthorizeSecurityGroupIngress":
            bad = event(self.server.records[0])
            bad["EventId"] = "not-json"
            bad["CloudTrailEvent"] = "{not json"
            events.append(bad)
        events.sort(key=lambda e: e["EventTime"], reverse=True)
        start = int(body.get("NextToken", "0") or "0")
        page = {"Events": events[start:start + PAGE]}
        if start + PAGE < len(events):
            page["NextToken"] = str(start + PAGE)
        self.answer(200, page)


def main():
    port, trail_dir, calls_log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.records = load(trail_dir)
    server.calls_log = calls_log
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
