#!/usr/bin/env python3
"""A strict stand-in for kube-apiserver, for the calls nodeguard and its witnesses make.

HTTPS with a test CA, bearer tokens (re-read from --tokens on every request, one per line, so a
test rotates them by rewriting the file), discovery (/version, /api, /api/v1, /apis), Nodes
(GET, list, PATCH of the node and of nodes/status, PUT) with strategic merge semantics for
status.conditions (merge key `type`, `$patch: delete`) and replace semantics for every other
list (spec.taints), resourceVersion preconditions (409), Events (create, patch, get, list with
field selectors), and faults on demand through /_test/fault (no auth; loopback tests only).
State is kept in --state (JSON) so the server can be killed and restarted: an API outage.
Every request is appended to --log as one JSON line (verb, path, code).
"""
import argparse
import copy
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

LOCK = threading.RLock()
STATE = {"rv": 1, "nodes": {}, "events": {}}
FAULTS = []  # dicts: status, count, retry_after, verb, path_contains, delay
ARGS = None

CORE_RESOURCES = [
    {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
     "verbs": ["get", "list", "patch", "update"], "shortNames": ["no"]},
    {"name": "nodes/status", "singularName": "", "namespaced": False, "kind": "Node",
     "verbs": ["get", "patch", "update"]},
    {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event",
     "verbs": ["create", "get", "list", "patch"], "shortNames": ["ev"]},
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["list"],
     "shortNames": ["po"]},
    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
     "verbs": ["get", "list"], "shortNames": ["ns"]},
]


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def save():
    if ARGS.state:
        tmp = ARGS.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(STATE, f)
        os.replace(tmp, ARGS.state)


def bump(obj):
    STATE["rv"] += 1
    obj.setdefault("metadata", {})["resourceVersion"] = str(STATE["rv"])


def status_obj(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class ApiError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def merge_patch(target, patch):
    """RFC 7386: objects merge, null deletes, everything else (lists included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def strategic_merge(target, patch, path=""):
    """Strategic merge for the fields used: lists under a known merge key merge by it
    (status.conditions by type), every other list replaces (spec.taints has no merge key)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        sub = path + "/" + k
        if v is None:
            target.pop(k, None)
        elif sub in ("/status/conditions", "/status/addresses") and isinstance(v, list):
            key = "type"
            cur = list(target.get(k) or [])
            for item in v:
                if not isinstance(item, dict) or key not in item:
                    raise ApiError(422, "Invalid", f"{sub}: every item needs its merge key {key}")
                idx = next((i for i, c in enumerate(cur) if c.get(key) == item[key]), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        cur.pop(idx)
                    continue
                if idx is None:
                    cur.append(copy.deepcopy(item))
                else:
                    cur[idx] = strategic_merge(cur[idx], item, sub + "[]")
            target[k] = cur
        elif isinstance(v, dict):
            target[k] = strategic_merge(target.get(k), v, sub)
        else:
            target[k] = copy.deepcopy(v)
    return target


def validate_node(node):
    for c in node.get("status", {}).get("conditions", []):
        if c.get("status") not in ("True", "False", "Unknown"):
            raise ApiError(422, "Invalid", f"status.conditions[{c.get('type')}].status: "
                           f"Unsupported value: {c.get('status')!r}")
        for t in ("lastHeartbeatTime", "lastTransitionTime"):
            if t in c and c[t] is not None:
                try:
                    datetime.strptime(c[t], "%Y-%m-%dT%H:%M:%SZ")
                except (TypeError, ValueError):
                    raise ApiError(400, "BadRequest", f"{t}: not RFC 3339: {c[t]!r}")
    for t in node.get("spec", {}).get("taints", []) or []:
        if t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ApiError(422, "Invalid", f"spec.taints: bad effect {t.get('effect')!r}")
        if not t.get("key"):
            raise ApiError(422, "Invalid", "spec.taints: key required")


def field_selector_match(obj, selector):
    if not selector:
        return True
    for term in selector.split(","):
        if "=" not in term:
            continue
        k, v = term.split("=", 1)
        k = k.rstrip("=").rstrip("!")
        cur = obj
        for part in k.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if (cur or "") != v:
            return False
    return True


def as_table(obj):
    """Server-side printing (what kubectl get asks for with Accept: ...;as=Table), for the
    kinds whose columns kubectl users know: Events and Nodes."""
    kind = obj.get("kind", "")
    items = obj.get("items", [obj]) if kind.endswith("List") else [obj]
    base = kind[:-4] if kind.endswith("List") else kind
    if base == "Event":
        cols = ["Last Seen", "Type", "Reason", "Object", "Message"]
        rows = [[e.get("lastTimestamp", ""), e.get("type", ""), e.get("reason", ""),
                 "node/" + e.get("involvedObject", {}).get("name", ""), e.get("message", "")]
                for e in items]
    elif base == "Node":
        cols = ["Name", "Status", "Roles", "Age", "Version"]
        rows = [[n["metadata"]["name"], "Ready", "<none>", "1d", "v1.32.0"] for n in items]
    else:
        return obj
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(STATE["rv"])},
            "columnDefinitions": [{"name": c, "type": "string", "format": "", "description": "",
                                   "priority": 0} for c in cols],
            "rows": [{"cells": r, "object": {"kind": "PartialObjectMetadata",
                                             "apiVersion": "meta.k8s.io/v1",
                                             "metadata": i["metadata"]}}
                     for r, i in zip(rows, items)]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        if ARGS.log:
            with LOCK, open(ARGS.log, "a") as f:
                f.write(json.dumps({"t": time.time(), "verb": self.command, "path": self.path,
                                    "code": code}) + "\n")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 3 * 1024 * 1024:
            raise ApiError(413, "RequestEntityTooLarge", "request too large")
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise ApiError(400, "BadRequest", "body is not JSON")

    def authorized(self):
        try:
            with open(ARGS.tokens) as f:
                tokens = {l.strip() for l in f if l.strip()}
        except OSError:
            tokens = set()
        auth = self.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in tokens

    def fault(self):
        with LOCK:
            for f in FAULTS:
                if "conflicts" in f:  # answered by the node write itself
                    continue
                if f.get("verb") and f["verb"] != self.command:
                    continue
                if f.get("path_contains") and f["path_contains"] not in self.path:
                    continue
                f["count"] = f.get("count", 1) - 1
                if f["count"] <= 0:
                    FAULTS.remove(f)
                return dict(f)
        return None

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path.rstrip("/") or "/"
        try:
            if path.startswith("/_test/"):
                return self.test_control(path)
            if not self.authorized():
                raise ApiError(401, "Unauthorized", "Unauthorized")
            f = self.fault()
            if f:
                if f.get("delay"):
                    time.sleep(f["delay"])
                if f.get("status"):
                    extra = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") else {}
                    return self.send_json(f["status"], status_obj(f["status"], "Injected",
                                                                  "injected fault"), extra)
            with LOCK:
                code, obj = self.route(path, query)
                save()
            if code == 200 and "as=Table" in self.headers.get("Accept", ""):
                obj = as_table(obj)
            self.send_json(code, obj)
        except ApiError as e:
            self.send_json(e.code, status_obj(e.code, e.reason, e.message))

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

    def test_control(self, path):
        if path == "/_test/fault" and self.command == "POST":
            with LOCK:
                FAULTS.append(self.body())
            return self.send_json(200, {"faults": len(FAULTS)})
        if path == "/_test/clear" and self.command == "POST":
            with LOCK:
                FAULTS.clear()
            return self.send_json(200, {})
        if path == "/_test/state":
            with LOCK:
                return self.send_json(200, STATE)
        raise ApiError(404, "NotFound", path)

    def route(self, path, query):
        parts = path.strip("/").split("/")
        if path == "/version":
            return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-nodeguard-test",
                         "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": []}
        if path == "/apis":
            gv = {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "discovery.k8s.io", "versions": [gv], "preferredVersion": gv}]}
        if path == "/apis/discovery.k8s.io/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "discovery.k8s.io/v1",
                         "resources": [{"name": "endpointslices", "singularName":
                                        "endpointslice", "namespaced": True,
                                        "kind": "EndpointSlice", "verbs": ["get", "list"]}]}
        if (parts[:3] == ["apis", "discovery.k8s.io", "v1"] and len(parts) == 6
                and parts[3] == "namespaces" and parts[5] == "endpointslices"):
            return self.endpoint_slices(parts[4], query)
        if path == "/api/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1",
                         "resources": CORE_RESOURCES}
        if parts[:3] == ["api", "v1", "nodes"]:
            return self.nodes(parts[3:], query)
        if parts[:3] == ["api", "v1", "events"] and self.command == "GET":
            return 200, self.event_list(None, query)
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) >= 5 and parts[4] == "events":
            return self.events(parts[3], parts[5:], query)
        if parts[:3] == ["api", "v1", "pods"] or (len(parts) == 5 and parts[4] == "pods"):
            return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}
        raise ApiError(404, "NotFound", f"the server could not find the requested resource")

    def endpoint_slices(self, ns, query):
        if self.command != "GET":
            raise ApiError(405, "MethodNotAllowed", self.command)
        sel = query.get("labelSelector", "")
        want = dict(t.split("=", 1) for t in sel.split(",") if "=" in t)
        items = [e for e in STATE.get("endpointslices", [])
                 if e["metadata"].get("namespace") == ns
                 and all(e["metadata"].get("labels", {}).get(k) == v for k, v in want.items())]
        # Pages: the server may return fewer than `limit` (as etcd-backed lists do), with a
        # continue token; --max-page forces small pages.
        limit = int(query.get("limit") or 0) or len(items) or 1
        if ARGS.max_page:
            limit = min(limit, ARGS.max_page)
        start = int(query.get("continue") or 0)
        page = items[start:start + limit]
        cont = str(start + limit) if start + limit < len(items) else ""
        return 200, {"kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1",
                     "metadata": {"resourceVersion": str(STATE["rv"]), "continue": cont},
                     "items": page}

    def nodes(self, rest, query):
        if not rest:
            if self.command != "GET":
                raise ApiError(405, "MethodNotAllowed", "nodes: only GET")
            items = [n for n in STATE["nodes"].values()
                     if field_selector_match(n, query.get("fieldSelector"))]
            return 200, {"kind": "NodeList", "apiVersion": "v1",
                         "metadata": {"resourceVersion": str(STATE["rv"])}, "items": items}
        name = rest[0]
        sub = rest[1] if len(rest) > 1 else ""
        if sub not in ("", "status"):
            raise ApiError(404, "NotFound", f"nodes/{sub}")
        node = STATE["nodes"].get(name)
        if node is None:
            raise ApiError(404, "NotFound", f'nodes "{name}" not found')
        if self.command == "GET":
            return 200, node
        if self.command not in ("PATCH", "PUT"):
            raise ApiError(405, "MethodNotAllowed", self.command)
        body = self.body()
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "body must be an object")
        want_rv = (body.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != node["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on nodes "{name}": '
                           "the object has been modified; please apply your changes to the "
                           "latest version and try again")
        with_conflict = [f for f in FAULTS if f.get("conflicts")]
        if with_conflict and self.command in ("PATCH", "PUT") and want_rv:
            f = with_conflict[0]
            f["conflicts"] -= 1
            if f["conflicts"] <= 0:
                FAULTS.remove(f)
            bump(node)  # someone else wrote the node meanwhile
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on nodes "{name}": '
                           "the object has been modified (injected)")
        new = copy.deepcopy(node)
        if self.command == "PUT":
            keep = new["status"] if sub == "" else new["spec"]
            new = body
            if sub == "":
                new["status"] = keep
            else:
                new["spec"] = keep
        else:
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
            if ctype == "application/strategic-merge-patch+json":
                patch = body
            elif ctype == "application/merge-patch+json":
                patch = body
            else:
                raise ApiError(415, "UnsupportedMediaType", f"patch type {ctype!r}")
            patch = copy.deepcopy(patch)
            (patch.get("metadata") or {}).pop("resourceVersion", None)
            # nodes/status changes only status; the node itself ignores status (like the API).
            if sub == "status":
                patch = {k: v for k, v in patch.items() if k in ("status", "metadata")}
            else:
                patch.pop("status", None)
            if ctype == "application/strategic-merge-patch+json":
                new = strategic_merge(new, patch)
            else:
                new = merge_patch(new, patch)
        new["metadata"]["name"] = name
        validate_node(new)
        bump(new)
        STATE["nodes"][name] = new
        return 200, new

    def event_list(self, ns, query):
        items = [e for e in STATE["events"].values()
                 if (ns is None or e["metadata"]["namespace"] == ns)
                 and field_selector_match(e, query.get("fieldSelector"))]
        return {"kind": "EventList", "apiVersion": "v1",
                "metadata": {"resourceVersion": str(STATE["rv"])}, "items": items}

    def events(self, ns, rest, query):
        if not rest:
            if self.command == "GET":
                return 200, self.event_list(ns, query)
            if self.command != "POST":
                raise ApiError(405, "MethodNotAllowed", self.command)
            ev = self.body()
            if not isinstance(ev, dict):
                raise ApiError(400, "BadRequest", "body must be an object")
            name = (ev.get("metadata") or {}).get("name")
            if not name:
                raise ApiError(422, "Invalid", "metadata.name: Required value")
            if (ev.get("metadata") or {}).get("namespace", ns) != ns:
                raise ApiError(422, "Invalid", "metadata.namespace does not match the request")
            io = ev.get("involvedObject") or {}
            if not io.get("kind") or not io.get("name") or not ev.get("reason"):
                raise ApiError(422, "Invalid", "involvedObject and reason are required")
            if ev.get("type") not in ("Normal", "Warning"):
                raise ApiError(422, "Invalid", f"type: Unsupported value: {ev.get('type')!r}")
            key = ns + "/" + name
            if key in STATE["events"]:
                raise ApiError(409, "AlreadyExists", f'events "{name}" already exists')
            ev["metadata"]["namespace"] = ns
            ev["metadata"]["creationTimestamp"] = now()
            bump(ev)
            STATE["events"][key] = ev
            return 201, ev
        key = ns + "/" + rest[0]
        ev = STATE["events"].get(key)
        if ev is None:
            raise ApiError(404, "NotFound", f'events "{rest[0]}" not found')
        if self.command == "GET":
            return 200, ev
        if self.command != "PATCH":
            raise ApiError(405, "MethodNotAllowed", self.command)
        ev = strategic_merge(copy.deepcopy(ev), self.body())
        bump(ev)
        STATE["events"][key] = ev
        return 200, ev


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS, STATE
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--node", action="append", default=[])
    p.add_argument("--state")
    p.add_argument("--log")
    p.add_argument("--port-file")
    p.add_argument("--seed", help="JSON list of EndpointSlices to serve")
    p.add_argument("--max-page", type=int, default=0)
    ARGS = p.parse_args()
    if ARGS.state and os.path.exists(ARGS.state):
        with open(ARGS.state) as f:
            STATE = json.load(f)
    for name in ARGS.node:
        if name not in STATE["nodes"]:
            node = {"kind": "Node", "apiVersion": "v1",
                    "metadata": {"name": name, "uid": "uid-" + name,
                                 "creationTimestamp": now(), "labels": {
                                     "kubernetes.io/hostname": name}},
                    "spec": {"taints": [{"key": "example.com/team", "value": "a",
                                         "effect": "NoSchedule"}]},
                    "status": {"conditions": [
                        {"type": "Ready", "status": "True", "reason": "KubeletReady",
                         "message": "kubelet is posting ready status",
                         "lastHeartbeatTime": now(), "lastTransitionTime": now()}],
                        "nodeInfo": {  # every field is required by typed clients
                            "architecture": "amd64", "bootID": "b", "containerRuntimeVersion":
                            "containerd://1.7.0", "kernelVersion": "6.1.0",
                            "kubeProxyVersion": "v1.32.0", "kubeletVersion": "v1.32.0",
                            "machineID": "m", "operatingSystem": "linux",
                            "osImage": "Debian GNU/Linux 12", "systemUUID": "u"}}}
            bump(node)
            STATE["nodes"][name] = node
    if ARGS.seed:
        with open(ARGS.seed) as f:
            STATE["endpointslices"] = json.load(f)
    save()
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
