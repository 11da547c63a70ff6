/**
 * ECDSA-2PC figures (issue 3, part 1; issue 4, signing): key generation with both parties in one
 * process, bytes on the wire, the client share's size, the one-time integer-commitment setup, and a
 * signature from S0 (and from S4) to the verified signature. Server-side primes come
 * from Node's generatePrimeSync, as on the custodian.
 *
 * Arithmetic: the named figures run the custodian (P1) on the server backend, OpenSSL through
 * node:crypto (src/server/native-arith.ts), and the client (P2) on src/mpc's BigInt reference, as in a
 * browser. The same runs with both parties on BigInt are printed as `…_bigint_…` breakdown lines.
 */
import { generatePrimeSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { intCommitmentPin } from '../src/mpc/int-commitment.js';
import { createKeygenP1, createKeygenP2, type KeygenResult, type MpcParty } from '../src/mpc/keygen.js';
import { generatePaillierKey } from '../src/mpc/paillier.js';
import { generateIntCommitmentParams, verifyIc } from '../src/mpc/pi-ic.js';
import type { PrimeSource } from '../src/mpc/primes.js';
import { derivePid } from '../src/mpc/session.js';
import { createPresignP1, createPresignP2 } from '../src/mpc/presign.js';
import { decodeClientShare, decodeCustodianShare, type ClientShare, type CustodianShare } from '../src/mpc/share.js';
import { checkSignatureAnswer, CustodianSigner } from '../src/mpc/sign.js';
import type { ModArith } from '../src/mpc/modexp.js';
import { nativeArith } from '../src/server/native-arith.js';

export const nodePrimes: PrimeSource = (bits, { safe }) => generatePrimeSync(bits, { safe, bigint: true });

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: 'ms' | 'bytes';
  readonly budget?: string;
  readonly note?: string;
  /** One of the figures the issue names for `--json`; the others are printed only. */
  readonly json?: boolean;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, performance.now() - t0];
}

interface KeygenRun {
  readonly total: number;
  readonly custodian: number;
  readonly client: number;
  readonly bytes: number;
  readonly share: number;
  readonly shares: { readonly client: Uint8Array; readonly custodian: Uint8Array };
}

/** One keygen, both parties in this process, each party's compute timed separately. */
function keygen(p1: MpcParty<KeygenResult>, p2: MpcParty<KeygenResult>): KeygenRun {
  let custodian = 0;
  let client = 0;
  let bytes = 0;
  const on1 = <T>(f: () => T): T => {
    const [out, ms] = timed(f);
    custodian += ms;
    return out;
  };
  const on2 = <T>(f: () => T): T => {
    const [out, ms] = timed(f);
    client += ms;
    return out;
  };
  const sent = (ms: Uint8Array[]): Uint8Array => {
    const [m] = ms;
    if (m === undefined || ms.length !== 1) throw new Error('expected one message');
    bytes += m.length;
    return m;
  };
  const t0 = performance.now();
  const k1 = sent(on1(() => p1.start()));
  on2(() => p2.start());
  const k2 = sent(on2(() => p2.receive(k1)).messages);
  const k3 = sent(on1(() => p1.receive(k2)).messages);
  const r3 = on2(() => p2.receive(k3));
  const k4 = sent(r3.messages);
  const r4 = on1(() => p1.receive(k4));
  const total = performance.now() - t0;
  if (r3.result === undefined || r4.result === undefined || r3.result.publicKey !== r4.result.publicKey) {
    throw new Error('keygen did not agree');
  }
  return {
    total,
    custodian,
    client,
    bytes,
    share: r3.result.share.length,
    shares: { client: r3.result.share, custodian: r4.result.share },
  };
}

export function benchEcdsa(reps: number): Figure[] {
  const server = nativeArith();
  const pid1 = derivePid(new TextEncoder().encode('bench custodian'));
  const pid2 = derivePid(new TextEncoder().encode('bench client'));

  // One-time: the custodian makes (Ñ, g̃, h̃) from two fresh safe primes and proves them; the client checks.
  const [ic, genMs] = timed(() => generateIntCommitmentParams(nodePrimes));
  const [, verifyMs] = timed(() => verifyIc(ic.params, ic.proof, 'dkg'));
  const icPin = intCommitmentPin(ic.params);

  // A client's first keygen carries Π_IC; later ones rely on the pin (what keygen_ms measures).
  const first = keygen(
    createKeygenP1({ pid1, pid2, epoch: 0n, primeSource: nodePrimes, intCommitment: ic }),
    createKeygenP2({ pid1, pid2 }),
  );

  // Pinned keygens: the custodian on the server backend (the named figure), then all on BigInt.
  const keygens = (arith: ModArith | undefined): KeygenRun[] =>
    Array.from({ length: reps }, () =>
      keygen(
        createKeygenP1({
          pid1,
          pid2,
          epoch: 0n,
          primeSource: nodePrimes,
          intCommitment: ic,
          sendIcProof: false,
          ...(arith === undefined ? {} : { arith }),
        }),
        createKeygenP2({ pid1, pid2, icPin }),
      ),
    );
  const runs = keygens(server);
  const runsBigint = keygens(undefined);
  const paillier = Array.from({ length: reps }, () => timed(() => generatePaillierKey(nodePrimes))[1]);
  const last = runs[runs.length - 1];
  if (last === undefined) throw new Error('no runs');

  const client = decodeClientShare(last.shares.client);
  const sign = signing(decodeCustodianShare(last.shares.custodian, server), client, pid1, pid2, reps);
  const signBigint = signing(decodeCustodianShare(last.shares.custodian), client, pid1, pid2, reps);
  const kgMed = (rs: readonly KeygenRun[], f: (r: KeygenRun) => number): number => median(rs.map(f));

  return [
    {
      name: 'ecdsa.keygen_ms', json: true,
      value: median(runs.map((r) => r.total)),
      unit: 'ms',
      budget: '≤ 1500 ms',
      note: `median of ${reps}; fresh Paillier key included, Ñ pinned; custodian on OpenSSL, client on BigInt`,
    },
    { name: 'ecdsa.keygen_custodian_ms', value: kgMed(runs, (r) => r.custodian), unit: 'ms', note: 'P1 compute on OpenSSL, incl. the Paillier key' },
    { name: 'ecdsa.keygen_client_ms', value: kgMed(runs, (r) => r.client), unit: 'ms', note: 'P2 compute, BigInt' },
    {
      name: 'ecdsa.keygen_bigint_ms',
      value: kgMed(runsBigint, (r) => r.total),
      unit: 'ms',
      note: `both parties on BigInt: custodian ${kgMed(runsBigint, (r) => r.custodian).toFixed(0)} ms, client ${kgMed(runsBigint, (r) => r.client).toFixed(0)} ms`,
    },
    { name: 'ecdsa.paillier_keygen_ms', value: median(paillier), unit: 'ms', note: 'two 1024-bit primes from generatePrimeSync, CRT set-up' },
    { name: 'ecdsa.keygen_bytes', json: true, value: last.bytes, unit: 'bytes', note: 'K1–K4, both directions, Ñ pinned' },
    { name: 'ecdsa.keygen_first_bytes', value: first.bytes, unit: 'bytes', note: 'a client not yet pinned: K1 carries Π_IC' },
    { name: 'ecdsa.keygen_first_ms', value: first.total, unit: 'ms', note: 'one run, Π_IC verified inside K1' },
    { name: 'ecdsa.client_share_bytes', json: true, value: last.share, unit: 'bytes', budget: '≤ 8192 bytes' },
    {
      name: 'ecdsa.ic_params_ms', json: true,
      value: genMs + verifyMs,
      unit: 'ms',
      note: `one-time, once: generation + Π_IC ${genMs.toFixed(0)} ms (two safe primes; varies a lot), client check ${verifyMs.toFixed(0)} ms`,
    },
    ...sign.figures,
    {
      name: 'ecdsa.sign_bigint_ms',
      value: signBigint.total,
      unit: 'ms',
      note: `both parties on BigInt: presign ${signBigint.presign.toFixed(0)} ms`,
    },
    {
      name: 'ecdsa.sign_online_bigint_ms',
      value: signBigint.online,
      unit: 'ms',
      note: `both parties on BigInt: client ${signBigint.clientOnline.toFixed(1)} ms, custodian ${signBigint.custodianOnline.toFixed(1)} ms`,
    },
  ];
}

interface SignRun {
  readonly total: number;
  readonly presign: number;
  /** The custodian's compute inside presign (S0 → S1, S2 → S3). */
  readonly presignCustodian: number;
  /** The custodian's blinding residue, made after presign and ahead of S4. */
  readonly blind: number;
  readonly online: number;
  readonly clientOnline: number;
  readonly custodianOnline: number;
  readonly bytes: number;
}

/**
 * One signature on a fresh presignature, both parties in this process. The per-pair work (Q2, C′, the
 * g̃, h̃ tables) is done once beforehand, as §4 allows; the custodian's blinding residue is made inside
 * `total` but ahead of `online` (it does not depend on the message).
 */
function signOnce(
  signer: CustodianSigner,
  custodian: CustodianShare,
  client: ClientShare,
  pid1: Uint8Array,
  pid2: Uint8Array,
  i: number,
): SignRun {
  let bytes = 0;
  let presignCustodian = 0;
  const one = (ms: Uint8Array[]): Uint8Array => {
    const [m] = ms;
    if (m === undefined || ms.length !== 1) throw new Error('expected one message');
    bytes += m.length;
    return m;
  };
  const on1 = <T>(f: () => T): T => {
    const [out, ms] = timed(f);
    presignCustodian += ms;
    return out;
  };
  const digest = new Uint8Array(32).fill(i + 1);
  const request = { kind: 'raw', payload: new Uint8Array(), digest } as const;
  const t0 = performance.now();
  const p1 = on1(() => createPresignP1({ pair: custodian, pid1, pid2 }));
  const p2 = createPresignP2({ share: client, pid1, pid2 });
  const s0 = one(p2.start());
  on1(() => p1.start());
  const s1 = one(on1(() => p1.receive(s0)).messages);
  const s2 = one(p2.receive(s1).messages);
  const r2 = on1(() => p1.receive(s2));
  const s3 = one(r2.messages);
  const presignature = p2.receive(s3).result;
  if (presignature === undefined || r2.result === undefined) throw new Error('presign did not finish');
  const [, blind] = timed(() => signer.precompute(1));
  const t1 = performance.now();
  const s4 = one([presignature.sign(request)]);
  const t2 = performance.now();
  const out = signer.sign({ presignature: r2.result.secret, s4, checkRequest: (r) => r.digest });
  const t3 = performance.now();
  if (!out.ok) throw new Error(`signing failed: ${out.reason}`);
  checkSignatureAnswer(client.Q, digest, out.answer);
  return {
    total: t3 - t0,
    presign: t1 - t0 - blind,
    presignCustodian,
    blind,
    online: t3 - t1,
    clientOnline: t2 - t1,
    custodianOnline: t3 - t2,
    bytes,
  };
}

interface SignMedians {
  readonly total: number;
  readonly presign: number;
  readonly presignCustodian: number;
  readonly blind: number;
  readonly online: number;
  readonly clientOnline: number;
  readonly custodianOnline: number;
  readonly figures: Figure[];
}

function signing(custodian: CustodianShare, client: ClientShare, pid1: Uint8Array, pid2: Uint8Array, reps: number): SignMedians {
  const signer = new CustodianSigner(custodian);
  signer.precompute(0);
  signOnce(signer, custodian, client, pid1, pid2, 0); // warm-up: the g̃, h̃ tables (and OpenSSL's per-modulus contexts) are built on first use
  const runs = Array.from({ length: reps }, (_, i) => signOnce(signer, custodian, client, pid1, pid2, i + 1));
  const med = (f: (r: SignRun) => number) => median(runs.map(f));
  const last = runs[runs.length - 1];
  const m = {
    total: med((r) => r.total),
    presign: med((r) => r.presign),
    presignCustodian: med((r) => r.presignCustodian),
    blind: med((r) => r.blind),
    online: med((r) => r.online),
    clientOnline: med((r) => r.clientOnline),
    custodianOnline: med((r) => r.custodianOnline),
  };
  const figures: Figure[] = [
    {
      name: 'ecdsa.sign_ms', json: true,
      value: m.total,
      unit: 'ms',
      budget: '≤ 150 ms',
      note:
        `median of ${reps}; S0 to the verified signature, fresh presignature, custodian on OpenSSL, client on BigInt ` +
        `(presign ${m.presign.toFixed(0)} ms, of which custodian ${m.presignCustodian.toFixed(0)} ms; blinding ${m.blind.toFixed(1)} ms)`,
    },
    {
      name: 'ecdsa.sign_online_ms', json: true,
      value: m.online,
      unit: 'ms',
      budget: '≤ 25 ms',
      note: `S4 to the verified signature: client ${m.clientOnline.toFixed(1)} ms, custodian ${m.custodianOnline.toFixed(1)} ms (Π_sign check, Dec, ECDSA check)`,
    },
    {
      name: 'ecdsa.sign_bytes', json: true,
      value: last?.bytes ?? 0,
      unit: 'bytes',
      budget: '≤ 12288 bytes',
      note: 'S0–S4, both directions (the 65-byte answer not included)',
    },
  ];
  return { ...m, figures };
}
