/**
 * ECDSA-2PC Backup and Recover figures (issue 5), both parties in one process, as the keygen figures
 * of bench/ecdsa.ts are made: the custodian on the server's OpenSSL backend, the client on BigInt,
 * Node's generatePrimeSync for the fresh Paillier key Recover makes. Prints nothing, asserts nothing.
 *
 * - backup_ms: one whole B1–B4 run from a signing pair (median of `reps`).
 * - recover_ms: one whole R1–R4 run from a backup pair, the fresh Paillier key included (median of `reps`),
 *   with Ñ pinned, as after the client's first keygen.
 * - backup_bytes / recover_bytes: all four messages, both directions.
 *
 * The integer-commitment parameters are made once (two safe primes, slow and variable) unless the caller
 * passes the ones it already has (bench/ecdsa.ts makes a set too).
 *
 * @example
 * const { backup_ms, recover_ms, backup_bytes, recover_bytes } = await benchEcdsaReshare(5);
 */
import { generatePrimeSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createBackupP1, createBackupP2 } from '../src/mpc/backup.js';
import { intCommitmentPin, type IntCommitmentParams } from '../src/mpc/int-commitment.js';
import { createKeygenP1, createKeygenP2, type KeygenResult, type MpcParty } from '../src/mpc/keygen.js';
import { generateIntCommitmentParams, type IcProof } from '../src/mpc/pi-ic.js';
import type { PrimeSource } from '../src/mpc/primes.js';
import { createRecoverP1, createRecoverP2 } from '../src/mpc/recover.js';
import { derivePid } from '../src/mpc/session.js';
import { nativeArith } from '../src/server/native-arith.js';

const primes: PrimeSource = (bits, { safe }) => generatePrimeSync(bits, { safe, bigint: true });

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

interface Run {
  readonly ms: number;
  readonly bytes: number;
  readonly client: Uint8Array;
  readonly custodian: Uint8Array;
}

/** P1 starts; the parties alternate; both must end with the same public key. */
function run<R extends KeygenResult>(p1: MpcParty<R>, p2: MpcParty<R>): Run {
  let bytes = 0;
  const one = (ms: Uint8Array[]): Uint8Array => {
    const [m] = ms;
    if (m === undefined || ms.length !== 1) throw new Error('expected one message');
    bytes += m.length;
    return m;
  };
  const t0 = performance.now();
  const m1 = one(p1.start());
  p2.start();
  const m2 = one(p2.receive(m1).messages);
  const m3 = one(p1.receive(m2).messages);
  const r3 = p2.receive(m3);
  const r4 = p1.receive(one(r3.messages));
  const ms = performance.now() - t0;
  if (r3.result === undefined || r4.result === undefined || r3.result.publicKey !== r4.result.publicKey) {
    throw new Error('the parties did not agree');
  }
  return { ms, bytes, client: r3.result.share, custodian: r4.result.share };
}

export async function benchEcdsaReshare(
  reps: number,
  intCommitment?: { readonly params: IntCommitmentParams; readonly proof: IcProof },
): Promise<Record<string, number>> {
  const arith = nativeArith();
  const pid1 = derivePid(new TextEncoder().encode('bench custodian'));
  const pid2 = derivePid(new TextEncoder().encode('bench client'));
  const ic = intCommitment ?? generateIntCommitmentParams(primes);
  const icPin = intCommitmentPin(ic.params);

  const signing = run(
    createKeygenP1({ pid1, pid2, epoch: 0n, primeSource: primes, intCommitment: ic, sendIcProof: false, arith }),
    createKeygenP2({ pid1, pid2, icPin }),
  );
  const backups = Array.from({ length: reps }, () =>
    run(
      createBackupP1({ pid1, pid2, share: signing.custodian, method: 'PASSWORD', arith }),
      createBackupP2({ pid1, pid2, share: signing.client, method: 'PASSWORD' }),
    ),
  );
  const backup = backups[backups.length - 1];
  if (backup === undefined) throw new Error('no backup runs');
  const recovers = Array.from({ length: reps }, (_, i) =>
    run(
      createRecoverP1({
        pid1,
        pid2,
        share: backup.custodian,
        epoch: BigInt(i + 1),
        primeSource: primes,
        intCommitment: ic,
        sendIcProof: false,
        arith,
      }),
      createRecoverP2({ pid1, pid2, share: backup.client, icPin }),
    ),
  );
  await Promise.resolve();
  return {
    backup_ms: median(backups.map((r) => r.ms)),
    recover_ms: median(recovers.map((r) => r.ms)),
    backup_bytes: backup.bytes,
    recover_bytes: recovers[0]?.bytes ?? 0,
  };
}
