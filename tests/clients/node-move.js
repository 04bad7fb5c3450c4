// Moves with Node's own fs API, unmodified: the way Obsidian (Electron/Node) moves notes.
//   node node-move.js sync SRC DST          fs.renameSync
//   node node-move.js promise SRC DST       fs.promises.rename (a file or a folder)
//   node node-move.js concurrent SRC DST    16 fs.promises.rename at once, SRC/* → DST/*
// Prints "ok" or "error <CODE>" per move (concurrent: one summary line).
// Run with UV_USE_IO_URING=0: with io_uring libuv submits the async rename to the kernel
// itself and never calls libc rename, so no preload library can see it.
'use strict';
const fs = require('fs');
const path = require('path');

function describe(err) {
  return err ? `error ${err.code}` : 'ok';
}

async function main() {
  const [mode, src, dst] = process.argv.slice(2);
  if (mode === 'sync') {
    try {
      fs.renameSync(src, dst);
      console.log('ok');
    } catch (err) {
      console.log(describe(err));
    }
  } else if (mode === 'promise') {
    console.log(await fs.promises.rename(src, dst).then(() => 'ok', describe));
  } else if (mode === 'concurrent') {
    const names = fs.readdirSync(src).sort();
    const results = await Promise.all(names.map((name) =>
      fs.promises.rename(path.join(src, name), path.join(dst, name)).then(() => 'ok', describe)));
    const counts = {};
    for (const r of results) counts[r] = (counts[r] || 0) + 1;
    console.log(Object.keys(counts).sort().map((k) => `${k} x${counts[k]}`).join(', '));
  } else {
    console.error('usage: node-move.js sync|promise|concurrent SRC DST');
    process.exit(2);
  }
}

main();
