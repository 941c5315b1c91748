/*
 * repo.js - a signed package repository on disk for the loader tests:
 * archives and index entries from larder-build, composed into index.json
 * and signed with an Ed25519 key (node:crypto), the way a mirror does it.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function makeKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  return {
    privateKey,
    text: `ed25519:${raw.toString('base64')}`,
    id: crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16),
  };
}

/* Entries (parsed .json files) of every package in the given directories. */
function readEntries(...dirs) {
  const entries = {};
  for (const dir of dirs) {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const e = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      entries[e.name] = { ...e, _dir: dir };
    }
  }
  return entries;
}

/* Write dir/index.json (+ .sig) for entries, copying their archives. */
function writeRepo(dir, entries, { key, serial = 1, expires = null, sign = true } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const packages = {};
  for (const [name, e] of Object.entries(entries)) {
    const { _dir, ...entry } = e;
    if (_dir) fs.copyFileSync(path.join(_dir, e.file_name), path.join(dir, e.file_name));
    packages[name] = entry;
  }
  const info = { arch: 'wasm32', platform: 'emscripten_3_1_6', python: '3.11.2', abi_version: 'larder-1',
    serial, generated: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  if (expires) info.expires = expires;
  if (key) info.key_id = key.id;
  const json = Buffer.from(JSON.stringify({ info, packages }, null, 1));
  fs.writeFileSync(path.join(dir, 'index.json'), json);
  if (sign && key) {
    fs.writeFileSync(path.join(dir, 'index.json.sig'), crypto.sign(null, json, key.privateKey).toString('base64'));
  }
  return json;
}

module.exports = { makeKey, readEntries, writeRepo };
