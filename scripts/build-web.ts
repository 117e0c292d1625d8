/**
 * Builds the web front end with Vite: the pages (copilot demo, billing, admin) and the
 * framework-free widget (`widget.js` for a script tag, `widget.mjs` as a module).
 *
 *   node scripts/build-web.ts [outDir]     (default dist/web)
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));
export const DEFAULT_WEB_OUT = fileURLToPath(new URL('../dist/web/', import.meta.url));

export async function buildWeb(outDir: string = DEFAULT_WEB_OUT): Promise<void> {
  const common = { root: WEB_ROOT, configFile: false as const, logLevel: 'warn' as const };
  await build({
    ...common,
    base: '/',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      rollupOptions: {
        input: {
          index: `${WEB_ROOT}index.html`,
          billing: `${WEB_ROOT}billing.html`,
          admin: `${WEB_ROOT}admin.html`,
        },
      },
    },
  });
  await build({
    ...common,
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2020',
      lib: {
        entry: `${WEB_ROOT}src/widget.ts`,
        name: 'TokenMeter',
        formats: ['iife', 'es'],
        fileName: (format) => (format === 'es' ? 'widget.mjs' : 'widget.js'),
      },
    },
  });
}

if (import.meta.main) await buildWeb(process.argv[2]);
