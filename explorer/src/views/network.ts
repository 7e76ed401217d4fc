// Network view: validators, finalized height, block rate, finality latency, transactions
// per second and mempool depth, live.

import { describe, type Block, type Status } from "../api.js";
import { facts, h, link, notice, replace, section, table } from "../dom.js";
import { ms, perSecond, short, time } from "../format.js";
import { api, app, feed, onBlock, recent, trustedKey, type SeenBlock } from "../state.js";

/** Blocks the rates are computed over. */
const WINDOW = 50;

interface Stats {
  blockRate: string;
  txRate: string;
  latencyP50: string;
  latencyMax: string;
  span: string;
}

/** Rates over the newest blocks (by block time) and latency over those seen arrive live. */
export function stats(blocks: Block[], seen: SeenBlock[]): Stats {
  const sorted = [...blocks].sort((a, b) => a.height - b.height).slice(-WINDOW);
  let blockRate = "–";
  let txRate = "–";
  let span = "–";
  if (sorted.length >= 2) {
    const spanMs = sorted[sorted.length - 1].time_ms - sorted[0].time_ms;
    const txs = sorted.slice(1).reduce((n, b) => n + b.tx_count, 0);
    blockRate = perSecond(sorted.length - 1, spanMs);
    txRate = perSecond(txs, spanMs);
    span = `${sorted.length} blocks over ${ms(spanMs)}`;
  }
  const lat = seen
    .slice(-WINDOW)
    .map((s) => s.seenMs - s.block.time_ms)
    .sort((a, b) => a - b);
  return {
    blockRate,
    txRate,
    span,
    latencyP50: lat.length ? ms(lat[Math.floor(lat.length / 2)]) : "–",
    latencyMax: lat.length ? ms(lat[lat.length - 1]) : "–",
  };
}

export function blockRows(blocks: Block[]): HTMLElement {
  return table(
    ["height", "time", "transactions", "digest", "state root"],
    blocks.map((b) => [
      link(`#/block/${b.height}`, String(b.height)),
      time(b.time_ms),
      String(b.tx_count),
      h("code", {}, short(b.digest)),
      h("code", {}, short(b.state_root)),
    ]),
    { id: "recent-blocks" },
  );
}

export function networkView(root: HTMLElement): () => void {
  const chain = app.chain!;
  const height = h("span", { id: "net-height" }, "…");
  const root_ = h("code", {}, "…");
  const mempool = h("span", { id: "net-mempool" }, "…");
  const blockRate = h("span", { id: "net-block-rate" }, "…");
  const txRate = h("span", { id: "net-tx-rate" }, "…");
  const latency = h("span", { id: "net-latency" }, "…");
  const span = h("span", { class: "muted" });
  const validators = h("div");
  const blocksBox = h("div");
  const problem = h("div");
  const key = trustedKey();
  let baseline: Block[] = [];

  replace(
    root,
    h("h1", {}, "Network"),
    problem,
    facts([
      ["chain", chain.chain_id],
      ["finalized height", height],
      ["state root", root_],
      ["mempool depth", [mempool, " transactions waiting at this node"]],
      ["block rate", [blockRate, " blocks/s"]],
      ["throughput", [txRate, " transactions/s"]],
      ["finality latency", [latency, h("span", { class: "muted" }, " (block time to this page seeing its finalization, median / max)")]],
      ["window", span],
      [
        "group key",
        [
          h("code", {}, short(key.hex, 16)),
          " ",
          h("span", { class: "muted" }, key.source === "pinned" ? "pinned in this browser" : "as this node serves it (GET /chain): pin it on the Verify page"),
        ],
      ],
    ]),
    section("Validators", validators),
    section("Latest blocks", blocksBox),
  );

  const draw = (status: Status | null) => {
    const newest = recent.length ? recent[recent.length - 1].block.height : 0;
    if (status) {
      height.textContent = String(Math.max(status.finalized_height, newest));
      root_.textContent = status.state_root;
      mempool.textContent = String(status.mempool_size);
      replace(
        validators,
        table(
          ["validator", "status", "identity key", "API", "p2p"],
          chain.validators.map((v) => [
            v.name,
            v.name === status.node
              ? h("span", { class: "ok" }, "serving this page")
              : status.peers.includes(v.name)
                ? h("span", { class: "ok" }, "connected")
                : h("span", { class: "bad" }, "not connected to this node"),
            h("code", {}, short(v.public_key)),
            v.api_address,
            v.p2p_address,
          ]),
          { id: "validators" },
        ),
      );
    } else if (newest) {
      height.textContent = String(Math.max(Number(height.textContent) || 0, newest));
    }
    const merged = new Map<number, Block>();
    for (const b of baseline) merged.set(b.height, b);
    for (const s of recent) merged.set(s.block.height, s.block);
    const all = [...merged.values()];
    const s = stats(all, recent);
    blockRate.textContent = s.blockRate;
    txRate.textContent = s.txRate;
    latency.textContent = `${s.latencyP50} / ${s.latencyMax}`;
    span.textContent = s.span + (feed.connected ? "" : " (event stream reconnecting)");
    replace(blocksBox, blockRows(all.sort((a, b) => b.height - a.height).slice(0, 10)));
  };

  const poll = async () => {
    try {
      draw(await api.get<Status>("/status"));
      replace(problem);
    } catch (e) {
      replace(problem, notice("error", `status: ${describe(e)}`));
    }
  };
  api
    .get<{ blocks: Block[] }>(`/blocks?limit=${WINDOW}`)
    .then((r) => {
      baseline = r.blocks;
      draw(null);
    })
    .catch(() => undefined);
  void poll();
  const timer = setInterval(poll, 2000);
  const off = onBlock(() => draw(null));
  return () => {
    clearInterval(timer);
    off();
  };
}
