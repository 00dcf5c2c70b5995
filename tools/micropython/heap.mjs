#!/usr/bin/env node
// Live heap of a Python workload under MicroPython 1.27 (WebAssembly), sampled between calls.
//
//   node tools/micropython/heap.mjs [--lib DIR] SCRIPT.py [SAMPLES]
//
// The WebAssembly port never collects garbage while Python code runs (it grows
// its heap instead: gc.collect() inside a script frees nothing); it collects
// between top-level calls from JavaScript. So this driver runs SCRIPT once
// (it must define setup() and tick()), then setup(), then SAMPLES times:
// tick(), gc.collect(), and reads gc.mem_alloc() in a fresh top-level call --
// the live heap between ticks. tinyrnn/__init__.py and tinyrnn/core/*.py are
// installed as /lib/tinyrnn/ like tools/micropython/run.mjs does; with --lib
// DIR, DIR/tinyrnn/__init__.* and DIR/tinyrnn/core/* instead (the same files
// compiled to .mpy by mpy-cross, say: what a user copies to a board either way).
//
// Prints one JSON line: {"before_import": bytes, "after_script": bytes (the
// script ran: its imports compiled), "after_setup": bytes,
// "live": [bytes per sample], "max": bytes, "out": [lines the script printed]}.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");

const argv = process.argv.slice(2);
let lib = null;
if (argv[0] === "--lib") {
  lib = argv[1];
  argv.splice(0, 2);
}
const [script, samplesArg] = argv;
if (!script || (lib !== null && !lib)) {
  process.stderr.write("usage: node heap.mjs [--lib DIR] SCRIPT.py [SAMPLES]\n");
  process.exit(2);
}
const samples = Number(samplesArg || 10);
const out = [];
let line = "";
const mp = await loadMicroPython({
  heapsize: 1024 * 1024,
  pystack: 16384,
  linebuffer: false,
  stdout: (b) => {
    for (const c of b) {
      if (c === 10) {
        out.push(line);
        line = "";
      } else line += String.fromCharCode(c);
    }
  },
  stderr: (b) => process.stderr.write(b),
});
mp.FS.mkdirTree("/lib/tinyrnn/core");
const pkg = path.join(lib === null ? ROOT : path.resolve(lib), "tinyrnn");
const wanted = (name) => (lib === null ? name.endsWith(".py") : /\.m?py$/.test(name));
for (const sub of ["", "core"]) {
  for (const name of fs.readdirSync(path.join(pkg, sub)).sort()) {
    if (wanted(name) && (sub || name.startsWith("__init__."))) mp.FS.writeFile(`/lib/tinyrnn/${sub ? sub + "/" : ""}${name}`, fs.readFileSync(path.join(pkg, sub, name)));
  }
}

function live() {
  mp.runPython("import gc\ngc.collect()");
  mp.runPython("import gc\n_heap_now = gc.mem_alloc()");
  return mp.globals.get("_heap_now");
}

try {
  const before = live();
  mp.runPython(fs.readFileSync(script, "utf8"));
  const afterScript = live();
  mp.runPython("setup()");
  const afterSetup = live();
  const samplesOut = [];
  for (let i = 0; i < samples; i++) {
    mp.runPython("tick()");
    samplesOut.push(live());
  }
  process.stdout.write(
    JSON.stringify({ before_import: before, after_script: afterScript, after_setup: afterSetup, live: samplesOut, max: Math.max(afterSetup, ...samplesOut), out }) + "\n",
  );
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e) + "\n");
  process.exit(1);
}
