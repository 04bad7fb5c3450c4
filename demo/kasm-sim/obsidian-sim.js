#!/usr/bin/env node
// Acts as Obsidian in a simulated session: reads .obsidian/app.json the way Obsidian resolves
// new-note locations, creates notes there, and moves notes and folders the way its file
// explorer does (fs.promises.rename, no copy fallback).  Prints one JSON report on stdout.
//
//   node obsidian-sim.js [--vault /vault] [--shared NAME] [--readonly NAME]
// or require() it and call runScenario({vault, shared, readonly}) (the image suite's stand-in).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

function parseArgs(argv) {
  const opts = { vault: '/vault', shared: null, readonly: null };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts) || argv[i + 1] === undefined) {
      throw new Error(`usage: obsidian-sim.js [--vault DIR] [--shared NAME] [--readonly NAME]`);
    }
    opts[key] = argv[i + 1];
  }
  return opts;
}

// Obsidian: "folder" uses newFileFolderPath, and silently falls back to the vault root when
// that folder does not exist; anything else ("root", "current" with no file open) is the root.
function newNoteFolder(vault, app) {
  if (app.newFileLocation === 'folder' && app.newFileFolderPath) {
    const dir = path.join(vault, app.newFileFolderPath);
    if (fs.existsSync(dir)) return { dir, fallback: false };
    return { dir: vault, fallback: true };
  }
  return { dir: vault, fallback: false };
}

function readApp(vault) {
  try {
    return JSON.parse(fs.readFileSync(path.join(vault, '.obsidian', 'app.json'), 'utf8'));
  } catch (e) {
    return { error: e.code || e.message };
  }
}

function treeDigest(dir) {
  // name → content for every file below dir, to compare a moved tree with the original.
  const out = {};
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, rel + e.name + '/');
      else out[rel + e.name] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

async function move(steps, what, from, to, expect) {
  const before = fs.statSync(from).isDirectory() ? treeDigest(from) : fs.readFileSync(from, 'utf8');
  const step = { what, from, to, expected: expect };
  try {
    await fs.promises.rename(from, to);
    step.result = 'ok';
  } catch (e) {
    step.result = e.code || String(e);
  }
  if (step.result === 'ok') {
    const after = fs.statSync(to).isDirectory() ? treeDigest(to) : fs.readFileSync(to, 'utf8');
    step.intact = JSON.stringify(after) === JSON.stringify(before) && !fs.existsSync(from);
  } else {
    const still = fs.statSync(from).isDirectory() ? treeDigest(from) : fs.readFileSync(from, 'utf8');
    step.intact = JSON.stringify(still) === JSON.stringify(before) && !fs.existsSync(to);
  }
  step.pass = step.result === expect && step.intact;
  steps.push(step);
  return step;
}

// The same rename in a child without the shim: what Obsidian would see in a stock image.
function renameWithoutShim(from, to) {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  const code = 'try { require("fs").renameSync(process.argv[1], process.argv[2]); console.log("ok"); }' +
               ' catch (e) { console.log(e.code); }';
  const res = spawnSync(process.execPath, ['-e', code, from, to], { env, encoding: 'utf8' });
  return res.stdout.trim();
}

// The scenario on a prepared vault: the report, with pass = every step as Obsidian expects.
async function runScenario(opts) {
  const report = { vault: opts.vault, ld_preload: process.env.LD_PRELOAD || null,
                   uv_use_io_uring: process.env.UV_USE_IO_URING || null, steps: [] };
  const app = readApp(opts.vault);
  report.app = app;
  const { dir, fallback } = newNoteFolder(opts.vault, app);
  report.notes_folder = path.relative(opts.vault, dir) || '.';
  report.notes_fallback_to_root = fallback;

  const stamp = 'Meeting 2026-12-15.md';
  const notes = {
    [stamp]: '# Meeting\n\n- decided: ship the vault\n',
    'Ideas.md': '# Ideas\n\nA note that must stay where it is.\n',
  };
  for (const [name, text] of Object.entries(notes)) fs.writeFileSync(path.join(dir, name), text);
  const project = path.join(dir, 'Project Falcon');
  fs.mkdirSync(path.join(project, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(project, 'Plan.md'), '# Plan\n\nSee [[Notes]].\n');
  fs.writeFileSync(path.join(project, 'Notes.md'), '# Notes\n');
  fs.writeFileSync(path.join(project, 'assets', 'diagram.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  report.created = [stamp, 'Ideas.md', 'Project Falcon/'].map(n => path.join(report.notes_folder, n));

  if (opts.shared) {
    const target = path.join(opts.vault, opts.shared);
    const probeFrom = path.join(dir, 'probe.md');
    fs.writeFileSync(probeFrom, 'probe\n');
    report.without_shim = renameWithoutShim(probeFrom, path.join(target, 'probe.md'));
    if (fs.existsSync(probeFrom)) fs.unlinkSync(probeFrom);
    else fs.unlinkSync(path.join(target, 'probe.md'));
    await move(report.steps, 'note', path.join(dir, stamp), path.join(target, stamp), 'ok');
    await move(report.steps, 'folder', project, path.join(target, 'Project Falcon'), 'ok');
  }
  if (opts.readonly) {
    await move(report.steps, 'note into read-only folder', path.join(dir, 'Ideas.md'),
               path.join(opts.vault, opts.readonly, 'Ideas.md'), 'EROFS');
  }
  report.pass = !fallback && report.steps.every(s => s.pass);
  return report;
}

async function main() {
  const report = await runScenario(parseArgs(process.argv.slice(2)));
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exitCode = report.pass ? 0 : 1;
}

module.exports = { runScenario };

if (require.main === module) {
  main().catch(e => { console.error(`obsidian-sim: ${e.stack || e}`); process.exitCode = 2; });
}
