#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/integration/tuf_network.sh -- the network attacks of the TUF
# specification against the real `zupd check` on 127.0.0.1:
# endless data and slow retrieval (mirrors: tuf_mirrors.sh). See
# docs/internals/attacks.md.
set -u
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
tuf_setup

make_base base
make_base baseh --hashes
S=saved/A/repo/metadata
CH="targets/products/product/channels/*.stable.json"

# slower than the client's low-speed limit (100 B/s over 2 s in tuf_conf)
within() {
    if [ "$el" -le "$1" ]; then ok "cut after ${el} ms"; else bad "took ${el} ms (limit $1)"; fi
}

# ------------------------------------------------ endless data
case_begin "endless data: timestamp without a length"
rule evil metadata/timestamp.json endless
attack 12
within 5000
case_begin "endless data: timestamp with a lying Content-Length"
rule evil metadata/timestamp.json liar
attack 12
case_begin "endless data: timestamp over 16 KiB"
rule evil metadata/timestamp.json append n=16384
attack 12
case_begin "endless data: root N+1 over 512 KiB"
rule evil metadata/2.root.json endless
attack 12
within 5000
case_begin "endless data: snapshot longer than timestamp says" baseh
publish_channel "$C/r" 2.0
rule evil metadata/3.snapshot.json append n=1
attack 12 timestamp.json
case_begin "endless data: products longer than snapshot says" baseh
publish_channel "$C/r" 2.0
rule evil metadata/3.products.json append n=1
attack 12 timestamp.json snapshot.json
case_begin "endless data: products without a signed length (5 MB cap)"
publish_channel "$C/r" 2.0
rule evil metadata/3.products.json endless
attack 12 timestamp.json snapshot.json
within 10000
case_begin "endless data: channel pointer"
rule evil "$CH" endless
attack 12

# ------------------------------------------------ slow retrieval
case_begin "slow retrieval: timestamp trickled"
rule evil metadata/timestamp.json trickle delay=1
attack 33
within 8000
case_begin "slow retrieval: snapshot trickled"
publish_channel "$C/r" 2.0
rule evil metadata/3.snapshot.json trickle delay=1
attack 33 timestamp.json
within 8000
case_begin "slow retrieval: channel pointer trickled"
rule evil "$CH" trickle delay=1
attack 33
within 8000

tuf_finish
