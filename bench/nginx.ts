// Debian's nginx serving a `nix copy --to file://` cache over loopback: the static HTTP binary cache a
// team would run instead of a Kubo gateway (the config of /work/shared/FACTS.md).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { work } from './measure';
import { freePort } from '../test/helpers/free-port';

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

export async function startNginx(cacheDir: string): Promise<Nginx> {
  const dir = path.join(work, `nginx-${Date.now()}`);
  mkdirSync(dir);
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes 2; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/err;
events {} http { access_log off; sendfile on; ${temp} server { listen 127.0.0.1:${port}; root ${cacheDir}; } }\n`,
  );
  const child = spawn('/usr/sbin/nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): see ${dir}/err`);
    if (
      await fetch(`${url}/nix-cache-info`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 100) throw new Error(`nginx did not answer within 5 s: see ${dir}/err`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}
