/**
 * The web demo: the wallet machine in a page, with the IndexedDB keychain, PASSWORD and PASSKEY backups
 * and a live view of the lifecycle, against the custodian `npm run demo:web` starts. What an app writes
 * is all here: open the wallet (restoring its snapshot), call the facade, render the actor's snapshot.
 *
 * One tab drives the wallet at a time: the page takes a Web Lock before it opens the wallet, and a second
 * tab waits for it (two actors on one keychain would race each other's operations).
 */
import { getPublicKeyFromAddress, verifySignature, type Address, type SignatureBytes } from '@solana/kit';
import { createStore, get, set } from 'idb-keyval';
import { verifyMessage } from 'viem';
import { solanaSigner, tandemAccount } from '../../../src/chains/index.js';
import {
  createTandemWallet,
  IdbKeychain,
  isTandemError,
  PasskeyBackupMethod,
  PasswordBackupMethod,
  remoteCustodian,
  type PersistedWallet,
  type TandemWallet,
  type TandemWalletOptions,
} from '../../../src/index.js';
import { clientMpc } from '../../../src/mpc/client.js';
import './style.css';

const LOCK = 'tandem-demo-wallet';
/** The demo's own records (API key, snapshot, passkey id); the keychain has its own database. */
const demoStore = createStore('tandem-demo', 'state');
const app = document.getElementById('app')!;

interface DeviceKey {
  readonly walletId: string;
  readonly apiKey: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function main(): Promise<void> {
  // ifAvailable first, so a second tab can say why it waits; then wait for the lock in earnest.
  const got = await holdLock(true);
  if (!got) {
    app.innerHTML = `<main class="shell"><section class="card notice" data-testid="locked">
      <h1>Open in another tab</h1><p>This wallet is being used in another tab. It opens here as soon as that tab is closed.</p></section></main>`;
    await holdLock(false);
  }
  await open();
}

/** Resolves true once this tab holds the lock (held until the page goes away), false if it is taken. */
function holdLock(ifAvailable: boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(LOCK, { ifAvailable }, (lock) => {
        if (lock === null) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return new Promise<never>(() => undefined);
      })
      .catch(reject);
  });
}

async function deviceKey(): Promise<DeviceKey> {
  const saved = await get<DeviceKey>('device', demoStore);
  if (saved) return saved;
  // A device without a key asks the app's backend for one (here: the demo server, for its one user).
  const res = await fetch('/api/device-key', { method: 'POST' });
  if (!res.ok) throw new Error(`The demo server refused a device key (${res.status}).`);
  const issued = (await res.json()) as DeviceKey;
  await set('device', issued, demoStore);
  return issued;
}

async function open(): Promise<void> {
  const { custodianUrl } = (await (await fetch('/api/config')).json()) as { custodianUrl: string };
  const { apiKey } = await deviceKey();
  const snapshot = (await get<PersistedWallet>('snapshot', demoStore)) ?? null;
  const passkey = new PasskeyBackupMethod({ timeout: 60_000 });
  const wallet = await createTandemWallet({
    custodian: remoteCustodian({ baseUrl: custodianUrl, apiKey }),
    keychain: new IdbKeychain(),
    mpc: clientMpc(),
    backupMethods: { PASSWORD: new PasswordBackupMethod(), PASSKEY: passkey },
    snapshot,
    ...(await inspector()),
  });
  const ui = new DemoView(wallet, passkey, custodianUrl, snapshot !== null);
  ui.render();
  // The snapshot holds no secret (ids, statuses and handles), so it can live beside the app's other state.
  let saving = Promise.resolve();
  wallet.actor.subscribe(() => {
    ui.render();
    saving = saving.then(() => set('snapshot', wallet.persist(), demoStore)).catch(() => undefined);
  });
  app.dataset['ready'] = 'true';
}

/** `?inspect` opens the Stately inspector (it needs stately.ai); every event passes the sanitiser first. */
async function inspector(): Promise<{ inspect?: NonNullable<TandemWalletOptions['inspect']> }> {
  if (!new URLSearchParams(location.search).has('inspect')) return {};
  const [{ createBrowserInspector }, { sanitizingInspector }] = await Promise.all([import('@statelyai/inspect'), import('../../../src/machines/inspect.js')]);
  return { inspect: sanitizingInspector(createBrowserInspector().inspect) };
}

type Busy = { readonly label: string; status: string };

class DemoView {
  private busy: Busy | null = null;
  private error: { code: string; message: string } | null = null;
  private signatures: { evm: string; solana: string } | null = null;
  private log: string[] = [];
  private lastState = '';

  constructor(
    private readonly wallet: TandemWallet,
    private readonly passkey: PasskeyBackupMethod,
    private readonly custodianUrl: string,
    restored: boolean,
  ) {
    this.note(restored ? 'Restored the wallet from its snapshot in IndexedDB.' : 'Opened a new device.');
  }

  private note(line: string): void {
    this.log = [`${new Date().toLocaleTimeString()}  ${line}`, ...this.log].slice(0, 40);
  }

  private regions(): { signing: string; backup: string; top: string } {
    const snap = this.wallet.actor.getSnapshot();
    const value = snap.value as string | { active?: { signingShares: unknown; backupShares: unknown } };
    const flat = (v: unknown): string => (typeof v === 'string' ? v : Object.entries(v as Record<string, unknown>).map(([k, s]) => `${k}.${flat(s)}`).join(', '));
    if (typeof value === 'object' && value.active) return { top: 'active', signing: flat(value.active.signingShares), backup: flat(value.active.backupShares) };
    return { top: flat(value), signing: '—', backup: '—' };
  }

  render(): void {
    const r = this.regions();
    const state = `${r.top} | ${r.signing} | ${r.backup}`;
    if (state !== this.lastState) {
      this.lastState = state;
      this.note(`state: ${r.top === 'active' ? `signing shares ${r.signing}; backup shares ${r.backup}` : r.top}`);
    }
    const addresses = this.wallet.getAddresses();
    const methods = this.wallet.availableRecoveryMethods();
    const onDevice = this.wallet.isWalletOnDevice();
    const disabled = this.busy ? 'disabled' : '';
    const badge = (s: string) => `<span class="badge ${/STORED_CLIENT(_BACKUP_SHARE)?$/.test(s) ? 'ok' : /none|notOnDevice/.test(s) ? 'idle' : 'warn'}">${escape(s)}</span>`;
    app.dataset['busy'] = String(this.busy !== null);
    app.innerHTML = `
<main class="shell">
  <header>
    <h1>Tandem <span>web demo</span></h1>
    <p class="sub">A two-party wallet: one share in this browser (IndexedDB), one at the custodian <code>${escape(this.custodianUrl)}</code>.</p>
  </header>
  <section class="grid">
    <article class="card"><h2>Signing shares</h2><p data-testid="signing-state">${badge(r.signing)}</p>
      <p class="hint">${onDevice ? 'The keys can sign on this device.' : 'No signing share on this device.'}</p></article>
    <article class="card"><h2>Backup shares</h2><p data-testid="backup-state">${badge(r.backup)}</p>
      <p class="hint" data-testid="recovery-methods">${methods.length ? `Recoverable with ${methods.join(' and ')}` : 'No completed backup.'}</p></article>
    <article class="card wide"><h2>Addresses</h2>
      <dl><dt>EVM</dt><dd data-testid="address-evm">${escape(addresses.SECP256K1 ?? '—')}</dd>
      <dt>Solana</dt><dd data-testid="address-solana">${escape(addresses.ED25519 ?? '—')}</dd></dl></article>
    <article class="card wide"><h2>Operation</h2>
      <p data-testid="progress">${this.busy ? `<span class="spinner"></span>${escape(this.busy.label)} — ${escape(this.busy.status)}` : 'Idle'}</p>
      ${this.error ? `<p class="error" data-testid="error"><b data-testid="error-code">${escape(this.error.code)}</b> ${escape(this.error.message)}</p>` : ''}
    </article>
  </section>
  <section class="card actions">
    <h2>Actions</h2>
    <div class="row"><button id="create" ${disabled}>Create wallet</button></div>
    <div class="row">
      <input id="password" type="password" placeholder="Backup password (12+ characters)" autocomplete="new-password" value="${escape(this.password)}" />
      <button id="backup-password" ${disabled}>Back up with password</button>
      <button id="recover-password" ${disabled}>Recover with password</button>
    </div>
    <div class="row">
      <button id="backup-passkey" ${disabled}>Back up with passkey</button>
      <button id="recover-passkey" ${disabled}>Recover with passkey</button>
    </div>
    <div class="row">
      <input id="message" type="text" value="${escape(this.message)}" />
      <button id="sign" ${disabled}>Sign message</button>
    </div>
    ${
      this.signatures
        ? `<dl class="sigs"><dt>EVM (EIP-191)</dt><dd data-testid="sig-evm">${escape(this.signatures.evm)}</dd>
           <dt>Solana</dt><dd data-testid="sig-solana">${escape(this.signatures.solana)}</dd></dl>`
        : ''
    }
  </section>
  <section class="card"><h2>Log</h2><pre data-testid="log">${escape(this.log.join('\n'))}</pre>
    <p class="hint">Add <code>?inspect</code> to the address to watch the machine in the Stately inspector.</p></section>
</main>`;
    this.bind();
  }

  private password = '';
  private message = 'Hello from Tandem';

  private bind(): void {
    const on = (id: string, fn: () => Promise<unknown>, label: string) =>
      document.getElementById(id)?.addEventListener('click', () => void this.run(label, fn));
    const input = (id: string, fn: (v: string) => void) =>
      document.getElementById(id)?.addEventListener('input', (e) => fn((e.target as HTMLInputElement).value));
    input('password', (v) => (this.password = v));
    input('message', (v) => (this.message = v));
    const progress = (status: string, curve: string | null) => {
      if (this.busy) this.busy.status = `${status}${curve ? ` (${curve})` : ''}`;
      this.render();
    };
    on('create', () => this.wallet.createWallet(progress), 'Creating the wallet');
    on('backup-password', () => this.wallet.backupWallet('PASSWORD', { password: this.password }, progress), 'Backing up with a password');
    on('recover-password', () => this.wallet.recoverWallet('PASSWORD', { password: this.password }, progress), 'Recovering with a password');
    on('backup-passkey', () => this.backupWithPasskey(progress), 'Backing up with a passkey');
    on('recover-passkey', () => this.wallet.recoverWallet('PASSKEY', {}, progress), 'Recovering with a passkey');
    on('sign', () => this.sign(), 'Signing');
  }

  private async backupWithPasskey(progress: (s: string, c: string | null) => void): Promise<void> {
    let credentialId = await get<Uint8Array>('passkey', demoStore);
    if (!credentialId) {
      ({ credentialId } = await this.passkey.createCredential({
        rp: { name: 'Tandem demo' },
        user: { id: crypto.getRandomValues(new Uint8Array(16)), name: 'demo user' },
      }));
      await set('passkey', credentialId, demoStore);
    }
    await this.wallet.backupWallet('PASSKEY', { credentialId }, progress);
  }

  /** Signs the message on both curves through the chain signers and checks each with the chain's library. */
  private async sign(): Promise<void> {
    const message = this.message;
    const account = tandemAccount(this.wallet);
    const evm = await account.signMessage({ message });
    const evmOk = await verifyMessage({ address: account.address, message, signature: evm });
    const solana = solanaSigner(this.wallet);
    const bytes = new TextEncoder().encode(message);
    const sol = await solana.signMessage(bytes);
    const solOk = await verifySignature(await getPublicKeyFromAddress(solana.address as Address), sol as SignatureBytes, bytes);
    this.signatures = {
      evm: `${evmOk ? 'verified' : 'NOT VERIFIED'} ${evm.slice(0, 18)}…`,
      solana: `${solOk ? 'verified' : 'NOT VERIFIED'} ${[...sol.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('')}…`,
    };
  }

  private async run(label: string, fn: () => Promise<unknown>): Promise<void> {
    if (this.busy) return;
    this.busy = { label, status: 'starting' };
    this.error = null;
    this.note(`${label}…`);
    this.render();
    try {
      await fn();
      this.note(`${label}: done`);
    } catch (err) {
      this.error = isTandemError(err) ? { code: err.code, message: err.shortMessage } : { code: 'UNEXPECTED', message: err instanceof Error ? err.message : String(err) };
      this.note(`${label}: ${this.error.code}`);
    } finally {
      this.busy = null;
      this.render();
    }
  }
}

main().catch((err: unknown) => {
  app.innerHTML = `<main class="shell"><section class="card error" data-testid="fatal">${escape(err instanceof Error ? err.message : String(err))}</section></main>`;
  app.dataset['ready'] = 'error';
});
