"""A local emulator of Sage Accounting's REST API v3.1, for the demo and every test.

Starlette + stdlib ``sqlite3``, served by uvicorn on 127.0.0.1.  It speaks Sage's OAuth 2.0 flow,
``/v3.1`` paths, list envelope, error array and ``X-Business`` rules, with seeded, deterministic
bookkeeping data (see :mod:`.seed`).  Use it as::

    from sage_mcp.sandbox import running_sandbox

    with running_sandbox() as sandbox:
        tokens = sandbox.mint_tokens()
        # GET f"{sandbox.api_url}/contacts" with "Authorization: Bearer <access_token>"

Emulated now: ``/businesses``, ``/businesses/{key}`` (``lead`` too), ``/user`` (GET, PUT);
``/contacts`` (list, get, create, update, delete); ``/sales_invoices`` (list, get, create, update,
void/delete, ``/release``); ``/ledger_accounts``, ``/tax_rates``, ``/transactions`` (list, get);
``/sales_credit_notes`` (as sales invoices); ``/sales_quotes``, ``/sales_estimates``,
``/contact_payments``, ``/contact_allocations`` (list, get, create, update, delete);
``/purchase_invoices``, ``/purchase_credit_notes`` (the same and ``/release``);
``/unallocated_artefacts`` (list, get) and ``GET /trial_balance`` of Sage's Reporting API (declared in
our spec supplement); and the banking, ledger, catalogue and settings resources listed below.
Sage's long tail too (:mod:`.resources.long_tail`): ``/stock_items``, ``/stock_movements``,
``/analysis_types``, ``/analysis_type_categories``, ``/contact_opening_balances``,
``/ledger_account_opening_balances``, ``/bank_opening_balances``, ``/opening_balance_journals``,
``/ledger_account_classifications``, ``/contact_opening_balance_types`` and ``/migration_tax_returns``.
Other spec paths answer 404 "not emulated yet"; unimplemented methods on emulated paths 405.
``SandboxServer.emulated_operations()`` lists every ``METHOD /template`` served; the demo passes it to the
MCP server in ``Settings.emulated_operations`` so ``find_sage_endpoint`` marks the rest (production code
never imports this package).

**Strict mode** (``SandboxConfig.strict``, on by default: the demo and every test) answers as real Sage
does where recorded responses and Sage's guides show it (``reference/sage-real-responses.md``, rows by
number; :mod:`.shapes` reshapes the answers).  Matched, each with a test named after its row
(``tests/sandbox/test_sandbox_real_sage.py``):

* row 1: an artefact line whose rate is not zero, exempt or no-tax must carry ``tax_amount`` (422
  ``invoice_lines.tax_amount``, the line named in the message); the sandbox never works VAT out for you;
* rows 2, 3, 4, 16, 17: ``/trial_balance``, ``GB_LOWER``, Sage's ledger account types, voids on the
  document's date, ``/unallocated_artefacts`` (below);
* row 5: documents dated inside a filed VAT return (the business's ``_vat_filed_to``; the demo's lead
  business has filed every quarter whose return was due by ``today``, :mod:`.seed_history`) answer
  ``tax_reconciled: true`` and ``editable: false``, and cannot be edited, voided or deleted (422 ``base``
  "This sales invoice has been VAT reconciled ... and cannot be voided."); so for other payments with VAT and
  journals with lines on the tax return.  **Unconfirmed** (Sage staff say such transactions cannot be
  edited; its guide speaks of correction transactions): the stricter reading, refusal, is kept.  New
  postings dated inside a filed period are accepted (they go on the next return);
* row 6: a contact's ``main_address``, ``delivery_address`` and ``main_contact_person`` and a bank
  account's ``main_address`` and ``main_contact_person`` are links unless ``nested_attributes`` names
  them (or is ``all``); a record expanded by ``nested_attributes`` keeps its own nested records as links;
* row 7: ``Contact.tax_number`` is validated (format only, not HMRC's check digits: UK/NI numbers are
  9 or 12 digits, ``GD``/``HA`` + 3, with or without ``GB``/``XI``; other countries their two-letter
  prefix and 2-13 letters or digits; spaces ignored);
* row 8: postings dated before the accounts start date are refused (422 ``date``) - invoices, credit
  notes, payments, journals, bank transfers, deposits, other payments; opening balances are dated on or
  before it;
* row 9: an unknown reference in a body is ``RecordInvalid`` "Couldn't find Supplier." (the model:
  ``Customer``, ``Supplier``, ``LedgerAccount``, ``TaxRate``, ``BankAccount`` ...) with an **empty**
  ``$source`` and no line number; an unknown record in the path is 404 ``RecordNotFound`` "Couldn't find
  record." with an empty ``$source``;
* row 10: money and other decimals as Sage writes them: ``"110.0"``, ``"0.0"``, ``"-430035.84"``,
  ``"20.0"`` (the Reporting API's ``/trial_balance`` keeps ``"444.00"`` and ``"0"``);
* row 11: an unset financial settings date is ``""`` (Moorside Cycle Works is not connected to MTD:
  ``mtd_authenticated_date: ""``), and products and services never switched off answer ``active: null``;
* row 12: bank accounts, products and services carry ``links`` (Sage's web pages);
* row 13: a 429 of the concurrency cap or an injected one has no ``Retry-After`` (**Unconfirmed**: Sage
  documents its 429 without headers; the stricter reading for clients); the rate window's 429 keeps one;
* rows 19 and 20: idempotency replays and ``IdempotencyResourceMismatch``; VAT return data from
  ``financial_settings``, documents' ``tax_reconciled`` and ``/migration_tax_returns``.

Not matched, on purpose: row 14 (the lock-down date refuses postings **on** it too: stricter, safe);
row 15 (undeclared body fields are a 422, where Sage drops them silently: stricter, and it tells a client
that sent a field Sage would have lost); row 18 (``$next`` keeps the request's query order with paging
last, cosmetic); row 12's ``product_sales_price_type`` link on prices (price types are not modelled, so
the link is ``null``); row 20's cash and flat rate schemes post like the standard scheme (see Financial
settings).  ``SandboxConfig(strict=False)`` restores the kinder behaviour (the seed writes with it).

Behaviour choices where Sage's documentation is silent or UNCONFIRMED (the stricter reading):

* **OAuth.** ``redirect_uri``: any loopback ``http://127.0.0.1[:port]/...`` or
  ``http://localhost[:port]/...`` URI is accepted (plus ``SandboxConfig.redirect_uris``); an unknown
  client or bad redirect URI gets a 400 page, never a redirect.  The authorize step auto-approves.
  Codes carry a region prefix like Sage's (``GB/...``), so clients must URL-decode the callback.
  Client authentication at ``/token`` and ``/revoke`` is **only** ``client_id``/``client_secret`` in
  the form body (HTTP Basic alone is refused with 401 ``invalid_client``).  Codes are single-use,
  live 60 s, and are spent by any exchange attempt, even a failed one.  A ``code_verifier`` is
  required iff a ``code_challenge`` was sent (sending one without a challenge is ``invalid_grant``).
* **Refresh rotation.** Every refresh returns a new refresh token; the presented one is rejected
  from then on with 400 ``invalid_grant``.  Access tokens already issued stay valid until they
  expire.  (``refresh_reuse_revokes_grant=True`` also revokes the whole login on reuse.)
* **Revoke.** Revoking a refresh token revokes the whole login: its rotated successors and every
  access token issued from it stop working at once.  Revoking an unknown token or an access token
  answers 200 and changes nothing.
* **Errors.** 401 ``AuthorizationFailure`` (missing, invalid, expired or revoked bearer token);
  403 ``MultiUserAccessDenied`` for writes with a ``readonly`` token; 404 ``RecordNotFound`` for
  unknown ids and unknown paths (same error array); 405 ``MethodNotAllowed`` (error array + ``Allow``);
  415 for a body that is not ``application/json``; 400 ``BadRequest`` for malformed JSON; 422
  ``RecordInvalid`` with ``$source`` = the field path inside the root object *without list
  indexes*, Sage's style (``invoice_lines.tax_rate_id``); the line number is in ``$message``
  ("... (invoice_lines item 2)"), except unknown references in strict mode (row 9 above).  A missing
  root key is ``$source`` = the root key.  All problems of a body are reported together.
* **Inaccessible business.** An ``X-Business`` that is unknown, malformed, or belongs to a business
  the user may not use answers **403** ``MultiUserAccessDenied`` with ``$source: "X-Business"``
  (the same for all three, so existence is not revealed).  Without ``X-Business`` the lead business
  is used.  ``X-Business`` is echoed on every response of a business-scoped endpoint.
* **Lists.** ``items_per_page`` above 200 (or below 1, or not a number) is a **422**, not clamped;
  a ``page`` past the end answers the last page.  ``$next``/``$back`` keep the request's query
  string verbatim, with ``page`` and ``items_per_page`` moved to the end.  ``GET /businesses`` is
  not paginated and uses ``$items_per_page`` (2147483647), as Sage's core API does.  Items are slim
  (``id``, ``displayed_as``, ``$path``) unless ``attributes`` is given; single GETs are full.
  Default orders: contacts by name; sales invoices newest first (date, then number, descending),
  and so every other artefact, payment and allocation;
  ledger accounts by nominal code; tax rates and transactions as created / by date.  Unknown query
  parameters are ignored; a bad ``sort`` is a 422.
* **Bodies.** Validated against the spec's body schema (numbers may be JSON numbers or decimal
  strings; ``null`` is allowed for optional fields) and **fields the spec does not declare are a
  422** (Sage would silently drop them, losing data).  ``idempotency_id`` inside the root object
  is honoured for POST and PUT (scoped to business and user): a repeat within 7 days replays the
  first successful answer; the same id on another resource is 422 ``IdempotencyResourceMismatch``.
* **Money.** Amounts are answered as decimal strings, as Sage writes them in strict mode (``"120.0"``,
  row 10), else with two decimals (``"120.00"``), quantities and percentages with at least two;
  invoice lines round half-up per line.
  Supplied ``net_amount``/``tax_amount``/``total_amount`` must equal the computed ones to the penny
  (422 otherwise); when absent they are computed.  A line without ``tax_rate_id`` takes its ledger
  account's default rate.
* **Sales invoices.** ``status_id`` on create may only be ``DRAFT`` or ``UNPAID``.  Voiding
  (``DELETE`` with ``void_reason``) answers 200 with the invoice (status ``VOID``); a draft is
  deleted (204) instead; voiding a void, paid or part-paid invoice is a 422 (``$source: base``).
  Contacts must be customers (422 ``$source: contact_id``, "can't find customer").  ``due_date``
  defaults to the date plus the contact's ``credit_days`` (30 when unset).  Numbers are ``SI-<n>``,
  sequential per business, drafts included.  A PUT may edit only DRAFT and UNPAID invoices and
  ``invoice_lines`` in it replaces every line; ``/release`` posts a draft (201).  Only GBP; shipping
  charges are refused (not modelled yet).  Every posted invoice, receipt and void is a balanced
  double entry (:mod:`.ledger`).
* **Contacts.** The contact's ``email`` comes from ``main_contact_person.email`` (the request schema
  has no top-level ``email``); ``balance`` is what a customer owes (open sales invoices less open
  sales credit notes less unallocated receipts) or what is owed to a supplier (open purchase invoices
  less open purchase credit notes less unallocated payments), so customers' balances add up to Trade
  Debtors (1100) and suppliers' to Trade Creditors (2100); a contact with artefacts, quotes,
  payments or allocations cannot be deleted (422).
* **Artefacts, payments, allocations** (``resources/artefacts.py``, ``settlement.py``,
  ``payments.py``; details in their docstrings).  Every artefact answer carries exactly the fields
  of its spec definition.  Credit notes, purchase invoices and purchase credit notes follow the
  sales invoice rules (create as ``DRAFT``/``UNPAID``, ``/release``, PUT only while ``DRAFT``/
  ``UNPAID``, lines replaced as a whole); purchase contacts must be suppliers ("can't find
  supplier"), purchase lines need ``quantity`` and an expenses account and have no discounts;
  ``DELETE`` voids sales credit notes (200, ``void_reason``) and deletes purchase artefacts (204);
  paid or part-paid artefacts can be neither.  Statuses ``UNPAID``/``PART_PAID``/``PAID`` and
  ``outstanding_amount``, ``total_paid``, ``last_paid`` follow from what is allocated (payment
  amounts plus discounts); a zero-total artefact is ``PAID`` when posted.  ``payments_allocations``
  is answered only with ``show_payments_allocations=true``.  Quotes and estimates: ``DRAFT``,
  ``PENDING`` (default), ``ACCEPTED``, ``DECLINED``, and ``INVOICED`` only by a sales invoice created
  with ``original_quote_estimate_id`` (same customer, not declined or invoiced); voiding or deleting
  that invoice makes the quote ``ACCEPTED`` again; an invoiced quote cannot be edited or deleted.
  Payments: ``allocated_artefacts`` amounts are positive, of the payment's contact only (422
  otherwise), at most the outstanding amount (with the discount), on unpaid or part-paid artefacts
  only ("You can only pay unpaid or part-paid invoices."); receipts go to sales invoices, supplier
  payments to purchase invoices, refunds to credit notes or payments on account and must be
  allocated in full; an excess becomes a payment on account (id and ``$path`` under
  ``/unallocated_artefacts``; refused on Accounting Start); discounts post to
  4009 Discounts Allowed / 5009 Discounts Taken; no cash-accounting VAT (``tax_amount`` must be 0).
  ``bank_account_id`` is a ``/bank_accounts`` record, or a ``BANK`` ledger account while the
  business has no bank account records.  Allocations: invoices positive, credit notes and payments
  on account negative, summing to zero; they post a debit and a credit of the same control account.
  A payment whose payment on account was used cannot be changed or deleted.  Deleting a payment,
  allocation or purchase artefact un-allocates and posts the mirror entries on the original date
  (so every date's entries still balance); voiding a sales invoice or sales credit note also posts
  the mirror entries on the document's own date, as Sage removes a voided document's values from the
  accounts: no period's balances, P&L or VAT still include it.
  The lock-down date refuses postings, changes and deletes dated on or before it.
* **Banking, journals, ledger, catalogue, attachments, settings** (``resources/banking.py``,
  ``other_payments.py``, ``journals.py``, ``ledger_accounts.py``, ``ledger_entries.py``,
  ``products.py``, ``contact_details.py``, ``attachments.py``, ``settings.py``, ``reference.py``;
  each module's docstring has the details).  Served: ``/bank_accounts``, ``/bank_transfers``,
  ``/other_payments``, ``/journal_codes``, ``/products``, ``/services``, ``/addresses``,
  ``/contact_persons``, ``/attachments`` (all five operations); ``/bank_deposits`` (no PUT);
  ``/bank_reconciliations`` (no DELETE); ``/journals`` (no PUT; ``/reissue``); ``/ledger_accounts``
  (POST, PUT too); ``/tax_profiles`` (PUT too); ``/ledger_entries``; the singletons
  ``/financial_settings``, ``/invoice_settings``, ``/business_settings`` (GET, PUT on the path
  itself); reference lists (``/contact_types``, ``/countries``, ``/currencies``, ``/exchange_rates``,
  ``/artefact_statuses``, ``/payment_methods``, ``/transaction_types`` ...).  Choices: a bank account
  owns its ledger account (its ``balance`` is that account's debits minus credits); a bank deposit
  must come from a ``CASH_IN_HAND`` account; ``bank_account_id`` is required on other payments;
  journal lines have exactly one non-zero side and the journal must balance (422
  ``journal_lines``); deletes of transfers, deposits, other payments and journals post the mirror
  entries on the original date (their ledger entries then show ``deleted: true``) and keep a
  tombstone; ``show_balance_details`` requires ``from_date`` and ``to_date`` and gives the window's
  debits, credits and their difference; ``year_end_lockdown_date`` refuses postings on or before it;
  attachment ``file`` is base64 of at most 2,621,440 bytes (422 ``file``), only pdf/jpeg/png/gif,
  downloaded from ``/attachments/{key}/file`` only with ``Accept: application/octet-stream`` (else
  406); ``idempotency_id`` is honoured only on Sage's 37 listed resources (ignored on attachments
  and settings).  Attachment context type ids, bank reconciliation statuses, tax schemes and
  journal code types are the sandbox's own Sage-like choices (the spec enumerates none).
* **Query semantics for every collection** (:mod:`.resources.base`, :mod:`.listing`).
  ``updated_or_created_since`` is inclusive (on ``updated_at``, else ``created_at``);
  ``deleted_since`` is **not** inclusive and lists tombstones (on ``deleted_at``) instead of live
  records, the other filters still applying: deleting keeps the record under ``<name>~deleted``
  (``Collection.bury``), so get and list no longer see it; a collection that never deletes answers an
  empty list.  ``from_date``/``to_date`` are inclusive bounds on the collection's ``date_field`` and
  ignored where a collection has none; an unparseable date or time is a 422 naming the parameter.
  ``sort`` is ignored on collections without sort fields (as other unknown parameters).
  ``attributes`` also takes dotted names (``invoice_lines.description``: only that field, plus the
  base fields, of each nested object; the sandbox's extension, Sage documents none); unknown names are
  ignored.  ``nested_attributes`` (``all`` or names, ``a.b`` inside ``a``) replaces pure links
  (``{id, displayed_as, $path}``) to records of emulated collections by their full object, one level
  deep, on list and single GETs; links to other paths stay links.  Lists of artefacts, contacts,
  payments, allocations and transactions are filtered, counted, sorted and paged in SQL over an
  index of each record (:mod:`.store`), decoding only the page, whenever every filter of the request
  has an SQL form (``has_attachments``, ``email``, ``bank_account_id``, ``updated_from_date``/
  ``updated_to_date`` and sorts on ``due_date``/``expiry_date`` have none: such requests decode every
  record, as other collections always do); both ways give the same answers.
* **Limits** (:mod:`.faults`; ``SandboxConfig`` fields, changeable on a running sandbox through
  ``SandboxServer.faults``).  At most ``max_concurrent_requests`` (150, Sage's per-app figure)
  ``/v3.1`` requests are in flight; one more is answered at once with **429** ``TooManyRequests``,
  without ``Retry-After`` in strict mode (row 13), else ``Retry-After: 1`` (``retry_after``).
  ``rate_limit=(N, W)``: at most N ``/v3.1`` requests are
  admitted per sliding W seconds of the sandbox clock (off by default; Sage's documented daily figure
  is ``(1_296_000, 86_400)``); beyond, 429 ``TooManyRequests`` with ``Retry-After`` = the seconds
  until a slot frees; refused requests do not use up the window.  ``/token`` and ``/revoke`` are not
  limited.
* **Faults** (off by default; for tests and chaos runs).  By rate, drawn from an RNG seeded with
  ``fault_seed`` (five draws per ``/v3.1`` request, so the same requests in the same order give the
  same faults), or scripted for the next N requests matching a method and path prefix:
  429 ``TooManyRequests`` and 503 ``ServiceUnavailable`` (error array + ``Retry-After``; nothing is
  done); a dropped connection (closed without any response; nothing is done); commit-then-500 (the
  request is carried out and committed, then answered 500 ``UnexpectedError``: a retry with the same
  ``idempotency_id`` replays the created record); commit-then-drop and commit-then-late (scripted only:
  committed, then the connection is closed, or the normal answer is held ``late_answer_delay`` seconds,
  longer than a client's timeout).  Latency (fixed +
  seeded jitter) holds admitted requests, in flight.  Every request is counted by
  ``(METHOD, path)`` on arrival (``SandboxServer.counters``), refused and faulted ones included, and
  by ``(METHOD, path, status)`` once answered (``status_counters``; 0 = dropped).
* **What reports read** (``resources/reports.py``; exact shapes in its docstring).  ``GET /trial_balance
  ?from_date&to_date`` (both required; plain dates): ``{from_date, to_date, ledger_accounts: [{id,
  displayed_as, $path, nominal_code, opening_balance: {debit, credit}, debit, credit, closing_balance:
  {debit, credit}}], totals: {...}}``, Sage's published shape; ``nominal_code`` and ``totals`` are sandbox
  extensions (not in Sage's example); amounts are strings, zero ``"0"``; balances net on one side;
  entries of voided and deleted transactions left out; one row per account with a balance or a movement.
  ``/unallocated_artefacts``: payments on account and open sales/purchase credit notes with something
  unallocated, filters ``contact_id`` and ``search``, paged; with ``attributes`` each carries
  ``transaction_type`` (``CUSTOMER_RECEIPT``/``VENDOR_PAYMENT``/``SALES_CREDIT_NOTE``/
  ``PURCHASE_CREDIT_NOTE``), ``contact``, ``date``, ``total_amount``, ``outstanding_amount`` ...
  Ledger balances for a period: ``/ledger_accounts?show_balance_details=true&from_date&to_date``
  (``balance_details``: ``debits``, ``credits``, ``balance`` = their difference on ``credit_or_debit``'s
  side; add ``exclude_deleted_entries=true`` for the trial balance's exact period columns).
* **Financial settings** (``GET /financial_settings``, per business; ``resources/settings.py``).  Every
  business: ``year_end_date`` = the first 31 March on or after the seed's ``today``;
  ``accounts_start_date`` = the business's creation date (420, 410 and 400 days before ``today``);
  ``base_currency`` ``{"id": "GBP"}``; ``tax_return_frequency`` ``QUARTERLY`` (from its VAT tax profile,
  ``None`` when not registered); ``year_end_lockdown_date`` ``None``.  Per business:
  Hartley & Finch Ltd: ``accounting_type`` ``accrual``, ``tax_scheme`` ``STANDARD``,
  ``sales_tax_calculation``/``purchase_tax_calculation`` ``invoice``, ``flat_rate_tax_percentage``
  ``None``; Fern Studio: ``accrual``, ``CASH`` (VAT cash accounting), both calculations ``cash``,
  ``None``; Moorside Cycle Works: ``accrual``, ``FLAT_RATE_INVOICE``, ``invoice``, ``"10.00"``, not
  connected to MTD (``mtd_connected`` false, ``mtd_authenticated_date`` unset).  Tax scheme
  ids (``/tax_schemes``): ``STANDARD``, ``CASH``, ``FLAT_RATE_INVOICE``, ``FLAT_RATE_CASH``,
  ``NOT_REGISTERED`` (the sandbox's own, Sage-like; the spec lists none).  Postings do not depend on the
  scheme: invoices post their VAT to 2200/2201 at invoice date under every scheme, and payments carry no
  VAT, so a cash accounting or flat rate return is worked out from documents and allocations.  Tax
  rates: ``GB_STANDARD`` "Standard 20.00%", ``GB_LOWER`` "Lower Rate 5.00%", ``GB_ZERO`` "Zero Rated
  0.00%", ``GB_EXEMPT`` "Exempt 0.00%", ``GB_NO_TAX`` "No VAT" (Sage's recorded ids and names).  Ledger
  account types are Sage's (``reference_data.py``): overheads are ``OVERHEADS``, 8000 ``DEPRECIATION``,
  3200 Retained Earnings ``EQUITY`` (no current-year earnings account: that is a report line), VAT
  control accounts 2200/2201/2202 ``CURRENT_LIABILITY`` (the sandbox's choice; ``TAXES``, ``SPECIAL``,
  ``FUTURE_ASSETS`` and ``LINE_OF_CREDIT`` are listed but no seeded account uses them).
* **Conformance recorder** (:mod:`.conformance`; ``SandboxConfig.conformance`` or the environment
  variable ``SAGE_SANDBOX_CONFORMANCE=1``, which the test suite sets).  Every ``/v3.1`` answer is
  checked: 2xx bodies against the operation's response definition (list items one by one, numbers
  may be decimal strings, fields left out by ``attributes`` are not required), other bodies against
  Sage's error array.  Violations are recorded on the sandbox (``SandboxServer.violations``) and in
  ``conformance.VIOLATIONS``; the test run fails if any was recorded.
* **Big books** (:mod:`.bigbooks`, ``sage-mcp sandbox seed``).  A file with the demo data plus the
  lead business grown to N contacts and M sales invoices (1-4 lines, over two years; drafts, voids,
  paid, part paid and unpaid, with receipts), made by the same collection and posting code as the
  API but written in batches; it is marked as seeded, so serving it never reseeds it.  A file written
  by a sandbox whose list index differs (``index_version``) has its index rebuilt when it is opened.
"""

from __future__ import annotations

from .app import create_app
from .config import (
    FOREIGN_BUSINESS_ID,
    LEAD_BUSINESS_ID,
    SANDBOX_USER_ID,
    SECOND_BUSINESS_ID,
    THIRD_BUSINESS_ID,
    SandboxConfig,
)
from .server import SandboxServer, running_sandbox, serve
from .state import Sandbox

__all__ = [
    "FOREIGN_BUSINESS_ID",
    "LEAD_BUSINESS_ID",
    "SANDBOX_USER_ID",
    "SECOND_BUSINESS_ID",
    "THIRD_BUSINESS_ID",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "create_app",
    "running_sandbox",
    "serve",
]
