#!/usr/bin/env python3
"""Bounded load and abuse test of `liancun serve` on loopback (issue 16).

Starts the server on a fresh copy of a workspace, then for DURATION seconds runs side by side:
- anonymous abusers: refused writes with 8 KB paths, heavy analyses (huge effort and time
  limits, network service areas), slow-header and slow-body connections;
- two editors, each editing its own plan in a loop (GET the plan, PATCH one rename with
  If-Match) and timing every request.
Reports the editors' latency percentiles, every status seen, the server's peak memory (VmHWM)
and checks that each acknowledged edit is in the plan's history afterwards.

  python3 bench/service/load.py --bin target/debug/liancun --workspace data/demo.gpkg --seconds 30
Standard library only; loopback only.
"""
import argparse, http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

p = argparse.ArgumentParser()
p.add_argument("--bin", default="target/debug/liancun")
p.add_argument("--workspace", default="data/demo.gpkg")
p.add_argument("--seconds", type=float, default=30)
p.add_argument("--abusers", type=int, default=8)
a = p.parse_args()

tmp = tempfile.mkdtemp(prefix="liancun-load-")
ws = os.path.join(tmp, "ws.gpkg")
shutil.copy(a.workspace, ws)

def token(role, name):
    out = subprocess.run([a.bin, "token", "create", "-w", ws, "--role", role, "--name", name],
                         capture_output=True, text=True, check=True).stdout
    return out.split()[-1]

editors = [token("editor", f"editor{i}") for i in range(2)]
server = subprocess.Popen([a.bin, "serve", "-w", ws, "--bind", "127.0.0.1:0"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
addr = server.stdout.readline().strip().removeprefix("listening on http://").rstrip("/")
host, port = addr.split(":")
port = int(port)

def request(method, path, body=None, headers=None, timeout=120):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = c.getresponse()
    data = r.read()
    out = (r.status, dict((k.lower(), v) for k, v in r.getheaders()), data)
    c.close()
    return out

# Each editor gets a plan to edit.
plans = []
for i, t in enumerate(editors):
    s, h, d = request("POST", "/plans", {"name": f"负载{i}", "from": "proposal",
                                         "params": {"time_limit_s": 2}},
                      {"Authorization": f"Bearer {t}"})
    assert s == 201, (s, d[:300])
    plan = json.loads(d)
    plans.append((plan["id"], plan["zones"][0]["id"]))

stop = time.time() + a.seconds
statuses, lat, acked = {}, {0: [], 1: []}, {0: [], 1: []}
lock = threading.Lock()

def count(kind, status):
    with lock:
        statuses[(kind, status)] = statuses.get((kind, status), 0) + 1

def abuser(k):
    heavy = [
        ("/analysis/zones/propose", {"effort": 10**12, "time_limit_s": 60}),
        ("/analysis/coverage", {"kind": "卫生室", "radius_m": 100000, "distance": "network",
                                "service_areas": True}),
        ("/analysis/locate", {"model": "pmedian", "p": 5, "candidates": "construction",
                              "method": "exact"}),
    ]
    i = 0
    while time.time() < stop:
        i += 1
        try:
            if k % 4 == 0:      # refused writes with long paths
                s, _, _ = request("POST", "/plans/" + "x" * 8000, {})
                count("refused write", s)
            elif k % 4 == 1:    # heavy analyses, abandoned after 2 s
                path, body = heavy[i % len(heavy)]
                try:
                    s, _, _ = request("POST", path, body, timeout=2)
                    count("heavy analysis", s)
                except (socket.timeout, TimeoutError):
                    count("heavy analysis", "abandoned")
            elif k % 4 == 2:    # slow headers
                sk = socket.create_connection((host, port))
                sk.sendall(b"GET /villages HTTP/1.1\r\nHost: x\r\n")
                sk.settimeout(30)
                t0 = time.time()
                try:
                    sk.recv(1)
                except OSError:
                    pass
                count("slow headers closed", f"after {round(time.time() - t0)} s")
                sk.close()
            else:               # slow body
                sk = socket.create_connection((host, port))
                sk.sendall(b"POST /analysis/centers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{")
                sk.settimeout(40)
                try:
                    first = sk.recv(64).decode(errors="replace").split("\r\n")[0]
                except OSError:
                    first = "no answer"
                count("slow body", first)
                sk.close()
        except Exception as e:  # noqa: BLE001 - a refused connection is a finding too
            count("abuser error", type(e).__name__)

def editor(i):
    t = editors[i]
    plan, zone = plans[i]
    auth = {"Authorization": f"Bearer {t}"}
    n = 0
    while time.time() < stop:
        n += 1
        t0 = time.perf_counter()
        s, h, d = request("GET", f"/plans/{plan}", headers=auth)
        lat[i].append(time.perf_counter() - t0)
        count("editor GET", s)
        etag = h.get("etag")
        t0 = time.perf_counter()
        s, h, d = request("PATCH", f"/plans/{plan}",
                          {"edits": [{"op": "rename", "zone": zone, "name": f"改{n}"}]},
                          {**auth, "If-Match": etag})
        lat[i].append(time.perf_counter() - t0)
        count("editor PATCH", s)
        if s == 200:
            acked[i].append(json.loads(d)["version"])

threads = [threading.Thread(target=abuser, args=(k,)) for k in range(a.abusers)]
threads += [threading.Thread(target=editor, args=(i,)) for i in range(2)]
for th in threads:
    th.start()
for th in threads:
    th.join()

def vm(key):
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith(key):
            return int(line.split()[1]) // 1024
peak, now = vm("VmHWM"), vm("VmRSS")

# Every acknowledged edit is a version in the plan's history.
lost = 0
for i, (plan, _) in enumerate(plans):
    s, _, d = request("GET", f"/plans/{plan}/versions", headers={"Authorization": f"Bearer {editors[i]}"})
    have = {v["version"] for v in json.loads(d)["versions"]}
    lost += len([v for v in acked[i] if v not in have])
server.terminate()
server.wait(30)
shutil.rmtree(tmp)

all_lat = sorted(lat[0] + lat[1])
pct = lambda q: 1000 * all_lat[min(len(all_lat) - 1, int(q * len(all_lat)))]
report = {
    "seconds": a.seconds, "abusers": a.abusers,
    "editor_requests": len(all_lat), "editor_p50_ms": round(pct(0.5), 1),
    "editor_p99_ms": round(pct(0.99), 1), "editor_max_ms": round(1000 * all_lat[-1], 1),
    "acknowledged_edits": len(acked[0]) + len(acked[1]), "lost_edits": lost,
    "server_peak_rss_mb": peak, "server_rss_after_mb": now,
    "statuses": {f"{k} {s}": n for (k, s), n in sorted(statuses.items(), key=str)},
}
print(json.dumps(report, ensure_ascii=False, indent=1))
ok = report["editor_p99_ms"] < 100 and lost == 0 and not any(
    str(s).startswith("5") and s != 503 for (k, s) in statuses if k.startswith("editor"))
sys.exit(0 if ok else 1)
