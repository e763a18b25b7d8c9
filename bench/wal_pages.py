#!/usr/bin/env python3
"""Which tables and indexes a SQLite WAL holds pages of (bench/README.md, "Scale").

    python3 bench/wal_pages.py DATABASE [WAL]      # WAL defaults to DATABASE-wal

Reads the WAL's frames (https://www.sqlite.org/fileformat2.html, "WAL File Format": a 32-byte
header whose salts, bytes 16..23, every valid frame repeats in its 24-byte header, bytes 8..15,
page number first), then maps each page number to its table or index with SQLite's dbstat
virtual table, opened read-only so that the WAL is neither checkpointed nor removed. Prints the
distinct pages and the frames of each. To take a WAL under load: start the ingest benchmark with
BENCH_KEEP=1 BENCH_WARMUP=0, `kill -9` loyaltyd a few seconds into the level, and point this at
the kept database (the scan of a 4.5 GB database takes about 10 s).
"""
import collections
import sqlite3
import struct
import sys


def wal_pages(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 32:
        return []
    page_size = struct.unpack('>I', data[8:12])[0]
    salts = data[16:24]
    pages, at = [], 32
    while at + 24 + page_size <= len(data) and data[at + 8:at + 16] == salts:
        pages.append(struct.unpack('>I', data[at:at + 4])[0])
        at += 24 + page_size
    return pages


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    db = sys.argv[1]
    frames = wal_pages(sys.argv[2] if len(sys.argv) == 3 else db + '-wal')
    distinct = set(frames)
    print(f"frames {len(frames)} distinct pages {len(distinct)}")
    owner = {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for name, pageno in con.execute("SELECT name, pageno FROM dbstat"):
        if pageno in distinct:
            owner[pageno] = name
    by_tree = collections.Counter(owner.get(p, '?') for p in distinct)
    frames_by_tree = collections.Counter(owner.get(p, '?') for p in frames)
    for name, n in by_tree.most_common():
        print(f"{name:40s} distinct {n:7d} frames {frames_by_tree[name]:7d}")


if __name__ == '__main__':
    main()
