"""SQLite's own insert rate, measured like the API writes: N concurrent clients, one small row per
transaction, WAL with synchronous=NORMAL (the server's settings), for D seconds."""

import sqlite3
import sys
import threading
import time

path, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
setup = sqlite3.connect(path)
setup.execute("PRAGMA journal_mode=WAL")
setup.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, at INTEGER NOT NULL)")
setup.commit()
setup.close()
counts = [0] * clients
stop = time.monotonic() + seconds


def worker(i: int) -> None:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    while time.monotonic() < stop:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_raw (payload, at) VALUES (?, ?)", ("Contacto de carga|Enlace|carga@sat.example|+52 55 5555 0000", time.time_ns()))
        conn.execute("COMMIT")
        counts[i] += 1
    conn.close()


threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{sum(counts) / seconds:.0f}")
