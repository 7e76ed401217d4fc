#!/usr/bin/env bash
# Recaptures the verifier fixtures (crates/sdk/testdata/*.json) from two fresh local
# networks: run it after any change to what a certificate signs or to the proof format,
# then `TALLY_BLESS=1 cargo test -p tally-sdk --test explorer_vectors` and `npm test`.
#
#   cargo build -p tally-cli && (cd explorer && node build.mjs --test-bundle) && explorer/tests/recapture.sh
#
# Uses ports 26700-26710 and 26800-26810 on loopback; takes about two minutes.
set -euo pipefail
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REPO=$(cd "$(dirname "$0")/../.." && pwd)
T=$REPO/target/debug/tally
OUT=$REPO/crates/sdk/testdata
export TALLY_HOME=$WORK/home
height() { curl -s "$1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["finalized_height"])'; }
txid() { python3 -c 'import json,sys; print(json.load(sys.stdin)["tx_id"])'; }
start() { # home base
  $T localnet --fresh --home "$1" --base-port "$2" > "$1.log" 2>&1 &
  echo $! > "$1.pid"
  for i in $(seq 1 120); do grep -q "press Ctrl-C" "$1.log" 2>/dev/null && return 0; sleep 1; done
  echo "localnet did not start"; cat "$1.log"; exit 1
}
stop() { kill "$(cat "$1.pid")"; wait "$(cat "$1.pid")" 2>/dev/null || true; }
wait_height() { while [ "$(height "$1")" -lt "$2" ]; do sleep 1; done; }
dvp() { # api
  local a b
  a=$($T --api "$1" --key dealer-a --output json instruct --trade-ref CAP-1 --leg 300:400:US91282CJL63:1000000 --leg 400:300:1:995000 | txid)
  b=$($T --api "$1" --key dealer-b --output json instruct --trade-ref CAP-1 --leg 300:400:US91282CJL63:1000000 --leg 400:300:1:995000 | txid)
  echo "$a $b"
}

# Network A: holding_proofs.json (an inclusion and an exclusion proof after a DvP).
A=http://127.0.0.1:26701
start $WORK/netA 26700
read -r _ _ <<<"$(dvp $A)"
wait_height $A 40
(cd $REPO/explorer && node --input-type=module -e "
import { SigningKey } from './.build/auth.mjs';
import { readFileSync } from 'node:fs';
const api = '$A';
const chain = await (await fetch(api + '/chain')).json();
const keys = (await (await fetch(api + '/dev/keys')).json()).keys;
const regulator = new SigningKey(keys.find((k) => k.name === 'regulator').secret_key);
async function get(path, key) {
  const headers = {};
  if (key) headers.authorization = key.authorization(chain.chain_id, 'GET', path, BigInt(Date.now() + 60_000), crypto.getRandomValues(new Uint8Array(16)));
  const r = await fetch(api + path, { headers });
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}
const old = JSON.parse(readFileSync('$OUT/holding_proofs.json', 'utf8'));
const out = { note: old.note, group_public_key: chain.group_public_key, other_group_public_key: old.other_group_public_key };
for (const [name, account] of [['inclusion', 400], ['exclusion', 500]]) {
  const proof = await get('/proof/holding/' + account + '/2', regulator);
  const certified = await get('/block/' + proof.height + '/certified');
  out[name] = { account, certified, instrument: 2, proof };
}
console.log(JSON.stringify(out, null, 2));
") > $WORK/holding_proofs.json
stop $WORK/netA
GROUP_A=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["group_public_key"])' "$WORK/holding_proofs.json")

# Network B: capture 2 young (receipts of a DvP half and of a transfer from a frozen
# account; holdings in the partial chunk), capture 1 later (holdings in complete chunks).
B=http://127.0.0.1:26801
start $WORK/netB 26800
read -r t1 _ <<<"$(dvp $B)"
DVP_H=$(curl -s "$B/tx/$t1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
$T --api $B --key regulator account freeze 300 >/dev/null
t3=$($T --api $B --key dealer-a --output json transfer --from 300 --to 400 --instrument 1 --amount 1 | txid || true)
sleep 2
(cd $REPO/explorer && node tests/capture.mjs $B "$DVP_H" "$t1" "$t3") > $WORK/c2.json
wait_height $B 320
(cd $REPO/explorer && node tests/capture.mjs $B "$DVP_H") > $WORK/c1.json
stop $WORK/netB
# Each capture's "other" key is network A's.
for f in c1 c2; do
  python3 - "$WORK/$f.json" "$GROUP_A" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p)); d["other_group_public_key"] = sys.argv[2]
json.dump(d, open(p, "w"), indent=2); open(p, "a").write("\n")
PY
done
cp $WORK/holding_proofs.json $OUT/holding_proofs.json
cp $WORK/c1.json $OUT/explorer_capture_1.json
cp $WORK/c2.json $OUT/explorer_capture_2.json
echo "captured: DvP at $DVP_H, tx $t1, frozen transfer $t3"
