// Container health probe without curl in the image: exits 0 when GET <url> answers 2xx.
// Usage: node http-ok.js http://127.0.0.1:3001/health/ready
'use strict';
const url = process.argv[2];
if (!url) {
  console.error('usage: node http-ok.js <url>');
  process.exit(2);
}
fetch(url, { signal: AbortSignal.timeout(4000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  (error) => {
    console.error(`${url}: ${error.message}`);
    process.exit(1);
  },
);
