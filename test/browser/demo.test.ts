/**
 * The web demo in real Chromium (Debian's, driven by playwright-core): the wallet machine with the IndexedDB
 * keychain against a custodian process, as a user clicks through it. Create → back up with PASSWORD →
 * reload (the state comes back from IndexedDB) → sign; clear the site's data → recover → the same
 * addresses → sign; PASSKEY backup and recovery through a virtual authenticator with PRF (and a typed
 * refusal from one without); a second tab waits for the first. A screenshot of the demo after a
 * recovery is saved in test-artifacts/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
const STEP = 120_000;
const PASSWORD = 'violet-harbor-93-slowly-drift';

let demo: ChildProcess;
let demoOutput = '';
let origin: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install chromium (.ci/run does).`);
  demo = spawn(process.execPath, ['--import', 'tsx', 'examples/web/server.ts', '--port', '0'], {
    cwd: new URL('../..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  demo.stdout!.on('data', (d: Buffer) => (demoOutput += d.toString()));
  demo.stderr!.on('data', (d: Buffer) => (demoOutput += d.toString()));
  origin = await new Promise<string>((resolve, reject) => {
    demo.stdout!.on('data', () => {
      const m = /demo ready on (http:\/\/localhost:\d+)/.exec(demoOutput);
      if (m) resolve(m[1]!);
    });
    demo.once('exit', (code) => reject(new Error(`the demo server exited (${code}):\n${demoOutput}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (e) => (demoOutput += `pageerror: ${e.message}\n`));
}, STEP);

afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  }
});

/** Waits until the page's wallet is open and idle. */
async function settled(p: Page = page): Promise<void> {
  await p.waitForFunction(() => {
    const app = document.getElementById('app');
    return app?.dataset['ready'] !== 'false' && app?.dataset['busy'] !== 'true';
  }, null, { timeout: STEP });
  const fatal = await p.locator('[data-testid=fatal]').count();
  if (fatal > 0) throw new Error(`the demo failed: ${await p.locator('[data-testid=fatal]').innerText()}\n${demoOutput}`);
}

const text = async (id: string, p: Page = page) => (await p.locator(`[data-testid=${id}]`).innerText()).trim();

/** Clicks a button and waits for its operation; returns the error code it showed, if any. */
async function act(button: string, p: Page = page): Promise<string | null> {
  await p.locator(`#${button}`).click();
  await p.waitForFunction(() => document.getElementById('app')?.dataset['busy'] === 'true', null, { timeout: 10_000 }).catch(() => undefined);
  await settled(p);
  return (await p.locator('[data-testid=error-code]').count()) > 0 ? text('error-code', p) : null;
}

async function openDemo(p: Page = page): Promise<void> {
  await p.goto(origin);
  await settled(p);
}

async function signAndCheck(): Promise<void> {
  expect(await act('sign')).toBeNull();
  expect(await text('sig-evm')).toMatch(/^verified 0x[0-9a-f]{16}…$/);
  expect(await text('sig-solana')).toMatch(/^verified [0-9a-f]{16}…$/);
}

/**
 * One DevTools session per page, for everything: with a virtual authenticator present, detaching a second
 * session on the page closed the page (Chromium 156).
 */
const sessions = new WeakMap<Page, Promise<CDPSession>>();
function devtools(p: Page = page): Promise<CDPSession> {
  let s = sessions.get(p);
  if (!s) sessions.set(p, (s = context.newCDPSession(p)));
  return s;
}

/** What "Clear site data" does: every storage of the origin (IndexedDB: keychain, API key, snapshot). */
async function clearSiteData(): Promise<void> {
  await (await devtools()).send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' });
}

async function addAuthenticator(hasPrf: boolean): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await devtools();
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

describe('the web demo in Chromium', () => {
  let addresses: { evm: string; solana: string };

  it('creates a wallet, backs it up with a password, survives a reload (state from IndexedDB) and signs', async () => {
    await openDemo();
    expect(await text('signing-state')).toBe('none');
    expect(await act('create')).toBeNull();
    expect(await text('signing-state')).toBe('STORED_CLIENT');
    addresses = { evm: await text('address-evm'), solana: await text('address-solana') };
    expect(addresses.evm).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(addresses.solana).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);

    await page.locator('#password').fill('too short');
    expect(await act('backup-password')).toBe('PASSWORD_TOO_WEAK');
    await page.locator('#password').fill(PASSWORD);
    expect(await act('backup-password')).toBeNull();
    expect(await text('backup-state')).toBe('STORED_CLIENT_BACKUP_SHARE');

    await page.reload();
    await settled();
    expect(await text('log')).toContain('Restored the wallet from its snapshot in IndexedDB.');
    expect(await text('signing-state')).toBe('STORED_CLIENT');
    expect(await text('backup-state')).toBe('STORED_CLIENT_BACKUP_SHARE');
    expect({ evm: await text('address-evm'), solana: await text('address-solana') }).toEqual(addresses);
    await signAndCheck();
  }, 4 * STEP);

  it('after the site data is cleared, recovers with the password: the same addresses, and it signs', async () => {
    await clearSiteData();
    await openDemo();
    expect(await text('log')).toContain('Opened a new device.');
    expect(await text('signing-state')).toBe('notOnDevice');
    expect({ evm: await text('address-evm'), solana: await text('address-solana') }).toEqual(addresses);
    await page.locator('#password').fill('not the password at all, 42');
    expect(await act('recover-password')).toBe('DECRYPT_FAILED');
    expect(await text('signing-state')).toBe('notOnDevice');
    await page.locator('#password').fill(PASSWORD);
    expect(await act('recover-password')).toBeNull();
    expect(await text('signing-state')).toBe('STORED_CLIENT');
    expect({ evm: await text('address-evm'), solana: await text('address-solana') }).toEqual(addresses);
    await signAndCheck();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}demo-after-recovery.png`, fullPage: true });
  }, 4 * STEP);

  it('refuses a passkey without PRF with a typed error, then backs up and recovers with a PRF passkey', async () => {
    const plain = await addAuthenticator(false);
    expect(await act('backup-passkey')).toBe('BACKUP_METHOD_UNAVAILABLE');
    expect(await text('recovery-methods')).toBe('Recoverable with PASSWORD');
    await plain.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: plain.authenticatorId });

    await addAuthenticator(true);
    expect(await act('backup-passkey')).toBeNull();
    expect(await text('recovery-methods')).toMatch(/Recoverable with (PASSWORD and PASSKEY|PASSKEY and PASSWORD)/);

    // A new device: nothing left in the browser but the authenticator (it belongs to the page).
    await clearSiteData();
    await page.reload();
    await settled();
    expect(await text('signing-state')).toBe('notOnDevice');
    expect(await act('recover-passkey')).toBeNull();
    expect(await text('signing-state')).toBe('STORED_CLIENT');
    expect({ evm: await text('address-evm'), solana: await text('address-solana') }).toEqual(addresses);
    await signAndCheck();
    await page.screenshot({ path: `${ARTIFACTS}demo-after-passkey-recovery.png`, fullPage: true });
  }, 4 * STEP);

  it('a second tab waits while the first drives the wallet, and opens it once the first is closed', async () => {
    const second = await context.newPage();
    await second.goto(origin);
    await second.locator('[data-testid=locked]').waitFor({ timeout: STEP });
    await page.close();
    await settled(second);
    expect(await text('signing-state', second)).toBe('STORED_CLIENT');
    expect(await text('address-evm', second)).toBe(addresses.evm);
    page = second;
  }, 2 * STEP);
});
