import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layout of DESIGN.md, enforced: process folders share code only through core/ (and the
 * wire protocol), child processes are spawned only by the agent's process module, and the
 * environment is read only where configuration is parsed.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const PRODUCT = ['core', 'protocol', 'functions', 'workflows', 'relay', 'agent', 'cli', 'console'] as const;

/** Which top-level folders each folder may import from (besides itself). */
const ALLOWED: Readonly<Record<(typeof PRODUCT)[number], readonly string[]>> = {
  core: [],
  protocol: ['core'],
  workflows: ['core'],
  functions: ['core', 'protocol', 'workflows'],
  relay: ['core', 'protocol'],
  agent: ['core', 'protocol'],
  // The CLI is the launcher: it loads each process's entry point and types the API client.
  cli: ['core', 'functions', 'local', 'relay', 'agent', 'protocol'],
  console: ['core', 'workflows', 'functions'],
};

const sourceFiles = (dir: string): string[] => {
  const full = join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(full);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(full, name);
    if (statSync(path).isDirectory()) return sourceFiles(join(dir, name));
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.includes('.fixture.')
      ? [join(dir, name)]
      : [];
  });
};

const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

const importsOf = (file: string): string[] =>
  [...readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)].map((m) => m[1] as string);

const topFolder = (file: string, specifier: string): string | undefined => {
  if (!specifier.startsWith('.')) return undefined;
  return relative(ROOT, resolve(ROOT, dirname(file), specifier)).split('/')[0];
};

describe('architecture', () => {
  it.each(PRODUCT)('%s imports only the folders it may', (folder) => {
    const allowed = new Set([folder, ...ALLOWED[folder]]);
    const violations = sourceFiles(folder).flatMap((file) =>
      importsOf(file)
        .map((spec) => ({ spec, top: topFolder(file, spec) }))
        .filter(({ top }) => top !== undefined && !allowed.has(top))
        .map(({ spec }) => `${file} imports ${spec}`),
    );
    expect(violations).toEqual([]);
  });

  it('spawns child processes only in agent/process', () => {
    const spawners = PRODUCT.flatMap((folder) => sourceFiles(folder)).filter((file) =>
      importsOf(file).some((spec) => spec === 'node:child_process' || spec === 'child_process'),
    );
    expect(spawners.filter((file) => !file.startsWith('agent/process/'))).toEqual([]);
  });

  it('reads the environment only in config modules', () => {
    const readers = PRODUCT.flatMap((folder) => sourceFiles(folder)).filter((file) =>
      readFileSync(join(ROOT, file), 'utf8').includes('process.env'),
    );
    expect(readers.filter((file) => !file.endsWith('/config.ts'))).toEqual([]);
  });
});
