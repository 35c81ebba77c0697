'use strict';

// Reference Hawk client for interoperability tests.
// node sign.js header '{"uri": ..., "method": ..., "options": {...}}'   prints the Authorization header
// node sign.js www-authenticate '{"credentials": {...}, "header": ...}' prints the server time the client accepts

const Hawk = require('@hapi/hawk');

const [mode, json] = process.argv.slice(2);
const input = JSON.parse(json);

if (mode === 'header') {
    process.stdout.write(Hawk.client.header(input.uri, input.method, input.options).header);
}
else if (mode === 'www-authenticate') {
    const res = { headers: { 'www-authenticate': input.header } };
    const result = Hawk.client.authenticate(res, input.credentials, {}, {});
    process.stdout.write(String(result.headers['www-authenticate'].ts));
}
else {
    process.stderr.write('usage: node sign.js header|www-authenticate JSON\n');
    process.exit(2);
}
