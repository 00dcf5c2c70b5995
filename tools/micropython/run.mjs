#!/usr/bin/env node
// Run a Python script under MicroPython 1.27 (WebAssembly) with tinyrnn's core importable.
//
//   node tools/micropython/run.mjs SCRIPT.py [ARG...]     (sys.argv = [SCRIPT.py, ARG...])
//   node tools/micropython/run.mjs - [ARG...] < SCRIPT.py  (script on stdin)
//
// Options (before SCRIPT): --root DIR  the checkout holding tinyrnn/ (default: two levels up)
//                          --heap MiB  MicroPython heap size (default 64)
//
// What a user copies to a board -- tinyrnn/__init__.py and tinyrnn/core/*.py --
// is written into MicroPython's filesystem as /lib/tinyrnn/, which is on
// MicroPython's sys.path. The CPython-only packages (workflow/, export/, cli/,
// arrays/) are never copied, so an accidental import of them fails loudly. The script's stdout and stderr pass through unchanged. If
// the script raises, the Python traceback (only) goes to stderr and the exit
// status is 1; SystemExit(n) exits with status n.
//
// Needs `npm ci` in tools/micropython first.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  process.stderr.write(`run.mjs: ${msg}\nusage: node run.mjs [--root DIR] [--heap MiB] SCRIPT.py|- [ARG...]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { root: path.resolve(HERE, "..", ".."), heapMiB: 64, script: null, args: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root" || a === "--heap") {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      const v = argv[++i];
      if (a === "--root") opts.root = path.resolve(v);
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

  mp.globals.set("_tinyrnn_src", source);
  mp.globals.set("_tinyrnn_argv", JSON.stringify([scriptName, ...opts.args]));
  let status = 0;
  try {
    mp.runPython(
      "import sys, json\n" +
        "sys.argv[:] = json.loads(_tinyrnn_argv)\n" +
        "_tinyrnn_code = compile(_tinyrnn_src, sys.argv[0], 'exec')\n" +
        "del _tinyrnn_src, _tinyrnn_argv\n" +
        "exec(_tinyrnn_code, {'__name__': '__main__'})\n",
    );
  } catch (e) {
    if (e && e.name === "PythonError") {
      const msg = String(e.message);
      if (e.type === "SystemExit") {
        const arg = msg.trimEnd().split("\n").pop().replace(/^SystemExit:? ?/, "");
        if (arg === "" || arg === "None") status = 0;
        else if (/^-?\d+$/.test(arg)) status = Number(arg) & 255;
        else {
          err.put(new TextEncoder().encode(arg + "\n"));
          status = 1;
        }
      } else {
        // drop the wrapper's own frame: File "<stdin>", line 5, in <module>
        const lines = msg.split("\n");
        const keep = lines.filter((l, k) => !(k === 1 && l.startsWith('  File "<stdin>"') && scriptName !== "<stdin>"));
        err.put(new TextEncoder().encode(keep.join("\n")));
        status = 1;
      }
    } else {
      await out.flush();
      await err.flush();
      throw e;
    }
  }
  await out.flush();
  await err.flush();
  process.exitCode = status;
}

await main();
