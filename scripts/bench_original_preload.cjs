// Preloaded (`node --require`) into the Node/Express original of the blog's sample by
// scripts/bench_containers.py, so that the original runs unchanged against the bench's dynalite:
//
// * its server.js creates `new AWS.DynamoDB.DocumentClient()` with no endpoint, and aws-sdk v2
//   reads no endpoint from the environment, so the DynamoDB endpoint is set here, on the same
//   aws-sdk module the original loads (resolved from its own node_modules), before server.js runs;
// * its server.js listens on port 8080 on every address; the bench needs a free loopback port, so
//   the first listen() is redirected to BENCH_HOST:BENCH_PORT.
//
// Nothing else changes: region and credentials come from the environment, as in a task.
'use strict';

const http = require('http');
const path = require('path');

const endpoint = process.env.BENCH_DYNAMODB_ENDPOINT;
const port = Number(process.env.BENCH_PORT);
const host = process.env.BENCH_HOST || '127.0.0.1';
if (!endpoint || !port) {
  throw new Error('bench_original_preload: set BENCH_DYNAMODB_ENDPOINT and BENCH_PORT');
}

const AWS = require(require.resolve('aws-sdk', { paths: [process.cwd(), path.dirname(process.argv[1] || '.')] }));
AWS.config.update({ endpoint });

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  return callback ? listen.call(this, port, host, callback) : listen.call(this, port, host);
};
