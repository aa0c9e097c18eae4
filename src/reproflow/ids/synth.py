"""Synthetic Kyoto-format traffic for the offline default run and the tests.

SYNTHETIC DATA: the records imitate the real file format exactly (24 tab-
separated fields, services, flags, protocols, ports, detection codes,
anonymised IPv6, attack share near the real 58-62%) but carry no real
traffic. Labels depend on the features in a learnable but imperfect way:
the class shifts the feature distributions (with overlap), a share of the
labels is flipped, and the attack mix drifts across days. Numbers computed
on these files are never Kyoto 2013 results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from reproflow.errors import ReproflowError

NOTE = (
    "SYNTHETIC Kyoto-format records written by `reproflow kyoto synth` "
    "(reproflow.ids.synth): same file format as Kyoto 2013, no real traffic. "
    "Results on these files are not Kyoto 2013 results.\n"
)
SERVICES = ("other", "smtp", "dns", "http", "ssl", "ssh", "ftp", "ftp-data", "sip", "rdp", "snmp")
SERVICE_P = {
    0: (0.22, 0.33, 0.14, 0.12, 0.08, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01),
    1: (0.72, 0.06, 0.02, 0.05, 0.02, 0.07, 0.02, 0.00, 0.02, 0.01, 0.01),
}
FLAG_NAMES = ("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH")
FLAG_NORMAL = (0.14, 0.04, 0.58, 0.05, 0.01, 0.01, 0.05, 0.03, 0.01, 0.01, 0.04, 0.01, 0.02)
FLAG_ATTACK = (0.52, 0.01, 0.10, 0.12, 0.01, 0.01, 0.06, 0.02, 0.05, 0.02, 0.04, 0.02, 0.02)
PORTS = {
    0: ((25, 80, 53, 443, 22, 21, 110), (0.35, 0.2, 0.15, 0.12, 0.05, 0.03, 0.02)),
    1: ((445, 23, 22, 1433, 3389, 80, 8080, 25, 5060), (0.38, 0.15, 0.12, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03)),
}
IDS_CODES = ("4060-1-8", "1448-1-19", "2003-1-8", "2010935-2-19", "1917-1-15")
ASHULA_CODES = ("349", "81", "2014", "7", "105")
MALWARE_NAMES = ("Worm.Allaple-2", "Trojan.Agent-1", "W32.Virut.Gen")
PREFIX = "fd75:41fb:cf76"


def day_names(first_day: str, days: int) -> list[str]:
    """`days` consecutive YYYYMMDD names from `first_day`."""
    try:
        start = dt.datetime.strptime(first_day, "%Y%m%d").date()
    except ValueError:
        raise ReproflowError(f"synth: first day {first_day!r} is not a YYYYMMDD date") from None
    return [(start + dt.timedelta(days=k)).strftime("%Y%m%d") for k in range(days)]


def _ips(rng: np.random.Generator, n: int, pool: int) -> np.ndarray:
    hosts = [PREFIX + "".join(f":{g:04x}" for g in rng.integers(0, 65536, 5)) for _ in range(pool)]
    return np.asarray(hosts)[rng.integers(0, pool, n)]


def _codes(rng: np.random.Generator, fired: np.ndarray, names: tuple[str, ...]) -> list[str]:
    out = []
    for hit in fired:
        if not hit:
            out.append("0")
            continue
        k = int(rng.integers(1, 3))
        picks = rng.choice(len(names), size=k, replace=False)
        out.append(",".join(f"{names[i]}({int(rng.integers(1, 4))})" for i in picks))
    return out


def _rate(rng: np.random.Generator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.round(rng.beta(a, b), 2)


def day_records(day_index: int, n_days: int, rows: int, seed: int, label_noise: float = 0.07) -> list[str]:
    """One synthetic day's lines (without newlines), sorted by start time."""
    rng = np.random.default_rng([seed, day_index])
    drift = day_index / max(n_days - 1, 1)   # 0 on the first day, 1 on the last
    attack_share = 0.60 + 0.015 * np.sin(2 * np.pi * day_index / 7) + rng.normal(0, 0.003)
    z = (rng.random(rows) < attack_share).astype(int)   # the true class
    a = z == 1

    flag_attack = np.array(FLAG_ATTACK) + drift * np.array([-0.15, 0, 0.12] + [0] * 9 + [0.03])
    flag = np.where(a, rng.choice(13, rows, p=flag_attack / flag_attack.sum()),
                    rng.choice(13, rows, p=np.divide(FLAG_NORMAL, sum(FLAG_NORMAL))))
    flags = np.asarray(FLAG_NAMES)[flag]
    service = np.where(a, rng.choice(len(SERVICES), rows, p=np.divide(SERVICE_P[1], sum(SERVICE_P[1]))),
                       rng.choice(len(SERVICES), rows, p=np.divide(SERVICE_P[0], sum(SERVICE_P[0]))))
    protocol = np.where(rng.random(rows) < np.where(a, 0.95, 0.85), "tcp",
                        np.where(rng.random(rows) < 0.85, "udp", "icmp"))
    no_data = np.isin(flags, ("S0", "REJ", "RSTOS0", "SH", "OTH"))
    duration = np.where(a, np.where(rng.random(rows) < 0.6, 0.0, rng.gamma(4, 0.75, rows)),
                        rng.lognormal(0.5, 1.8, rows))
    duration = np.where(no_data & (rng.random(rows) < 0.5), 0.0, duration)
    src_bytes = np.where(no_data, 0, np.where(a, rng.lognormal(4.5 + drift, 1.8, rows),
                                              rng.lognormal(7, 1.5, rows))).astype(np.int64)
    dst_bytes = np.where(no_data, 0, np.where(a, rng.lognormal(4, 2, rows),
                                              rng.lognormal(6, 1.6, rows))).astype(np.int64)
    count = np.minimum(rng.poisson(np.where(a, 4 + 3 * drift, 1.5)), 100)
    same_srv = _rate(rng, np.where(a, 4, 2), np.where(a, 1, 2))
    serror = np.where(no_data, _rate(rng, np.full(rows, 4.0), np.full(rows, 1.0)), 0.0)
    serror = np.where(rng.random(rows) < 0.5, 0.0, serror)
    srv_serror = np.round(np.clip(serror + rng.normal(0, 0.05, rows), 0, 1), 2) * (serror > 0)
    host_count = np.minimum(rng.poisson(np.where(a, 30, 8)), 100)
    host_srv = np.minimum(host_count, rng.poisson(np.where(a, 25, 6)))
    host_same_port = _rate(rng, np.where(a, 1, 1), np.where(a, 3, 6))
    host_serror = np.where(a & no_data, _rate(rng, np.full(rows, 3.0), np.full(rows, 2.0)), 0.0)
    host_srv_serror = np.round(np.clip(host_serror + rng.normal(0, 0.05, rows), 0, 1), 2) * (host_serror > 0)
    ports, weights = PORTS[1]
    attack_port = np.asarray(ports)[rng.choice(len(ports), rows, p=np.divide(weights, sum(weights)))]
    ports, weights = PORTS[0]
    normal_port = np.asarray(ports)[rng.choice(len(ports), rows, p=np.divide(weights, sum(weights)))]
    dst_port = np.where(rng.random(rows) < 0.1, rng.integers(1024, 65536, rows),
                        np.where(a, attack_port, normal_port))
    src_port = np.where(a & (rng.random(rows) < 0.6), rng.integers(1024, 5000, rows),
                        rng.integers(1024, 65536, rows))
    ids = _codes(rng, rng.random(rows) < np.where(a, 0.25, 0.02), IDS_CODES)
    malware = _codes(rng, rng.random(rows) < np.where(a, 0.03, 0.002), MALWARE_NAMES)
    ashula = _codes(rng, rng.random(rows) < np.where(a, 0.15 - 0.1 * drift, 0.03), ASHULA_CODES)
    observed = np.where(rng.random(rows) < label_noise, 1 - z, z)   # imperfect labels
    label = np.where(observed == 0, "1", np.where(rng.random(rows) < 0.1, "-2", "-1"))
    src_ip = np.where(a, _ips(rng, rows, 40), _ips(rng, rows, 400))
    dst_ip = _ips(rng, rows, 24)
    seconds = np.sort(rng.integers(0, 86400, rows))
    lines = []
    for i in np.argsort(seconds, kind="stable"):
        t = int(seconds[i])
        lines.append("\t".join((
            f"{duration[i]:.6f}", SERVICES[service[i]], str(src_bytes[i]), str(dst_bytes[i]),
            str(count[i]), f"{same_srv[i]:.2f}", f"{serror[i]:.2f}", f"{srv_serror[i]:.2f}",
            str(host_count[i]), str(host_srv[i]), f"{host_same_port[i]:.2f}",
            f"{host_serror[i]:.2f}", f"{host_srv_serror[i]:.2f}", flags[i], ids[i], malware[i],
            ashula[i], label[i], src_ip[i], str(src_port[i]), dst_ip[i], str(dst_port[i]),
            f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}", str(protocol[i]),
        )))
    return lines


def write_days(out: str | Path, days: int, rows_per_day: int, seed: int,
               first_day: str = "20130101", label_noise: float = 0.07) -> list[Path]:
    """Write `days` daily files `YYYYMMDD.txt` (and a SYNTHETIC.md note) into `out`."""
    if days < 1 or rows_per_day < 1:
        raise ReproflowError(f"synth: need days >= 1 and rows per day >= 1, got {days} and {rows_per_day}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "SYNTHETIC.md").write_text(NOTE)
    paths = []
    for index, day in enumerate(day_names(first_day, days)):
        path = out / f"{day}.txt"
        lines = day_records(index, days, rows_per_day, seed, label_noise)
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
        paths.append(path)
    return paths
