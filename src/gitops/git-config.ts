// The few settings of a repo's .git/config the local store reads (its object format, whether git
// logs ref updates, how git wants its index kept), read in one blocking call. isomorphic-git read
// and parsed the file again for each setting, through its promise-based file system: ~8 ms of a
// cold deploy, for four values.
import * as fs from 'node:fs';
import { join } from 'node:path';

/** A setting's value as git wrote it: text, or true for a key with no "=" (git's shorthand for true). */
export type ConfigValue = string | true;

/** The repo's settings by "section.key" (lower case), the last one written winning, as `git config --get` does. */
export function readGitConfig(gitdir: string): ReadonlyMap<string, ConfigValue> {
  let text: string;
  try {
    text = fs.readFileSync(join(gitdir, 'config'), 'utf8');
  } catch {
    return new Map();
  }
  return parseGitConfig(text);
}

/**
 * git's config syntax: `[section]` headers (a subsection, `[section "name"]`, is kept apart, and is
 * not what this reader is asked for), `key = value` lines, `#`/`;` comments, quoted values with
 * escapes, and a backslash continuing a value on the next line.
 */
export function parseGitConfig(text: string): Map<string, ConfigValue> {
  const settings = new Map<string, ConfigValue>();
  let section: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)\s*("(?:[^"\\]|\\.)*")?\s*\]\s*(?:[#;].*)?$/.exec(line);
    if (header) {
      // A dotted name ([section.sub]) or a quoted one names a subsection.
      section = header[2] === undefined && !header[1]!.includes('.') ? header[1]!.toLowerCase() : undefined;
      continue;
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
    if (!entry || section === undefined) continue;
    const key = `${section}.${entry[1]!.toLowerCase()}`;
    if (entry[2] === undefined) {
      settings.set(key, true);
      continue;
    }
    let raw = entry[2];
    while (raw.endsWith('\\') && !raw.endsWith('\\\\') && i + 1 < lines.length) raw = raw.slice(0, -1) + lines[++i]!;
    line = raw;
    settings.set(key, configValue(line));
  }
  return settings;
}

/** A value's text: quotes dropped, escapes read, a comment outside quotes cut, outer spaces trimmed. */
function configValue(raw: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && i + 1 < raw.length) {
      const next = raw[++i]!;
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '\b' : next;
    } else if (!quoted && (c === '#' || c === ';')) break;
    else out += c;
  }
  return out.trim();
}
