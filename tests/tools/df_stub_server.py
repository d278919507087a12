import json, os, socketserver, sys, http.server
SOCK = sys.argv[1]; API = sys.argv[2]; ROUTES = json.load(open(sys.argv[3]))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def address_string(self): return "fake"
    def _send(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Api-Version", API); self.send_header("Content-Type", ctype)
        self.send_header("Docker-Experimental", "false"); self.send_header("Ostype", "linux")
        self.send_header("Content-Length", str(len(data))); self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        path = self.path
        sys.stderr.write(f"{self.command} {path}\n")
        if path.startswith("/_ping"): return self._send(200, "OK", "text/plain")
        p = path.split("?")[0]
        parts = p.split("/")
        if len(parts) > 1 and parts[1].startswith("v1."): p = "/" + "/".join(parts[2:])
        key = f"{self.command} {p}"
        if key in ROUTES: return self._send(200, json.dumps(ROUTES[key]))
        return self._send(404, json.dumps({"message": f"no route {key}"}))
    do_GET = do_POST = do_HEAD = do_DELETE = handle_any
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    def get_request(self):
        r, a = super().get_request(); return r, ("fake", 0)
if os.path.exists(SOCK): os.unlink(SOCK)
S(SOCK, H).serve_forever()
