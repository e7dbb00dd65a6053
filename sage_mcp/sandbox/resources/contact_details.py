"""``/addresses`` and ``/contact_persons`` (list, get, create, update, delete).

A contact's ``main_address``, ``delivery_address`` and ``main_contact_person`` (and a bank account's
``main_address``) live inside their owner's record; these collections show them together with the
extra addresses and people created here (kept in their own records), so the same id answers in both
places and a change made through either is seen by both.

* Every address belongs to exactly one contact (``contact_id``) or bank account (``bank_account_id``).
  Creating or updating an address with ``is_main_address: true`` makes it the contact's main address
  (the previous one stays as an extra address); a main address cannot be un-marked or deleted
  (422): promote another one instead.  A bank account has only its main address: a new one replaces
  it.
* A contact person belongs to an address of a contact (``address_id``, required, as in the spec).
  ``is_main_contact: true`` makes them the contact's main contact person (whose email is the
  contact's ``email``); the main contact person cannot be un-marked or deleted (422).  The main
  contact person inside a contact has no address of its own: it is shown with the contact's main
  address.
* ``contact_id`` / ``bank_account_id`` / ``address_id`` filter the lists; deleted extra records are
  kept for ``deleted_since``.  The owner cannot be changed by PUT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..context import Context, link, public
from ..errors import ErrorItem, Problems, invalid, not_found
from .base import Condition, Query
from .common import PERSON_TEXT_FIELDS, apply_person, blank, build_address, require
from .lifecycle import BookCollection

#: private key: where an address or person lives - (resource, owner id, field) or ("", contact id, "")
_HOME = "_home"


def _unprefixed(problems: Problems, prefix: str) -> Problems:
    """``problems`` with ``prefix.`` taken off every ``$source`` (for helpers that nest sources)."""
    result = Problems()
    for item in problems.items:
        source = item.source[len(prefix) + 1 :] if item.source.startswith(prefix + ".") else item.source
        result.items.append(ErrorItem(item.message, item.data_code, source, item.severity))
    return result


class _Embedded(BookCollection):
    """Records that live inside owners (contacts, bank accounts) or on their own."""

    def embedded(self, ctx: Context) -> list[dict[str, Any]]:
        raise NotImplementedError

    def stored(self, ctx: Context) -> list[dict[str, Any]]:
        contacts = ctx.by_id("contacts")
        result = []
        for record in ctx.store.all(ctx.business_id, self.name):
            if record[_HOME][1] in contacts:  # extras of a deleted contact disappear with it
                result.append(record)
        return result

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        found = self.embedded(ctx) + self.stored(ctx)
        return sorted(found, key=lambda r: (str(r.get("created_at") or ""), r["id"]))

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        for record in self.records(ctx):
            if record["id"] == key:
                return record
        raise not_found(f"The {self.label} {key!r} was not found.")

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        del ctx
        return [public(r) for r in records]

    # ------------------------------------------------------------------ storing

    def save(self, ctx: Context, record: dict[str, Any], *, new: bool) -> None:
        """Write a record back where it lives: into its owner, or as its own record."""
        resource, owner_id, field = record[_HOME]
        if resource:
            owner = ctx.get(resource, owner_id)
            assert owner is not None
            owner[field] = {k: v for k, v in record.items() if k != _HOME}
            owner["updated_at"] = ctx.now_iso
            self.after_owner_change(owner)
            ctx.put(resource, owner)
            ctx.forget(resource)
        elif new:
            ctx.store.insert(ctx.business_id, self.name, record)
        else:
            ctx.store.replace(ctx.business_id, self.name, record)

    def detach(self, ctx: Context, record: dict[str, Any]) -> None:
        """Take a record out of where it lives (its owner's field, or its own record)."""
        resource, owner_id, field = record[_HOME]
        if resource:
            owner = ctx.get(resource, owner_id)
            assert owner is not None
            owner[field] = None
            owner["updated_at"] = ctx.now_iso
            self.after_owner_change(owner)
            ctx.put(resource, owner)
            ctx.forget(resource)
        else:
            ctx.store.delete(ctx.business_id, self.name, record["id"])

    def after_owner_change(self, owner: dict[str, Any]) -> None:
        """Keep an owner's derived fields in step (a contact's ``email`` ...)."""

    def promote(self, ctx: Context, record: dict[str, Any], contact_id: str, field: str) -> None:
        """Make ``record`` the contact's ``field`` (main address / main person); the old one becomes an extra."""
        contact = ctx.get("contacts", contact_id)
        assert contact is not None
        previous = contact.get(field)
        if previous and previous["id"] != record["id"]:
            demoted = dict(previous)
            self.demote(demoted)
            demoted[_HOME] = ("", contact_id, "")
            ctx.store.insert(ctx.business_id, self.name, demoted)
        record[_HOME] = ("contacts", contact_id, field)

    def demote(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def bury(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        """Take the record out of where it lives and keep its tombstone."""
        self.detach(ctx, record)
        return self.keep_tombstone(ctx, record)


# ---------------------------------------------------------------------------------------------- addresses


class Addresses(_Embedded):
    name = "addresses"
    definition = "Address"
    root_key = "address"
    label = "address"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    link_filters: ClassVar[Mapping[str, str]] = {"contact_id": "contact", "bank_account_id": "bank_account"}

    def embedded(self, ctx: Context) -> list[dict[str, Any]]:
        result = []
        for contact in ctx.by_id("contacts").values():
            for field in ("main_address", "delivery_address"):
                if contact.get(field):
                    result.append({**contact[field], _HOME: ("contacts", contact["id"], field)})
        for bank in ctx.store.all(ctx.business_id, "bank_accounts"):
            if bank.get("main_address"):
                result.append({**bank["main_address"], _HOME: ("bank_accounts", bank["id"], "main_address")})
        return result

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        if blank(payload.get("name")):
            problems.add("name", "This field is required.")
        contact_id, bank_id = payload.get("contact_id"), payload.get("bank_account_id")
        contact = bank = None
        if blank(contact_id) == blank(bank_id):
            problems.add("contact_id", "give either contact_id or bank_account_id (an address has one owner)")
        elif not blank(contact_id):
            contact = ctx.get("contacts", str(contact_id))
            if contact is None:
                problems.add("contact_id", f"The contact {contact_id!r} was not found.")
        else:
            bank = ctx.get("bank_accounts", str(bank_id))
            if bank is None:
                problems.add("bank_account_id", f"The bank account {bank_id!r} was not found.")
            elif payload.get("is_main_address") is False:
                problems.add("is_main_address", "a bank account has only its main address")
        main = bool(payload.get("is_main_address"))
        address = self._build(ctx, problems, None, payload, is_main=main)
        problems.raise_if_any()
        if bank is not None:
            address["bank_account"] = link("bank_accounts", bank["id"], bank["displayed_as"])
            address["is_main_address"] = True
            old = bank.get("main_address")
            if old:
                self.keep_tombstone(ctx, {**old, _HOME: ("bank_accounts", bank["id"], "main_address")})
            address[_HOME] = ("bank_accounts", bank["id"], "main_address")
        else:
            assert contact is not None
            address["contact"] = link("contacts", contact["id"], contact["displayed_as"])
            if main:
                self.promote(ctx, address, contact["id"], "main_address")
            else:
                address[_HOME] = ("", contact["id"], "")
        self.save(ctx, address, new=True)
        return address

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        if "name" in payload and blank(payload["name"]):
            problems.add("name", "can't be blank")
        for parameter, field in (("contact_id", "contact"), ("bank_account_id", "bank_account")):
            wanted = payload.get(parameter)
            if not blank(wanted) and wanted != (record.get(field) or {}).get("id"):
                problems.add(parameter, "cannot be changed: an address keeps its owner")
        was_main = bool(record.get("is_main_address"))
        wants_main = payload.get("is_main_address")
        if was_main and wants_main is False:
            problems.add("is_main_address", "the main address cannot be un-marked: make another address the main one")
        address = self._build(ctx, problems, record, payload, is_main=was_main or wants_main is True)
        problems.raise_if_any()
        address[_HOME] = record[_HOME]
        if wants_main is True and not was_main and record.get("contact"):
            self.detach(ctx, record)
            self.promote(ctx, address, record["contact"]["id"], "main_address")
            self.save(ctx, address, new=True)
        else:
            self.save(ctx, address, new=False)
        return address

    def check_delete(self, ctx: Context, record: Mapping[str, Any]) -> None:
        del ctx
        if record.get("is_main_address") and record.get("contact"):
            raise invalid("base", "The main address of a contact cannot be deleted: make another address the main one.")

    def demote(self, record: dict[str, Any]) -> None:
        record["is_main_address"] = False

    def after_owner_change(self, owner: dict[str, Any]) -> None:
        if "contact_types" in owner:
            address = owner.get("main_address")
            owner["gb_based"] = not address or address.get("country", {}).get("id") == "GB"

    @staticmethod
    def _build(
        ctx: Context,
        problems: Problems,
        existing: Mapping[str, Any] | None,
        payload: Mapping[str, Any],
        *,
        is_main: bool,
    ) -> dict[str, Any]:
        nested = Problems()
        base = {k: v for k, v in existing.items() if k != _HOME} if existing else None
        address = build_address(
            ctx,
            nested,
            "address",
            payload,
            base,
            default_type="ACCOUNTS",
            is_main=is_main,
            owner=(existing or {}).get("contact"),
        )
        if existing and existing.get("bank_account"):
            address["bank_account"] = existing["bank_account"]
        for item in _unprefixed(nested, "address").items:
            problems.add(item.source, item.message)
        if not existing:
            address["bank_account"] = None
        return address


# ---------------------------------------------------------------------------------------------- people


class ContactPersons(_Embedded):
    name = "contact_persons"
    definition = "ContactPerson"
    root_key = "contact_person"
    label = "contact person"
    operations = frozenset({"list", "get", "create", "update", "delete"})

    def embedded(self, ctx: Context) -> list[dict[str, Any]]:
        result = []
        for contact in ctx.by_id("contacts").values():
            person = contact.get("main_contact_person")
            if person:
                shown = dict(person)
                main_address = contact.get("main_address")
                if shown.get("address") is None and main_address:
                    shown["address"] = link(
                        "addresses", main_address["id"], str(main_address.get("displayed_as") or "")
                    )
                result.append({**shown, _HOME: ("contacts", contact["id"], "main_contact_person")})
        return result

    link_filters: ClassVar[Mapping[str, str]] = {"address_id": "address"}

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        contact_id = (query.get("contact_id") or "").strip()
        if contact_id:
            result.append(Condition(lambda p: p[_HOME][1] == contact_id))
        return result

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        require(problems, payload, ("name", "contact_person_type_ids"), creating=True)
        person_id = ctx.new_id("contact_person")
        person: dict[str, Any] = {
            "id": person_id,
            "displayed_as": "",
            "$path": f"/contact_persons/{person_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "deleted_at": None,
            "contact_person_types": [],
            **dict.fromkeys(PERSON_TEXT_FIELDS),
            "is_main_contact": False,
            "address": None,
            "is_preferred_contact": False,
        }
        contact_id = self._address(ctx, problems, person, payload.get("address_id"), None)
        self._apply(problems, person, payload)
        problems.raise_if_any()
        assert contact_id is not None
        if payload.get("is_main_contact"):
            person["is_main_contact"] = True
            self.promote(ctx, person, contact_id, "main_contact_person")
        else:
            person[_HOME] = ("", contact_id, "")
        self.save(ctx, person, new=True)
        return person

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        require(problems, payload, ("name", "contact_person_type_ids"), creating=False)
        contact_id = record[_HOME][1]
        was_main = bool(record.get("is_main_contact"))
        wants_main = payload.get("is_main_contact")
        if was_main and wants_main is False:
            problems.add(
                "is_main_contact", "the main contact person cannot be un-marked: make another person the main one"
            )
        person = {k: v for k, v in record.items() if k != _HOME}
        if not blank(payload.get("address_id")):
            self._address(ctx, problems, person, payload["address_id"], contact_id)
        self._apply(problems, person, payload)
        problems.raise_if_any()
        person["updated_at"] = ctx.now_iso
        person[_HOME] = record[_HOME]
        if wants_main is True and not was_main:
            person["is_main_contact"] = True
            self.detach(ctx, record)
            self.promote(ctx, person, contact_id, "main_contact_person")
            self.save(ctx, person, new=True)
        else:
            self.save(ctx, person, new=False)
        return person

    def check_delete(self, ctx: Context, record: Mapping[str, Any]) -> None:
        del ctx
        if record.get("is_main_contact"):
            raise invalid("base", "The main contact person cannot be deleted: make another person the main one.")

    def demote(self, record: dict[str, Any]) -> None:
        record["is_main_contact"] = False

    def after_owner_change(self, owner: dict[str, Any]) -> None:
        person = owner.get("main_contact_person")
        owner["email"] = person.get("email") if person else None

    def _address(
        self, ctx: Context, problems: Problems, person: dict[str, Any], address_id: object, contact_id: str | None
    ) -> str | None:
        """Link the person to a contact's address; returns that contact's id."""
        if blank(address_id):
            problems.add("address_id", "This field is required.")
            return None
        address = next((a for a in Addresses().records(ctx) if a["id"] == address_id), None)
        owner = (address or {}).get("contact")
        if address is None or not owner:
            problems.add("address_id", f"The address {address_id!r} was not found among the contacts' addresses.")
            return None
        if contact_id is not None and owner["id"] != contact_id:
            problems.add("address_id", "must be an address of the same contact")
            return None
        person["address"] = link("addresses", address["id"], str(address.get("displayed_as") or ""))
        return str(owner["id"])

    @staticmethod
    def _apply(problems: Problems, person: dict[str, Any], payload: Mapping[str, Any]) -> None:
        apply_person(problems, person, payload)
        person["displayed_as"] = person.get("name") or ""
