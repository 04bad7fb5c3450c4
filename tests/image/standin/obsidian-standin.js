// The Obsidian stand-in of the Kasm stand-in image: a long-running Node process, started by
// custom_startup.sh the way Kasm's starts Obsidian, so it inherits the session environment
// exactly as the real app would.  It acts on requests: JSON files the test drops into
// $HOME/.standin/requests/ (from the host, through /proc/PID/root), one answer each in
// $HOME/.standin/results/ under the same name.
//   {"op": "scenario", "shared": NAME|null, "readonly": NAME|null}  obsidian-sim.js's scenario
//   {"op": "rename", "from": PATH, "to": PATH}    one fs.promises.rename, as Obsidian moves
'use strict';
const fs = require('fs');
const path = require('path');
const { runScenario } = require('./obsidian-sim.js');

const base = path.join(process.env.HOME, '.standin');
const requests = path.join(base, 'requests');
const results = path.join(base, 'results');

async function handle(req) {
  if (req.op === 'scenario') {
    return runScenario({ vault: '/vault', shared: req.shared || null, readonly: req.readonly || null });
  }
  if (req.op === 'rename') {
    try {
      await fs.promises.rename(req.from, req.to);
      return { result: 'ok' };
    } catch (e) {
      return { result: e.code || String(e) };
    }
  }
  return { error: `unknown op ${req.op}` };
}

async function serve() {
  fs.mkdirSync(requests, { recursive: true });
  fs.mkdirSync(results, { recursive: true });
  for (;;) {
    for (const name of fs.readdirSync(requests).filter(n => n.endsWith('.json')).sort()) {
      const file = path.join(requests, name);
      const req = JSON.parse(fs.readFileSync(file, 'utf8'));
      fs.unlinkSync(file);
      const answer = await handle(req).catch(e => ({ error: String(e.stack || e) }));
      const tmp = path.join(results, `.${name}`);
      fs.writeFileSync(tmp, JSON.stringify(answer));
      fs.renameSync(tmp, path.join(results, name));
    }
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

serve().catch(e => { console.error(`obsidian-standin: ${e.stack || e}`); process.exitCode = 2; });
