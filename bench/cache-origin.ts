// The origin behind both caches in bench/vs-nginx.sh: any path answers 200
// with --size bytes, Cache-Control: max-age=3600 and an ETag; /origin-stats
// answers how many requests it served. Loopback only.
//   node --import tsx bench/cache-origin.ts --port 9000 [--size 1024]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, size: { type: 'string', default: '1024' } } });
const body = Buffer.alloc(Number(values.size), 'w');
let served = 0;

createServer((request, response) => {
  if (request.url === '/origin-stats') {
    response.end(JSON.stringify({ served }));
    return;
  }
  served += 1;
  response.writeHead(200, {
    'content-type': 'text/plain',
    'cache-control': 'max-age=3600',
    etag: `"${request.url ?? ''}"`,
    'content-length': body.length,
  });
  response.end(body);
}).listen(Number(values.port), '127.0.0.1');
