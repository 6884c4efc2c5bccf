// Copies what tsc does not emit next to the compiled nodes: the editor .html
// files, locales and icons, so dist/nodes/<name>/ is a complete node.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const from = path.join(root, 'nodes');
const to = path.join(root, 'dist', 'nodes');

function copyAssets(src, dest) {
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dest, entry.name);
    if (entry.isDirectory()) copyAssets(s, d);
    else if (!entry.name.endsWith('.ts')) {
      fs.mkdirSync(dest, { recursive: true });
      fs.copyFileSync(s, d);
    }
  }
}

if (fs.existsSync(from)) copyAssets(from, to);
