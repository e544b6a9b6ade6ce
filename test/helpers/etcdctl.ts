import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The real etcd client the API must satisfy: Debian's etcd-client 3.4 (.ci/run installs it). */
export const ETCDCTL_PATH = '/usr/bin/etcdctl';

/** Fails (never skips) when etcdctl is missing, saying how to get it. */
export function requireEtcdctl(): void {
  if (!existsSync(ETCDCTL_PATH)) {
    throw new Error(`etcdctl 3.4 is needed at ${ETCDCTL_PATH}: run "apt-get install -y etcd-client" (as .ci/run does)`);
  }
}

export interface EtcdctlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The "Error: ..." line etcdctl prints last on failure, or ''. */
  readonly error: string;
}

/** Runs etcdctl against one endpoint; `stdin` feeds interactive commands (txn) and values (put). */
export function etcdctl(endpoint: string, args: readonly string[], stdin = ''): Promise<EtcdctlResult> {
  const child = spawn(ETCDCTL_PATH, [`--endpoints=${endpoint}`, '--dial-timeout=2s', '--command-timeout=5s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      const error = stderr.split('\n').findLast((line) => line.startsWith('Error: ')) ?? '';
      resolve({ status, stdout, stderr, error });
    });
  });
}
