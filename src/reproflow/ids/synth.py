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

import contextlib
import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np

from reproflow.errors import ReproflowError
from reproflow.ids.kyoto import FLAGS
from reproflow.limits import available_memory
from reproflow.outputs import atomic_output, check_output_path

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


MAX_DAYS = 3660                   # ten years of daily files
MAX_ROWS_PER_DAY = 10_000_000     # a real day holds 0.1-1 million records
BYTES_PER_ROW = 200               # a synthetic line (measured: 175 bytes on average)
MEMORY_PER_ROW = 2_000            # peak bytes per row generating a day (measured: 0.9 kB + its text)
MAX_SEED = 2**63 - 1


def day_names(first_day: str, days: int) -> list[str]:
    """`days` consecutive YYYYMMDD names from `first_day`."""
    try:
        start = dt.datetime.strptime(first_day, "%Y%m%d").date()
    except (TypeError, ValueError):
        raise ReproflowError(f"synth: first day {first_day!r} is not a YYYYMMDD date") from None
    if not 1 <= days <= MAX_DAYS:
        raise ReproflowError(f"synth: days = {days}; expected an integer in 1..{MAX_DAYS}")
    try:
        return [(start + dt.timedelta(days=k)).strftime("%Y%m%d") for k in range(days)]
    except OverflowError:
        raise ReproflowError(f"synth: {days} days from {first_day} run past the year 9999") from None


def check_options(days: int, rows_per_day: int, seed: int, label_noise: float) -> None:
    """Refuse options out of range, before anything is generated."""
    for name, value, high in (("days", days, MAX_DAYS), ("rows per day", rows_per_day, MAX_ROWS_PER_DAY),
                              ("seed", seed, MAX_SEED)):
        low = 0 if name == "seed" else 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ReproflowError(f"synth: {name} = {value!r}; expected an integer in {low}..{high}")
    if isinstance(label_noise, bool) or not isinstance(label_noise, int | float) \
            or not math.isfinite(label_noise) or not 0 <= label_noise < 1:
        raise ReproflowError(f"synth: label noise = {label_noise!r}; expected a finite share in [0, 1)")
    memory = available_memory()
    if memory is not None and rows_per_day * MEMORY_PER_ROW > memory:
        raise ReproflowError(
            f"synth: {rows_per_day} rows per day need about {rows_per_day * MEMORY_PER_ROW / 2**20:.0f} MiB "
            f"of memory to generate, more than the {memory / 2**20:.0f} MiB available; ask for fewer rows per day")


def _ips(rng: np.random.Generator, n: int, pool: int) -> np.ndarray:
    hosts = [PREFIX + "".join(f":{g:04x}" for g in rng.integers(0, 65536, 5)) for _ in range(pool)]
    return np.asarray(hosts)[rng.integers(0, pool, n)]


def _codes(rng: np.random.Generator, fired: np.ndarray, names: tuple[str, ...]) -> list[str]:
    def alerts() -> str:    # one or two distinct names, each with a count
        picks = rng.choice(len(names), size=int(rng.integers(1, 3)), replace=False)
        return ",".join(f"{names[i]}({int(rng.integers(1, 4))})" for i in picks)

    return [alerts() if hit else "0" for hit in fired]


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
    flags = np.asarray(FLAGS)[flag]
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


def _check_disk(out: Path, days: int, rows_per_day: int) -> None:
    folder = out
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    need = days * rows_per_day * BYTES_PER_ROW
    if need > free:
        raise ReproflowError(f"{out}: {days} days of {rows_per_day} rows need about {need / 2**20:.0f} MiB, "
                             f"more than the {free / 2**20:.0f} MiB free there")


def _refuse_different(path: Path, data: bytes) -> bool:
    """True when `path` already holds exactly `data` (nothing to write); refuse a different file."""
    if not (path.exists() or path.is_symlink()):
        return False
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return True
    raise ReproflowError(
        f"{path}: exists and differs from what synth would write; reproflow never replaces a file it "
        "did not write: remove it or choose another --out folder")


def write_days(out: str | Path, days: int, rows_per_day: int, seed: int,
               first_day: str = "20130101", label_noise: float = 0.07) -> list[Path]:
    """Write `days` daily files `YYYYMMDD.txt` (and a SYNTHETIC.md note) into `out`.

    Every file is written beside its place and renamed only when all are complete;
    a file already there is left alone when it is identical and refused otherwise."""
    check_options(days, rows_per_day, seed, label_noise)
    names = day_names(first_day, days)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReproflowError(f"{out}: is a file; expected a folder for the YYYYMMDD.txt files")
    _check_disk(out, days, rows_per_day)
    paths = [out / f"{day}.txt" for day in names]
    pending = {path: check_output_path(path, what="day file") for path in [out / "SYNTHETIC.md", *paths]}
    existing = [path for path in pending if path.exists() or path.is_symlink()]
    for path in existing:       # compared before anything is written
        _refuse_different(path, _content(path, names, days, rows_per_day, seed, label_noise))
    with contextlib.ExitStack() as stack:
        for path in pending:
            if path in existing:
                continue
            tmp = stack.enter_context(atomic_output(path, what="day file"))
            tmp.write_bytes(_content(path, names, days, rows_per_day, seed, label_noise))
    return paths


def _content(path: Path, names: list[str], days: int, rows_per_day: int, seed: int, label_noise: float) -> bytes:
    if path.name == "SYNTHETIC.md":
        return NOTE.encode()
    lines = day_records(names.index(path.stem), days, rows_per_day, seed, label_noise)
    return ("\n".join(lines) + "\n").encode("ascii")
