// vmemu web view: renders /api/state and follows /api/stream. No libraries, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
  pid: 0,            // the process picked (0: follow the running one)
  st: null,          // the last state
  selFrame: null,    // the frame whose mappings are shown
  selEvent: null,    // seq of the event shown
  expanded: new Map(), // table key -> true/false, as the user toggled it
  events: [],
  lastSeq: 0,
  busy: false, dirty: false,
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
const hex = (n) => "0x" + Number(n).toString(16);
function big(h) { try { return BigInt(h); } catch (e) { return 0n; } }
function sizeText(pages) {
  const b = pages * 4096;
  const units = [["T", 2 ** 40], ["G", 2 ** 30], ["M", 2 ** 20], ["K", 1024]];
  for (const [u, n] of units) if (b >= n) return (b / n >= 10 || b % n === 0 ? Math.round(b / n) : (b / n).toFixed(1)) + u;
  return b + "B";
}
function bigSize(n) {
  const units = [["TiB", 40n], ["GiB", 30n], ["MiB", 20n], ["KiB", 10n]];
  for (const [u, s] of units) if (n >= (1n << s)) return (Number(n >> (s - 10n)) / 1024).toFixed(1).replace(/\.0$/, "") + " " + u;
  return n + " B";
}

// --- talking to the server ---

async function refresh() {
  if (ui.busy) { ui.dirty = true; return; }
  ui.busy = true;
  try {
    do {
      ui.dirty = false;
      const r = await fetch("/api/state" + (ui.pid ? "?pid=" + ui.pid : ""));
      const st = await r.json();
      if (!r.ok) {
        if (r.status === 404 && ui.pid) { ui.pid = 0; ui.dirty = true; continue; }
        setStatus("failed", st.error || r.statusText);
        continue;
      }
      ui.st = st;
      await fetchEvents(st.event_seq);
      render(st);
    } while (ui.dirty);
  } catch (e) {
    setStatus("offline", "not connected");
  } finally {
    ui.busy = false;
  }
}

// fetchEvents brings the timeline up to date: the newest events only (at most keepEvents),
// so a long run does not flood the page.
const keepEvents = 10000;
async function fetchEvents(newest) {
  if (ui.lastSeq >= newest) return;
  const r = await fetch("/api/events?newest=1&since=" + ui.lastSeq + "&limit=" + keepEvents);
  if (!r.ok) return;
  const d = await r.json();
  ui.events.push(...d.events);
  ui.lastSeq = d.events.length ? d.events[d.events.length - 1].seq : d.last;
  if (ui.events.length > keepEvents) ui.events.splice(0, ui.events.length - keepEvents);
}

async function command(line) {
  const r = await fetch("/api/command", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ line }) });
  const d = await r.json().catch(() => ({}));
  if (!r.ok) appendConsole("error: " + (d.error || r.statusText) + "\n");
  return d;
}

function connect() {
  const es = new EventSource("/api/stream");
  es.addEventListener("state", () => refresh());
  es.addEventListener("console", (m) => appendConsole(JSON.parse(m.data)));
  es.addEventListener("end", () => { es.close(); setStatus("offline", "session ended"); });
  es.onerror = () => setStatus("offline", "reconnecting…");
  es.onopen = () => refresh();
}

function appendConsole(text) {
  const c = $("console");
  const atEnd = c.scrollTop + c.clientHeight >= c.scrollHeight - 4;
  c.textContent += text;
  if (c.textContent.length > 200000) c.textContent = c.textContent.slice(-150000);
  if (atEnd) c.scrollTop = c.scrollHeight;
}

function setStatus(cls, text) {
  const s = $("status");
  s.className = "pill " + cls;
  s.textContent = text;
}

// --- rendering ---

function render(st) {
  $("program").textContent = st.program;
  setStatus(st.status, st.status);
  $("insns").textContent = st.insns.toLocaleString("en-US");
  renderPicker(st);
  renderStop(st);
  renderSpace(st);
  renderTree(st);
  renderFrames(st);
  renderTLBs(st);
  renderTimeline(st);
  const running = st.status === "running";
  for (const b of document.querySelectorAll("nav button")) b.disabled = running && b.id !== "btn-stop";
  $("btn-stop").disabled = !running;
}

function renderPicker(st) {
  const sel = $("pid");
  const want = st.processes.map((p) => `${p.pid}|${p.state}|${p.exe}`).join(",") + "#" + st.pid;
  if (sel.dataset.key === want) return;
  sel.dataset.key = want;
  sel.textContent = "";
  for (const p of st.processes) {
    const th = p.threads && p.threads.length > 1 ? `, ${p.threads.length} threads` : "";
    const o = el("option", "", `pid ${p.pid}  ${p.exe.split("/").pop()}  (${p.state}${th})`);
    o.value = p.pid;
    if (p.pid === st.pid) o.selected = true;
    sel.appendChild(o);
  }
}

function renderStop(st) {
  const bar = $("stopbar"), t = $("stop-text");
  bar.className = "";
  const s = st.stop;
  t.textContent = "";
  const b = (x) => { const e = el("b", "", x); t.appendChild(e); };
  const txt = (x) => t.appendChild(document.createTextNode(x));
  if (s && s.kind === "page-fault") {
    bar.className = "fault";
    b("Page fault "); txt(`in pid ${s.pid} at ${s.addr}: ${s.access}, error code ${hex(s.error_code)} [${s.error_bits}]`);
    txt(`, VMA ${s.vma ? s.vma.name + " " + s.vma.prot : "none"}. `);
    b("The kernel will: "); txt(s.outcome + "  (step to let it)");
  } else if (s && s.kind === "syscall") {
    b("System call "); txt(`${s.syscall} in pid ${s.pid}, before the kernel runs it (step to run it)`);
  } else if (s && s.kind === "exception") {
    b("Exception "); txt(`${s.exception} in pid ${s.pid} at ${s.rip}`);
  } else if (st.last_event) {
    b("Last: "); txt(`${st.last_event.kind} pid ${st.last_event.pid}  ${st.last_event.text}`);
  } else {
    txt(st.where || "");
  }
  t.title = st.where;
}

function focusVA(st) {
  const w = st.process && st.process.walk;
  return w ? big(w.va) : null;
}

function renderSpace(st) {
  const box = $("space");
  box.textContent = "";
  const p = st.process;
  if (!p || !p.vmas) {
    $("space-sub").textContent = p ? `pid ${p.pid}: no address space` : "";
    box.appendChild(el("div", "empty", p ? `pid ${p.pid} has no address space (${p.state})` : st.where || "no process"));
    return;
  }
  $("space-sub").textContent = `pid ${p.pid} · ${p.vmas.length} VMAs · ${p.resident} pages resident`;
  const fva = focusVA(st);
  box.appendChild(overview(p.vmas));
  const vmas = [...p.vmas].reverse(); // high addresses first, as the textbook draws it
  let prevStart = 1n << 47n;
  for (const v of vmas) {
    const start = big(v.start), end = big(v.end);
    if (prevStart > end) box.appendChild(el("div", "gap", `⋮ ${bigSize(prevStart - end)} unmapped ⋮`));
    prevStart = start;
    const d = el("div", "vma k-" + v.kind);
    d.dataset.start = v.start;
    const inFocus = fva !== null && fva >= start && fva < end;
    if (inFocus) d.classList.add("focus");
    const top = el("div", "top");
    const name = el("span", "name", v.name.includes("/") ? v.name.split("/").pop() : v.name);
    name.title = v.name;
    top.append(name, el("span", "prot", v.prot + (v.shared ? "s" : "p")), el("span", "res", `${v.resident}/${v.pages} pages`));
    d.append(top, el("div", "range", `${v.start}–${v.end}  ${sizeText(v.pages)}`));
    d.appendChild(pagesView(v, inFocus ? fva : null));
    box.appendChild(d);
  }
}

// overview draws the whole 47-bit user half: each VMA as a block whose width grows with the
// log of its size, each hole as a break labelled with its size, so both the text near
// 0x400000 and the stack near 2^47 are visible.
function overview(vmas) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "overview");
  const W = Math.max($("space").clientWidth - 4, 200), H = 42;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const items = [];
  let cur = 0n;
  const top = 1n << 47n;
  for (const v of vmas) {
    const s = big(v.start), e = big(v.end);
    if (s > cur) items.push({ gap: s - cur });
    items.push({ v, w: Math.log2(v.pages + 1) + 2 });
    cur = e;
  }
  if (top > cur) items.push({ gap: top - cur });
  const gapW = 9, total = items.reduce((a, it) => a + (it.gap !== undefined ? gapW : it.w), 0);
  const k = (W - 4) / total;
  let x = 2;
  const colors = { text: "#c0392b", data: "#8e44ad", heap: "#16a085", stack: "#d35400", file: "#2c3e50", anon: "#2980b9" };
  for (const it of items) {
    if (it.gap !== undefined) {
      const g = document.createElementNS(NS, "path");
      const w = gapW * k;
      g.setAttribute("d", `M${x} 13 l${w / 4} -5 l${w / 2} 10 l${w / 4} -5`);
      g.setAttribute("stroke", "#8a96a6"); g.setAttribute("fill", "none"); g.setAttribute("stroke-width", "1.5");
      const t = document.createElementNS(NS, "title");
      t.textContent = bigSize(it.gap) + " unmapped";
      g.appendChild(t);
      svg.appendChild(g);
      x += w;
      continue;
    }
    const r = document.createElementNS(NS, "rect");
    const w = Math.max(it.w * k - 1, 2);
    r.setAttribute("x", x); r.setAttribute("y", 3); r.setAttribute("width", w); r.setAttribute("height", 20);
    r.setAttribute("rx", 2); r.setAttribute("fill", colors[it.v.kind] || "#2980b9");
    const t = document.createElementNS(NS, "title");
    t.textContent = `${it.v.name} ${it.v.start}–${it.v.end} ${it.v.prot}`;
    r.appendChild(t);
    svg.appendChild(r);
    x += it.w * k;
  }
  const lab = (xx, s, anchor) => {
    const t = document.createElementNS(NS, "text");
    t.setAttribute("x", xx); t.setAttribute("y", 38); t.setAttribute("text-anchor", anchor);
    t.setAttribute("class", "ov-label");
    t.textContent = s; svg.appendChild(t);
  };
  lab(2, "0", "start");
  lab(W - 2, "2^47 = 128 TiB", "end");
  const tt = document.createElementNS(NS, "title");
  tt.textContent = "the 47-bit user half of the address space, VMAs in order, holes shortened";
  svg.appendChild(tt);
  return svg;
}

// pagesView draws one cell per page for small VMAs, else a strip with the runs in place.
function pagesView(v, fva) {
  if (v.pages <= 192) {
    const d = el("div", "pages");
    const cells = [];
    for (let i = 0; i < v.pages; i++) { const c = el("i"); cells.push(c); d.appendChild(c); }
    const start = big(v.start);
    for (const r of v.runs) {
      const first = Number((big(r.start) - start) >> 12n);
      for (let i = 0; i < r.pages; i++) if (cells[first + i]) cells[first + i].className = r.state;
    }
    if (fva !== null) {
      const i = Number((fva - start) >> 12n);
      if (cells[i]) cells[i].classList.add("focus");
    }
    cells.forEach((c, i) => { c.title = hex(Number(start) + i * 4096) + " " + (c.className || "not yet touched"); });
    return d;
  }
  const d = el("div", "strip");
  const start = big(v.start);
  for (const r of v.runs) {
    const first = Number((big(r.start) - start) >> 12n);
    const c = el("i", r.state);
    c.style.left = (100 * first / v.pages) + "%";
    c.style.width = (100 * r.pages / v.pages) + "%";
    c.title = `${r.start}: ${r.pages} pages ${r.state}`;
    d.appendChild(c);
  }
  return d;
}

const levelNames = { 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" };

function renderTree(st) {
  const box = $("tree"), wbox = $("walk");
  const keep = box.scrollTop;
  box.textContent = "";
  wbox.textContent = "";
  const p = st.process;
  if (!p || !p.page_table) {
    $("tree-sub").textContent = "";
    wbox.style.display = "none";
    box.appendChild(el("div", "empty", "no page tables: no process has an address space"));
    return;
  }
  $("tree-sub").textContent = `pid ${p.pid} · CR3 → PML4 at frame ${hex(p.pml4)} · PCID ${p.pcid}`;
  const w = p.walk;
  const path = new Map(); // level -> index on the walk
  if (w && w.levels) {
    wbox.style.display = "";
    const head = el("div", "whead");
    head.append(el("b", "", `Walk of ${w.va}`), document.createTextNode(`${w.access ? " · " + w.access : ""} · ${w.why}`));
    wbox.appendChild(head);
    const line = el("div", "step");
    w.levels.forEach((l, i) => {
      path.set(l.level, l.index);
      const s = el("span", "lv" + (l.present ? "" : " bad") + (l.cached ? " cached" : ""));
      s.append(el("span", "lvname", `${l.name}[${l.index}]`), document.createTextNode(" " + l.value + (l.present ? "" : " P=0")));
      if (l.now !== undefined) s.appendChild(el("span", "now", nowText(l)));
      s.title = l.cached ? `${l.name}: not read by this walk, a paging-structure cache held it (its value in memory now)`
        : `${l.name} at physical ${l.entry_addr}, as the walk read it`;
      if (i) line.appendChild(el("span", "arrow", "→"));
      line.appendChild(s);
    });
    wbox.appendChild(line);
    if (w.levels.some((l) => l.cached)) wbox.appendChild(el("div", "note", "grey: levels a paging-structure cache supplied, so this walk did not read them"));
    wbox.appendChild(el("div", w.stop_level || w.fault ? "bad" : "", w.result));
  } else {
    wbox.style.display = "none";
  }
  box.appendChild(tableView(p, p.page_table, w, path, true));
  box.scrollTop = keep;
  const hit = box.querySelector(".ent.stop") || box.querySelector(".ent.onpath.leaf");
  if (hit && ui.scrollWalk !== (w && w.va + w.why + st.version)) {
    ui.scrollWalk = w && w.va + w.why + st.version;
    hit.scrollIntoView({ block: "nearest" });
  }
}

// nowText says how an entry changed since the walk read it: the A and D flags the walk (or
// later accesses) set, or its new value.
function nowText(l) {
  const was = big(l.value), now = big(l.now), ad = 0x60n;
  if (((was ^ now) & ~ad) === 0n) {
    const set = [];
    if ((now & ~was) & 0x20n) set.push("A");
    if ((now & ~was) & 0x40n) set.push("D");
    return set.length ? ` (+${set.join(" +")} since)` : "";
  }
  return ` (now ${l.now})`;
}

function tableView(p, t, w, path, onPath) {
  const d = el("div", "tbl");
  d.appendChild(el("div", "tbl-head", `${t.name} · frame ${hex(t.frame)} · covers ${t.va}`));
  const want = onPath && path.has(t.level) ? path.get(t.level) : -1;
  let shown = false;
  for (const e of t.entries) {
    if (want >= 0 && e.index > want && !shown) { d.appendChild(stopRow(t, want, w)); shown = true; }
    if (e.index === want) shown = true;
    const row = entryRow(p, t, e, e.index === want, w);
    d.appendChild(row);
    if (e.table) {
      const key = p.pid + ":" + e.table.frame;
      const open = ui.expanded.has(key) ? ui.expanded.get(key) : e.index === want;
      const child = tableView(p, e.table, w, path, e.index === want);
      child.style.display = open ? "" : "none";
      row.querySelector(".tog").textContent = open ? "▾" : "▸";
      row.querySelector(".tog").onclick = () => {
        const now = child.style.display === "none";
        child.style.display = now ? "" : "none";
        row.querySelector(".tog").textContent = now ? "▾" : "▸";
        ui.expanded.set(key, now);
      };
      d.appendChild(child);
    }
  }
  if (want >= 0 && !shown) d.appendChild(stopRow(t, want, w));
  if (t.omitted) d.appendChild(el("div", "more", `${t.omitted} entries not listed (this process maps many pages); walk ADDR in the console shows any of them`));
  return d;
}

// stopRow is the entry a walk read that is zero (so not in the table's list): P=0.
function stopRow(t, index, w) {
  const r = el("div", "ent stop");
  r.append(el("span", "tog", ""), el("span", "idx", `[${index}]`), el("span", "", `${levelNames[t.level]} = 0: not present, the walk stops here (P=0)`));
  return r;
}

function entryRow(p, t, e, onPath, w) {
  const r = el("div", "ent");
  if (onPath) r.classList.add(e.present ? "onpath" : "stop");
  if (onPath && e.leaf) r.classList.add("leaf");
  r.append(el("span", "tog", e.table ? "▸" : ""), el("span", "idx", `[${e.index}]`), el("span", "va", e.va));
  const bits = el("span", "bits");
  if (!e.present) bits.appendChild(el("span", "bit np", "P=0"));
  for (const b of e.bits) bits.appendChild(el("span", "bit b-" + b, b));
  if (e.soft) for (const s of e.soft.split(",")) bits.appendChild(el("span", e.swap_slot ? "bit swap" : "bit cow", "[" + s + "]"));
  r.appendChild(bits);
  if (e.swap_slot) {
    r.appendChild(el("span", "frame", `→ swap slot ${e.swap_slot}`));
  } else if (e.table) {
    r.appendChild(el("span", "frame", `→ ${e.table.name} at frame ${hex(e.frame)}`));
  } else if (e.leaf) {
    r.appendChild(el("span", "frame", `→ frame ${hex(e.frame)}${e.size !== "4K" ? " (" + e.size + " page)" : ""}`));
    if (e.ref) r.appendChild(el("span", e.ref > 1 ? "ref2" : "ref", `ref ${e.ref}`));
  }
  r.title = `${levelNames[t.level]} ${e.value}  ${e.letters || ""}`;
  if (e.leaf && !e.swap_slot && (e.present || e.soft)) r.onclick = () => selectFrame(e.frame);
  if (onPath && !e.present) r.appendChild(el("span", "", "← the walk stops here (P=0)"));
  return r;
}

function walkFrames(st) {
  const set = new Set();
  const p = st.process;
  if (!p || !p.walk || !p.walk.levels) return set;
  set.add(p.pml4);
  for (const l of p.walk.levels) if (l.present) set.add(Number((big(l.value) >> 12n) & 0xffffffffffn));
  return set;
}

const frameKinds = { u: "user", s: "user, in the swap cache", c: "page cache", t: "page table", k: "kernel", ".": "free" };

function renderFrames(st) {
  const f = st.frames, box = $("frames");
  $("frames-sub").textContent = `${f.in_use} of ${f.total} in use · ${f.shared} shared · ${f.page_tables} page tables · ${f.copied} copied` +
    (f.swap ? ` · swap ${f.swap.used} of ${f.swap.slots} slots, ${f.swap.swap_cache} cached` : "");
  const refs = new Map(f.refs.map(([pfn, n]) => [pfn, n]));
  const onPath = walkFrames(st);
  const limit = Math.min(f.kinds.length, 6000);
  box.textContent = "";
  const frag = document.createDocumentFragment();
  for (let pfn = 0; pfn < limit; pfn++) {
    const k = f.kinds[pfn];
    const c = el("i", k === "." ? "" : "k-" + k);
    c.dataset.pfn = pfn;
    const n = refs.get(pfn);
    if (n) { c.classList.add("shared"); c.textContent = n; }
    if (pfn === ui.selFrame) c.classList.add("sel");
    if (onPath.has(pfn)) c.classList.add("onpath");
    c.title = `frame ${hex(pfn)}: ${frameKinds[k] || k}${n ? ", ref " + n : ""}`;
    frag.appendChild(c);
  }
  if (f.kinds.length > limit) frag.appendChild(el("div", "more-frames", `… ${f.kinds.length - limit} more frames up to the highest used`));
  frag.appendChild(el("div", "more-frames", `frames ${hex(f.kinds.length)}–${hex(f.total - 1)} never used (free)`));
  box.appendChild(frag);
  if (ui.selFrame !== null) selectFrame(ui.selFrame, true);
}

async function selectFrame(pfn, quiet) {
  ui.selFrame = pfn;
  for (const c of document.querySelectorAll("#frames i.sel")) c.classList.remove("sel");
  const c = document.querySelector(`#frames i[data-pfn="${pfn}"]`);
  if (c) { c.classList.add("sel"); if (!quiet) c.scrollIntoView({ block: "nearest" }); }
  const r = await fetch("/api/frame?pfn=" + pfn);
  const d = await r.json();
  const box = $("frame-detail");
  if (!r.ok) { box.textContent = d.error; return; }
  const lines = [`frame ${hex(d.frame)} (physical ${d.addr}): ${d.kind}, reference count ${d.ref}`];
  if (!d.mappings.length) lines.push(d.ref ? "  held by the kernel" : "  free");
  for (const m of d.mappings) {
    if (m.kind === "cache") lines.push(`  page cache: ${m.cache} page ${m.index}`);
    else if (m.kind === "swap-cache") lines.push(`  swap cache: the page of swap slot ${m.index}`);
    else if (m.kind === "kernel") lines.push(`  the kernel: ${m.cache}`);
    else if (m.kind === "table") lines.push(`  pid ${m.pid}: its ${["", "PT", "PD", "PDPT", "PML4"][m.level]}${m.level < 4 ? " for " + m.va : ""}`);
    else lines.push(`  pid ${m.pid}: ${m.va} ${m.vma || ""} PTE ${m.value} ${m.letters}${m.soft ? " [" + m.soft + "]" : ""}`);
  }
  box.textContent = lines.join("\n");
}

function renderTLBs(st) {
  const box = $("tlbs");
  box.textContent = "";
  for (const cpu of st.cpus) {
    const d = el("div", "cpu");
    d.dataset.cpu = cpu.id;
    if (st.cpus.length > 1) {
      const who = cpu.pid ? `pid ${cpu.pid}${cpu.tid !== cpu.pid ? " thread " + cpu.tid : ""}` : cpu.lazy ? "idle (lazy TLB)" : "idle";
      d.appendChild(el("div", "cpu-head", `CPU ${cpu.id} · ${who} · CR3 ${cpu.cr3} · PCID ${cpu.pcid} · shootdowns sent ${cpu.shootdowns_sent}, taken ${cpu.shootdown_ipis}`));
    }
    for (const t of cpu.tlbs) d.appendChild(tlbView(t));
    box.appendChild(d);
  }
}

function sameEntry(a, b) { return a && b && a.large === b.large && a.set === b.set && a.way === b.way && a.va === b.va && a.pcid === b.pcid; }

function tlbView(t) {
  const d = el("div", "tlb");
  d.dataset.name = t.name;
  const head = el("div", "tlb-head", `${t.name}: ${t.sets} sets × ${t.ways} ways${t.large_entries ? ` + ${t.large_entries} large` : ""}`);
  head.appendChild(el("span", "stats", `${t.entries.length} valid · hits ${t.hits} · misses ${t.misses} · ${(100 * t.hit_rate).toFixed(1)}% · evictions ${t.evictions} · flushes ${t.flushes}`));
  d.appendChild(head);
  const grid = el("div", "ways");
  grid.style.gridTemplateColumns = `repeat(${t.sets}, 1fr)`;
  const cells = new Map();
  for (let w = 0; w < t.ways; w++) for (let s = 0; s < t.sets; s++) {
    const c = el("i");
    c.title = `set ${s}, way ${w}: empty`;
    cells.set(`${s}/${w}`, c);
    grid.appendChild(c);
  }
  for (const e of t.entries) {
    if (e.large) continue;
    const c = cells.get(`${e.set}/${e.way}`);
    if (!c) continue;
    c.className = e.global ? "g" : "v";
    if (sameEntry(e, t.last_fill)) c.className = "fill";
    c.title = `set ${e.set}, way ${e.way}: ${e.va} → ${e.pa} pcid ${e.pcid} ${e.perm}${e.pid ? " pid " + e.pid + " " + (e.vma || "") : ""}`;
  }
  d.appendChild(grid);
  const tab = el("table", "entries");
  const hr = el("tr");
  for (const h of ["set", "way", "va", "pa", "size", "pcid", "perm", "G", "maps"]) hr.appendChild(el("th", "", h));
  tab.appendChild(hr);
  const rows = [...t.entries];
  if (t.last_evicted) rows.push({ ...t.last_evicted, evicted: true });
  for (const e of rows) {
    const tr = el("tr", e.evicted ? "evict" : sameEntry(e, t.last_fill) ? "fill" : "");
    const vals = [e.large ? "L" : e.set, e.way, e.va, e.pa, e.size, e.pcid, e.perm, e.global ? "G" : "", e.pid ? `pid ${e.pid} ${e.vma || ""}` : ""];
    for (const v of vals) tr.appendChild(el("td", "", String(v)));
    if (e.evicted) tr.title = "evicted by the last fill";
    else if (sameEntry(e, t.last_fill)) tr.title = "filled last";
    tab.appendChild(tr);
  }
  d.appendChild(tab);
  return d;
}

// --- timeline ---

const outcomeColors = {
  "demand-zero": "#3b7dd8", "file-read": "#2f9e5a", "file-cached": "#7cc49a", "cow-copy": "#c62828", "cow-reuse": "#f08a80",
  "stack-growth": "#d35400", "spurious": "#8a96a6", "SIGSEGV": "#15202b", "SIGBUS": "#15202b", "EFAULT": "#6d4c41", "out-of-memory": "#000",
  "swap-in": "#7b3fc4", "swap-cached": "#b07cd8", "userfault": "#2a9d8f",
};
const timelineRows = [
  { name: "faults", match: (e) => e.kind === "fault" },
  { name: "syscalls", match: (e) => e.kind === "syscall" },
  { name: "processes", match: (e) => ["fork", "clone", "exec", "exit", "thread-exit", "signal", "switch"].includes(e.kind) },
  { name: "IPIs", match: (e) => e.kind === "shootdown" || e.kind === "ipi", perCPU: true, smp: true }, // several CPUs only
  { name: "TLBs", match: (e) => e.kind === "tlb", perCPU: true },
];
// TLB events drawn first, so that the kernel's invalidations and flushes lie above fills.
const drawOrder = (e) => e.kind !== "tlb" ? 2 : e.op === "fill" || e.op === "evict" ? 0 : 1;
const kindColors = { syscall: "#5b6675", fork: "#7b3fc4", clone: "#a070e0", exec: "#1f5fbf", exit: "#15202b", "thread-exit": "#5b6675",
  signal: "#c62828", switch: "#9fb0c3", shootdown: "#d35400", ipi: "#1f8a8a" };
const tlbColors = { fill: "#9bb7d9", evict: "#5b6675", invalidate: "#e08a1e", flush: "#b8860b" };
const eventColor = (e) => e.kind === "fault" ? outcomeColors[e.outcome] || "#3b7dd8" : e.kind === "tlb" ? tlbColors[e.op] || "#e08a1e" : kindColors[e.kind] || "#5b6675";

function renderTimeline(st) {
  const box = $("timeline");
  const NS = "http://www.w3.org/2000/svg";
  const W = Math.max(box.clientWidth, 300), H = Math.max(box.clientHeight, 80);
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const left = 78, right = 12, top = 4, bottom = 18;
  const rows = timelineRows.filter((r) => !r.smp || st.cpus.length > 1);
  const rowH = (H - top - bottom) / rows.length;
  const tmax = Math.max(st.insns, 1);
  const x = (t) => left + (W - left - right) * (t / tmax);
  const lanes = Math.max(st.cpus.length, 1);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    if (r.perCPU && lanes > 1 && (rowH - 6) / lanes >= 8) {
      for (let c = 0; c < lanes; c++) {
        const lt = document.createElementNS(NS, "text");
        const h = (rowH - 6) / lanes;
        lt.setAttribute("x", left - 3); lt.setAttribute("y", y + 3 + h * c + h / 2 + 3); lt.setAttribute("text-anchor", "end");
        lt.setAttribute("class", "lane-label");
        lt.textContent = "cpu" + c;
        svg.appendChild(lt);
      }
    }
    const bg = document.createElementNS(NS, "rect");
    bg.setAttribute("x", left); bg.setAttribute("y", y + 1); bg.setAttribute("width", W - left - right); bg.setAttribute("height", rowH - 2);
    bg.setAttribute("fill", i % 2 ? "#f6f8fb" : "#eef1f5");
    svg.appendChild(bg);
    const t = document.createElementNS(NS, "text");
    t.setAttribute("x", 4); t.setAttribute("y", y + rowH / 2 + 4); t.setAttribute("class", "row-label");
    t.textContent = r.name; svg.appendChild(t);
  });
  // One mark per event, or, when there are many, one per pixel column, row and colour (the
  // newest event of the bucket answers a click).
  const seen = {};
  const marks = new Map();
  for (const e of ui.events) {
    const ri = rows.findIndex((r) => r.match(e));
    if (ri < 0) continue;
    const color = eventColor(e);
    if (e.kind === "fault") seen[e.outcome] = color;
    if (e.kind === "shootdown" || e.kind === "ipi") seen[e.kind === "ipi" ? "other IPI" : "shootdown"] = color;
    if (e.kind === "tlb") seen["TLB " + e.op] = color;
    const px = Math.round(x(e.insns));
    const key = ui.events.length > 1500 ? `${ri}/${px}/${color}/${e.cpu}` : e.seq;
    const m = marks.get(key);
    marks.set(key, { e, ri, px, color, n: m ? m.n + 1 : 1 });
  }
  // Rows of CPU events have a lane per CPU, CPU 0 on top.
  for (const { e, ri, px, color, n } of [...marks.values()].sort((a, b) => drawOrder(a.e) - drawOrder(b.e))) {
    let y = top + ri * rowH + 4, h = rowH - 8;
    if (rows[ri].perCPU && lanes > 1) {
      h = (rowH - 6) / lanes;
      y = top + ri * rowH + 3 + h * Math.min(e.cpu, lanes - 1);
      h = Math.max(h - 1, 2);
    }
    const m = document.createElementNS(NS, "rect");
    m.setAttribute("x", px - 2); m.setAttribute("y", y); m.setAttribute("width", 4); m.setAttribute("height", h);
    m.setAttribute("fill", color);
    m.setAttribute("class", "ev" + (e.seq === ui.selEvent ? " sel" : ""));
    m.dataset.seq = e.seq;
    m.dataset.kind = e.kind;
    if (e.op) m.dataset.op = e.op;
    m.dataset.cpu = e.cpu;
    const tt = document.createElementNS(NS, "title");
    tt.textContent = `${e.kind} @${e.insns}: ${e.text}` + (n > 1 ? ` (and ${n - 1} more here)` : "");
    m.appendChild(tt);
    m.onclick = () => selectEvent(e.seq);
    svg.appendChild(m);
  }
  const now = document.createElementNS(NS, "text");
  now.setAttribute("x", W - right); now.setAttribute("y", H - 4); now.setAttribute("text-anchor", "end"); now.setAttribute("class", "axis-label");
  now.textContent = `${st.insns.toLocaleString("en-US")} instructions`;
  svg.appendChild(now);
  const zero = document.createElementNS(NS, "text");
  zero.setAttribute("x", left); zero.setAttribute("y", H - 4); zero.setAttribute("class", "axis-label");
  zero.textContent = "0";
  svg.appendChild(zero);
  box.textContent = "";
  box.appendChild(svg);
  const leg = $("time-legend");
  leg.textContent = "";
  for (const [k, c] of Object.entries(seen)) {
    const s = el("span"); const i = el("i", "sw"); i.style.background = c; s.append(i, k); leg.appendChild(s);
  }
  $("time-sub").textContent = ui.lastSeq > ui.events.length ? `the last ${ui.events.length} of ${ui.lastSeq} events` : `${ui.events.length} events`;
  if (ui.selEvent !== null) showEvent(ui.selEvent);
}

function selectEvent(seq) {
  ui.selEvent = seq;
  for (const m of document.querySelectorAll("#timeline .ev.sel")) m.classList.remove("sel");
  const m = document.querySelector(`#timeline .ev[data-seq="${seq}"]`);
  if (m) m.classList.add("sel");
  showEvent(seq);
}

function showEvent(seq) {
  const e = ui.events.find((x) => x.seq === seq);
  const box = $("event-detail");
  if (!e) { box.textContent = "Click an event to see its details."; return; }
  const who = e.tid && e.tid !== e.pid ? `pid ${e.pid} thread ${e.tid}` : `pid ${e.pid}`;
  const lines = [`#${e.seq} ${e.kind} in ${who} on CPU ${e.cpu} at guest time ${e.insns}${big(e.rip) ? ", rip " + e.rip : ""}`];
  if (e.kind === "fault") {
    lines.push(`  address ${e.addr}: ${e.access}`);
    lines.push(`  error code ${hex(e.error_code)} [${e.error_bits}]: ${e.error_text}`);
    lines.push(`  VMA ${e.vma ? `${e.vma.name} ${e.vma.start}–${e.vma.end} ${e.vma.prot}` : "none"}`);
    lines.push(`  outcome ${e.outcome}${e.frame ? ", frame " + hex(e.frame) : ""}${e.kernel ? " (taken by the kernel for a system call)" : ""}`);
  } else if (e.kind === "shootdown") {
    lines.push(`  initiator cpu${e.cpu}; targets ${e.targets || "none"}`);
    lines.push(`  interrupted ${e.targets || "no CPU"} to drop ${e.pages < 0 ? "every page of the address space" : e.pages + " page(s) from " + e.addr}`);
    lines.push("  " + e.text);
  } else if (e.kind === "ipi") {
    lines.push(`  initiator cpu${e.cpu}; targets ${e.targets || "none"}`);
    lines.push("  " + e.text);
  } else if (e.kind === "tlb") {
    const what = { fill: "filled", evict: "evicted (by a fill)", invalidate: "invalidated (INVLPG, a fault, or a shootdown's interrupt)", flush: "flushed" }[e.op] || e.op;
    lines.push(`  CPU ${e.cpu}'s ${e.tlb} ${what}${e.op !== "flush" ? `: ${e.addr} → frame ${hex(e.frame)}, PCID ${e.pcid || 0}` : ""}`);
    lines.push("  " + e.text);
  } else {
    lines.push("  " + e.text);
  }
  box.textContent = lines.join("\n");
}

// --- controls ---

function wire() {
  const on = (id, f) => $(id).addEventListener("click", f);
  on("btn-step", () => command("step"));
  on("btn-stepn", () => command("step " + Math.max(1, parseInt($("step-n").value, 10) || 1)));
  on("btn-continue", () => command("continue"));
  on("btn-stop", () => fetch("/api/stop", { method: "POST" }));
  on("btn-break-fault", () => command(("break fault " + $("bk-fault").value).trim()));
  on("btn-break-sys", () => command(("break syscall " + $("bk-sys").value).trim()));
  on("btn-break-exec", () => command("break exec"));
  on("btn-break-shoot", () => command("break shootdown"));
  on("btn-break-addr", () => { const a = $("bk-addr").value.trim(); if (a) command("break addr " + a); });
  on("btn-watch", () => { const a = $("bk-addr").value.trim(); if (a) command("watch pte " + a); });
  $("frames").addEventListener("click", (ev) => {
    const pfn = ev.target.dataset && ev.target.dataset.pfn;
    if (pfn !== undefined) selectFrame(Number(pfn));
  });
  $("pid").addEventListener("change", (ev) => { ui.pid = parseInt(ev.target.value, 10) || 0; refresh(); });
  const hist = [];
  let hi = 0;
  $("console-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const i = $("console-input"), line = i.value.trim();
    if (!line) return;
    hist.push(line); hi = hist.length;
    i.value = "";
    command(line);
  });
  $("console-input").addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowUp" && hi > 0) { hi--; ev.target.value = hist[hi]; ev.preventDefault(); }
    if (ev.key === "ArrowDown") { hi = Math.min(hist.length, hi + 1); ev.target.value = hist[hi] || ""; ev.preventDefault(); }
  });
  // The timeline is drawn to its box's size: draw it again when the box changes.
  let size = "";
  new ResizeObserver(() => {
    const b = $("timeline"), now = b.clientWidth + "x" + b.clientHeight;
    if (now !== size && ui.st) { size = now; renderTimeline(ui.st); }
  }).observe($("timeline"));
}

wire();
connect();
