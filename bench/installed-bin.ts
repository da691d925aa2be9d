// What the bench runs as x1deploy: the file package.json names as its bin, which `npm install`
// links, not a path of the build's, so the figures are those of the installed command.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { x1deploy: string } };

export const BIN = join(root, bin.x1deploy);
