// ipx (npm), a peer image proxy on sharp, serving the bench image from a directory: /w_720/photo.jpg.
// Usage: node ipx-server.mjs <port> <dir>
import { createServer } from 'node:http';
import { createIPX, createIPXNodeServer, ipxFSStorage } from 'ipx';

const [port, dir] = process.argv.slice(2);
const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
createServer(createIPXNodeServer(ipx)).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
