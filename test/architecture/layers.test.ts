// The folders are the architecture (docs/design.md): the rules are pure, so they may not
// reach an adapter, the engine or the wiring, and nothing below the wiring reads the
// environment or sets process flags. A rule that starts calling WordPress fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const srcDir = resolve(import.meta.dirname, '../../src');

function modulesIn(folder: string): string[] {
  return readdirSync(join(srcDir, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));
}

/** Every module specifier a file imports (static, type-only and dynamic), resolved against src/. */
function importsOf(module: string): string[] {
  const source = readFileSync(join(srcDir, module), 'utf8');
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gms),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((match) => match[1]!);
  return specifiers.map((specifier) =>
    specifier.startsWith('.')
      ? relative(srcDir, resolve(dirname(join(srcDir, module)), specifier))
      : specifier,
  );
}

/** What a rule may use: other rules, the shared data shapes, and the job settings they judge by. */
function ruleMayImport(target: string): boolean {
  return /^(rules|model)\//.test(target) || /^config\/(mapping|resolve)\.ts$/.test(target);
}

describe('the layers', () => {
  it('keeps the rules pure: no adapter, engine, wiring, Node.js API or package', () => {
    const rules = modulesIn('rules');
    expect(rules.length).toBeGreaterThan(8);
    const crossings = rules.flatMap((module) =>
      importsOf(module)
        .filter((target) => !ruleMayImport(target))
        .map((target) => `${module} imports ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  it('keeps the shared data shapes free of everything else', () => {
    const crossings = modulesIn('model').flatMap((module) =>
      importsOf(module)
        .filter((target) => !target.startsWith('model/'))
        .map((target) => `${module} imports ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  it('lets only the wiring and the entry points build runs: the engine never imports src/app, src/cli or src/action', () => {
    const crossings = [...modulesIn('engine'), ...modulesIn('rules')].flatMap((module) =>
      importsOf(module)
        .filter((target) => /^(app|cli|action|check)\//.test(target))
        .map((target) => `${module} imports ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  it('leaves the environment and process flags to the wiring and entry points', () => {
    const readers = [...modulesIn('engine'), ...modulesIn('rules'), ...modulesIn('model')].filter((module) =>
      /\bprocess\.(env|argv|exit|on)\b|\bsetFlagsFromString\b|\benv\s*[.[]/.test(
        readFileSync(join(srcDir, module), 'utf8'),
      ),
    );
    expect(readers).toEqual([]);
  });

  it('has no import circles (the cycle and its listings share their types through cycle-types.ts)', () => {
    const modules = modulesIn('.').map((module) => relative('.', module));
    const graph = new Map(
      modules.map((module) => [module, importsOf(module).filter((target) => modules.includes(target))]),
    );
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (module: string, path: string[]) => {
      if (state.get(module) === 'done') return;
      if (state.get(module) === 'open') {
        circles.push([...path.slice(path.indexOf(module)), module].join(' → '));
        return;
      }
      state.set(module, 'open');
      for (const target of graph.get(module) ?? []) visit(target, [...path, module]);
      state.set(module, 'done');
    };
    for (const module of modules) visit(module, []);
    expect(circles).toEqual([]);
  });

  it('catches a crossing when there is one', () => {
    expect(ruleMayImport('wordpress/rest-client.ts')).toBe(false);
    expect(ruleMayImport('engine/cycle.ts')).toBe(false);
    expect(ruleMayImport('node:fs')).toBe(false);
    expect(ruleMayImport('rules/plan.ts')).toBe(true);
    expect(importsOf('engine/cycle.ts')).toContain('engine/full-cycle.ts');
  });
});
