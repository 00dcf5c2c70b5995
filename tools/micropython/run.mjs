#!/usr/bin/env node
// Run a Python script under MicroPython 1.27 (WebAssembly) with tinyrnn's core importable.
//
//   node tools/micropython/run.mjs SCRIPT.py [ARG...]     (sys.argv = [SCRIPT.py, ARG...])
//   node tools/micropython/run.mjs - [ARG...] < SCRIPT.py  (script on stdin)
//
// Options (before SCRIPT): --root DIR  the checkout holding tinyrnn/ (default: two levels up)
//                          --heap MiB  MicroPython heap size (default 64)
//                          --file SRC[=DEST]  copy the local file SRC (bytes as they are, e.g. an
//                                      exported model.py or model.mpy) into MicroPython's
//                                      filesystem at DEST (default /lib/BASENAME); repeatable
//
// What a user copies to a board -- tinyrnn/__init__.py and tinyrnn/core/*.py --
// is written into MicroPython's filesystem as /lib/tinyrnn/, which is on
// MicroPython's sys.path. The CPython-only packages (workflow/, export/, cli/,
// arrays/) are never copied, so an accidental import of them fails loudly. The script's stdout and stderr pass through unchanged. If
// the script raises, the Python traceback (only) goes to stderr and the exit
// status is 1; SystemExit(n) exits with status n.
//
// If the script defines a function tick(), it is then called again and again,
// each call a separate top-level entry into MicroPython, until it returns a
// false value. This port collects garbage only there: a gc.collect() inside
// Python code merely requests a collection (the port cannot scan the wasm
// stack), which runs when the next top-level entry starts. So gc.mem_alloc()
// at the start of a tick, after a gc.collect() in the one before, is the live
// heap.
//
// Needs `npm ci` in tools/micropython first.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  process.stderr.write(`run.mjs: ${msg}\nusage: node run.mjs [--root DIR] [--heap MiB] [--file SRC[=DEST]]... SCRIPT.py|- [ARG...]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { root: path.resolve(HERE, "..", ".."), heapMiB: 64, files: [], script: null, args: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root" || a === "--heap" || a === "--file") {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      const v = argv[++i];
      if (a === "--root") opts.root = path.resolve(v);
      else if (a === "--file") {
        const eq = v.indexOf("=");
        const src = eq < 0 ? v : v.slice(0, eq);
        const dest = eq < 0 ? `/lib/${path.basename(src)}` : v.slice(eq + 1);
        if (!src || !dest.startsWith("/") || dest.endsWith("/")) usage(`--file wants SRC[=/ABSOLUTE/DEST], got ${v}`);
        opts.files.push({ src, dest });
      }
      else {
        opts.heapMiB = Number(v);
        if (!Number.isInteger(opts.heapMiB) || opts.heapMiB < 1) usage(`--heap must be a positive integer (MiB), got ${v}`);
      }
    } else if (a.startsWith("--")) {
      usage(`unknown option ${a}`);
    } else {
      break;
    }
  }
  if (i >= argv.length) usage("no script given");
  opts.script = argv[i];
  opts.args = argv.slice(i + 1);
  return opts;
}

// The board files: {relative path: text} for tinyrnn/__init__.py and tinyrnn/core/*.py.
export function coreModules(root) {
  const pkg = path.join(root, "tinyrnn");
  const out = {};
  try {
    out["__init__.py"] = fs.readFileSync(path.join(pkg, "__init__.py"), "utf8");
    for (const name of fs.readdirSync(path.join(pkg, "core")).sort()) {
      if (name.endsWith(".py")) out[`core/${name}`] = fs.readFileSync(path.join(pkg, "core", name), "utf8");
    }
  } catch (e) {
    throw new Error(`cannot read the tinyrnn package at ${pkg}: ${e.message}`);
  }
  return out;
}

// Collect output bytes and hand them to the stream in chunks: the per-byte
// callbacks are cheap, a stream write per byte is not. Streams (not
// fs.writeSync) because a pipe to Node may be non-blocking (EAGAIN).
function sink(stream) {
  let chunks = [];
  let buf = new Uint8Array(65536);
  let n = 0;
  return {
    put(bytes) {
      for (const b of bytes) {
        if (n === buf.length) {
          chunks.push(buf);
          buf = new Uint8Array(65536);
          n = 0;
        }
        buf[n++] = b;
      }
      if (stream.isTTY && n && buf[n - 1] === 10) this.flush();
    },
    flush() {
      chunks.push(buf.slice(0, n));
      n = 0;
      const data = Buffer.concat(chunks);
      chunks = [];
      return new Promise((resolve) => (data.length ? stream.write(data, () => resolve()) : resolve()));
    },
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let source, scriptName;
  try {
    if (opts.script === "-") {
      source = fs.readFileSync(0, "utf8");
      scriptName = "<stdin>";
    } else {
      source = fs.readFileSync(opts.script, "utf8");
      scriptName = opts.script;
    }
  } catch (e) {
    usage(`cannot read script ${opts.script}: ${e.message}`);
  }
  let modules;
  try {
    modules = coreModules(opts.root);
  } catch (e) {
    usage(e.message);
  }
  for (const f of opts.files) {
    try {
      f.data = fs.readFileSync(f.src);
    } catch (e) {
      usage(`cannot read --file ${f.src}: ${e.message}`);
    }
  }

  let loadMicroPython;
  try {
    ({ loadMicroPython } = await import("@micropython/micropython-webassembly-pyscript"));
  } catch (e) {
    process.stderr.write(`run.mjs: the MicroPython package is not installed (run \`npm ci\` in ${HERE}): ${e.message}\n`);
    process.exit(3);
  }

  const out = sink(process.stdout);
  const err = sink(process.stderr);
  const mp = await loadMicroPython({
    heapsize: opts.heapMiB * 1024 * 1024,
    pystack: 16384,
    linebuffer: false,
    stdout: (b) => out.put(b),
    stderr: (b) => err.put(b),
  });

  mp.FS.mkdirTree("/lib/tinyrnn/core");
  for (const [name, text] of Object.entries(modules)) mp.FS.writeFile(`/lib/tinyrnn/${name}`, text);
  for (const f of opts.files) {
    mp.FS.mkdirTree(path.posix.dirname(f.dest));
    mp.FS.writeFile(f.dest, f.data);
  }

  mp.globals.set("_tinyrnn_src", source);
  mp.globals.set("_tinyrnn_argv", JSON.stringify([scriptName, ...opts.args]));
  // Run one top-level entry into MicroPython; the exit status if it raised, else null.
  async function top(code) {
    try {
      mp.runPython(code);
      return null;
    } catch (e) {
      if (!(e && e.name === "PythonError")) {
        await out.flush();
        await err.flush();
        throw e;
      }
      const msg = String(e.message);
      if (e.type === "SystemExit") {
        const arg = msg.trimEnd().split("\n").pop().replace(/^SystemExit:? ?/, "");
        if (arg === "" || arg === "None") return 0;
        if (/^-?\d+$/.test(arg)) return Number(arg) & 255;
        err.put(new TextEncoder().encode(arg + "\n"));
        return 1;
      }
      // drop the wrapper's own frame: File "<stdin>", line 5, in <module>
      const lines = msg.split("\n");
      const keep = lines.filter((l, k) => !(k === 1 && l.startsWith('  File "<stdin>"') && scriptName !== "<stdin>"));
      err.put(new TextEncoder().encode(keep.join("\n")));
      return 1;
    }
  }

  let status = await top(
    "import sys, json\n" +
      "sys.argv[:] = json.loads(_tinyrnn_argv)\n" +
      "_tinyrnn_code = compile(_tinyrnn_src, sys.argv[0], 'exec')\n" +
      "del _tinyrnn_src, _tinyrnn_argv\n" +
      "_tinyrnn_g = {'__name__': '__main__'}\n" +
      "exec(_tinyrnn_code, _tinyrnn_g)\n" +
      "del _tinyrnn_code\n" +
      "_tinyrnn_more = callable(_tinyrnn_g.get('tick'))\n",
  );
  // tick(): called again and again, each call its own top-level entry, until it returns a false value.
  while (status === null && mp.globals.get("_tinyrnn_more")) {
    status = await top("_tinyrnn_more = bool(_tinyrnn_g['tick']())\n");
  }
  if (status === null) status = 0;
  await out.flush();
  await err.flush();
  process.exitCode = status;
}

await main();
