import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nginx on a loopback port, serving `root` as agent/examples/nginx-origin.conf does. */
export interface TestNginx {
  readonly base: string;
  close(): Promise<void>;
}

export const hasNginx = (): boolean => spawnSync('sh', ['-c', 'command -v nginx']).status === 0;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const answers = async (base: string, deadline: number): Promise<void> => {
  for (;;) {
    try {
      await fetch(`${base}/`);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
};

export const startNginx = async (root: string): Promise<TestNginx> => {
  const prefix = await mkdtemp(join(tmpdir(), 'gsm-nginx-'));
  await mkdir(join(prefix, 'logs'));
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    sendfile on;
    tcp_nopush on;
    location ~ /\\. { return 404; }
    location /packages/ {
      add_header Accept-Ranges bytes always;
      add_header Cache-Control "public, max-age=31536000, immutable" always;
      types { }
      default_type application/octet-stream;
    }
    location / { return 404; }
  }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await answers(base, Date.now() + 5000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${stderr}`, { cause: error });
  }
  return {
    base,
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
};
