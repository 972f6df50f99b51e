// Drives the sandbox with the published node-quickbooks client, unmodified: token refresh with
// rotation, fetchAll query paging (GET /query?query=select ... startposition/maxresults), a read
// by id, CDC and revocation. Prints what it saw as JSON; any error exits non-zero.
// Run by crates/qbo-sandbox/tests/published_clients.rs.

const QuickBooks = require('node-quickbooks');

const env = process.env;
const base = env.SANDBOX_URL;
QuickBooks.TOKEN_URL = `${base}/oauth2/v1/tokens/bearer`;
QuickBooks.REVOKE_URL = `${base}/v2/oauth2/tokens/revoke`;

const qbo = new QuickBooks(env.CLIENT_ID, env.CLIENT_SECRET, env.ACCESS_TOKEN, false, env.REALM_ID,
  false, false, 75, '2.0', env.REFRESH_TOKEN);
qbo.endpoint = `${base}/v3/company/`;

const call = (method, ...args) => new Promise((resolve, reject) => {
  method.call(qbo, ...args, (err, data) => (err ? reject(err) : resolve(data)));
});

(async () => {
  const before = qbo.refreshToken;
  await call(qbo.refreshAccessToken);
  const rotated = qbo.refreshToken !== before;
  const invoices = await call(qbo.findInvoices, [{ field: 'fetchAll', value: true }]);
  const customer = await call(qbo.getCustomer, env.CUSTOMER_ID);
  const cdc = await call(qbo.changeDataCapture, ['Invoice', 'Customer'], env.CHANGED_SINCE);
  const changes = {};
  for (const section of cdc.CDCResponse[0].QueryResponse) {
    for (const name of ['Invoice', 'Customer']) {
      if (section[name]) changes[name] = section[name].map((o) => [o.Id, o.status || '', o.SyncToken || '']).sort();
    }
  }
  await call(qbo.revokeAccess, true);
  console.log(JSON.stringify({
    refresh_rotated: rotated,
    revoked: qbo.refreshToken === null,
    invoices: invoices.QueryResponse.Invoice.length,
    invoice_ids_unique: new Set(invoices.QueryResponse.Invoice.map((i) => i.Id)).size,
    customer_name: customer.DisplayName,
    cdc: changes,
  }));
})().catch((err) => {
  const response = err && err.response;
  console.error(response ? `${response.status} ${JSON.stringify(response.data)}` : err);
  process.exit(1);
});
