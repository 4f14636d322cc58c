// Debian's nginx terminating TLS in front of a real Kubo RPC API, the way a team exposes a node to its
// machines; the certificate is made by openssl for this run, so only a client given it trusts it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { run } from './cli';
import { freePort } from './free-port';

export interface TlsProxy {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The self-signed certificate, for NODE_EXTRA_CA_CERTS. */
  certificate: string;
  /** Requests nginx passed on, from its access log. */
  requests(): Promise<string[]>;
}

/** Starts nginx on a free loopback port, forwarding to `upstream` (http://host:port); stopped after the test file. */
export async function startTlsProxy(upstream: string): Promise<TlsProxy> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nix-ipfs-tls-'));
  const certificate = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
    ...['-keyout', key, '-out', certificate, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  if (made.code !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  await writeFile(
    path.join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {} http { access_log ${dir}/access.log; ${temp}
  server {
    listen 127.0.0.1:${port} ssl; ssl_certificate ${certificate}; ssl_certificate_key ${key};
    client_max_body_size 0; proxy_request_buffering off; proxy_buffering off; proxy_http_version 1.1;
    location / { proxy_pass ${upstream}; }
  }
}\n`,
  );
  const nginx = spawn('/usr/sbin/nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  after(async () => {
    if (nginx.exitCode === null) await new Promise((resolve) => (nginx.once('exit', resolve), nginx.kill('SIGQUIT')));
    await rm(dir, { recursive: true, force: true });
  });
  const url = `https://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 50) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}): see ${dir}/error.log`);
    const answered = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-brief'], { input: '' });
    if (answered.code === 0) break;
    if (waited > 5000) throw new Error(`nginx did not take TLS connections within 5 s: ${answered.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    certificate,
    requests: async () => (await readFile(path.join(dir, 'access.log'), 'utf8')).split('\n').filter(Boolean),
  };
}
