#!/usr/bin/env python3
"""Builds the fuzz seed corpus from the oracle vectors.

    python3 fuzz/seed.py [vectors.jsonl]

Default input: ../shared/oracle/public.jsonl beside the project, else the vendored
tests/vectors/oracle-subset.jsonl. Writes fuzz/corpus/{header,verify,envelope,layer}/ (git-ignored:
regenerated, not committed). The verify and layer seeds use the case format of fuzz/src/lib.rs:

    secrets (comma-separated)
    now tolerance flags n
    header
    body...
"""
import base64
import hashlib
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
candidates = sys.argv[1:] or [
    os.path.join(root, "..", "shared", "oracle", "public.jsonl"),
    os.path.join(root, "tests", "vectors", "oracle-subset.jsonl"),
]
source = next(path for path in candidates if os.path.exists(path))


def write(target, data):
    folder = os.path.join(here, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data)


counts = {}
with open(source) as lines:
    for line in lines:
        case = json.loads(line)
        body = base64.b64decode(case["body_b64"])
        header = case["header"]
        digest = int(hashlib.sha1(case["id"].encode()).hexdigest()[:12], 16)
        write("envelope", body)
        if header is not None:
            write("header", header.encode("utf-8", "surrogatepass"))
        # The SDKs' tolerance 0 turns the age check off; the case format says that with -1.
        tolerance = case["tolerance"] or -1
        flags = 4 if header is None else 0
        header_bytes = (header or "").encode("utf-8", "surrogatepass")
        for target, n in (("verify", 0), ("layer", digest | (1 << 40) | 200)):
            head = "%s\n%d %d %d %d\n" % (",".join(case["secrets"]), case["now"], tolerance, flags, n)
            write(target, head.encode() + header_bytes + b"\n" + body)
# Seeds that use the signing markers: right signatures in several positions, wrong ones next to them.
event = b'{"id":"evt_1","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{"id":"in_1"}}}'
for header in (b"t=1700000000,v1=#0", b"t=1700000000,v1=#3,v1=#4,v1=#1", b"t=1700000000,v0=#0,v1=#2",
               b"t=+01700000000 ,v1=#0", b"v1=#1,t=1700000000"):
    for target in ("verify", "layer"):
        write(target, b"whsec_a,whsec_b,whsec_c\n1700000100 300 0 " + str(1 << 40 | 128).encode() + b"\n" + header + b"\n" + event)
for target in sorted(os.listdir(os.path.join(here, "corpus"))):
    print(target, len(os.listdir(os.path.join(here, "corpus", target))), "seeds from", os.path.relpath(source, root))
