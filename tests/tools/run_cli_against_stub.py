"""Serve a recorded engine JSON on a private unix socket and run a docker CLI against it."""
import json, os, subprocess, sys, time, datetime, re, signal
def shift(obj, delta):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "Created" and isinstance(v, int) and v > 0:
                out[k] = v + delta
            elif k in ("CreatedAt", "LastUsedAt") and isinstance(v, str) and re.match(r"\d{4}-", v):
                m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", v)
                ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
                out[k] = datetime.datetime.fromtimestamp(ts + delta, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + (m.group(2) or "") + "Z"
            else:
                out[k] = shift(v, delta)
        return out
    if isinstance(obj, list):
        return [shift(x, delta) for x in obj]
    return obj
def main():
    api, routes_file, now, cli = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    args = sys.argv[5:]
    routes = json.load(open(routes_file))
    delta = int(time.time()) - now if now else 0
    routes = {k: shift(v, delta) for k, v in routes.items()}
    rf = f"/tmp/dfw/routes_{os.getpid()}.json"; json.dump(routes, open(rf, "w"))
    sock = f"/tmp/dfw/s_{os.getpid()}.sock"
    srv = subprocess.Popen([sys.executable, "/tmp/dfw/fake.py", sock, api, rf], stderr=open(f"/tmp/dfw/log_{os.getpid()}", "w"))
    for _ in range(50):
        if os.path.exists(sock): break
        time.sleep(0.05)
    env = dict(os.environ, DOCKER_CONFIG="/tmp/dfw/cfg", DOCKER_HOST="unix://" + sock)
    env.pop("DOCKER_CONTEXT", None)
    r = subprocess.run([cli] + args, env=env, capture_output=True)
    srv.send_signal(signal.SIGTERM); srv.wait()
    sys.stdout.buffer.write(r.stdout)
    if r.stderr: sys.stderr.buffer.write(b"STDERR: " + r.stderr)
    os.unlink(rf)
main()
