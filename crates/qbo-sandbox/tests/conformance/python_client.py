"""Drives the sandbox with the published Python clients, unmodified: intuit-oauth (discovery,
authorization URL, code exchange, refresh, revoke) and python-quickbooks (POST queries, reads by
id, COUNT, CDC). Prints what it saw as JSON on the last line; any protocol mismatch raises.

Run by crates/qbo-sandbox/tests/published_clients.rs with the sandbox's addresses in the
environment (OAUTHLIB_INSECURE_TRANSPORT=1 lets requests-oauthlib use plain http)."""

import json
import os
import sys
import warnings
from urllib.parse import parse_qs, urlparse

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import AuthorizationException, ObjectNotFoundException
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

warnings.simplefilter("ignore")
env = os.environ
base = env["SANDBOX_URL"]

# intuit-oauth treats any environment other than sandbox/production as the discovery URL.
auth = AuthClient(env["CLIENT_ID"], env["CLIENT_SECRET"], env["REDIRECT_URI"], environment=env["DISCOVERY_URL"])
url = auth.get_authorization_url([Scopes.ACCOUNTING])
consent = requests.get(url, allow_redirects=False)
assert consent.status_code == 302, consent.status_code
callback = parse_qs(urlparse(consent.headers["Location"]).query)
assert callback["state"][0] == auth.state_token
realm = callback["realmId"][0]
auth.get_bearer_token(callback["code"][0], realm_id=realm)
first_refresh = auth.refresh_token
auth.refresh()
rotated = auth.refresh_token != first_refresh
try:
    auth.refresh(refresh_token=first_refresh)
    stale_refused = False
except AuthClientError as error:
    stale_refused = error.status_code == 400 and b"invalid_grant" in error.content

qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=realm, minorversion=75, use_decimal=True)
qb.api_url_v3 = base + "/v3"

active_customers = Customer.count("Active = true", qb=qb)
customer = Customer.get(env["CUSTOMER_ID"], qb=qb)
invoice = Invoice.get(1, qb=qb)
page = Invoice.where("TotalAmt >= '0'", order_by="Id", start_position=1, max_results=5, qb=qb)
items = Item.all(max_results=10, qb=qb)
company = CompanyInfo.get(realm, qb=qb)
try:
    Invoice.get(987654321, qb=qb)
    not_found = False
except ObjectNotFoundException as error:
    not_found = error.error_code == 610

cdc = change_data_capture([Customer, Invoice], env["CHANGED_SINCE"], qb=qb)
changes = {}
for name in ("Customer", "Invoice"):
    response = getattr(cdc, name, None)
    objects = response._object_list if response is not None else []
    changes[name] = sorted(
        [str(o.Id), getattr(o, "status", None) or "", str(getattr(o, "SyncToken", "") or "")] for o in objects
    )

auth.revoke(token=auth.refresh_token)
try:
    Customer.count(qb=qb)
    refused_after_revoke = False
except AuthorizationException:
    refused_after_revoke = True

print(json.dumps({
    "realm": realm,
    "refresh_rotated": rotated,
    "stale_refresh_refused": stale_refused,
    "active_customers": active_customers,
    "customer_name": customer.DisplayName,
    "invoice_total": str(invoice.TotalAmt),
    "invoice_page": [str(i.Id) for i in page],
    "items": len(items),
    "company_name": company.CompanyName,
    "not_found_is_610": not_found,
    "cdc": changes,
    "refused_after_revoke": refused_after_revoke,
}))
sys.stdout.flush()
