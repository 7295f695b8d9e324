import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../../scripts/build-console';
import { startTestApp, type TestApp } from '../../helpers/test-app';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export const CHROMIUM = process.env.PIGEON_CHROMIUM ?? '/usr/bin/chromium';

/**
 * True when the browser suites can run. Locally, without chromium, they are skipped with a message; in CI
 * (CI=true) a missing chromium fails them instead, so the suite cannot pass without running.
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.warn(`Skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install -y chromium).`);
  return false;
}

export interface BrowserRig {
  t: TestApp;
  base: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Requests to anything but the app (the console must work offline); each is aborted. */
  outside: string[];
  /** Content-Security-Policy violations and page errors seen in the browser. */
  problems: string[];
  close(): Promise<void>;
}

/** The app listening on a free port, a fresh console bundle, and one headless Chromium page with a clean tab. */
export async function startRig(config: Parameters<typeof startTestApp>[0] = {}): Promise<BrowserRig> {
  await buildConsole();
  const t = await startTestApp(config);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const outside: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const problems: string[] = [];
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return {
    t,
    base,
    browser,
    context,
    page,
    outside,
    problems,
    async close() {
      await browser.close();
      await t.close();
    },
  };
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now (axe is evaluated by the DevTools protocol, which CSP does not govern). */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE_SOURCE);
  const violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] = await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
