"""The field catalogue: what targeting criteria may test, per target kind.

Every field is computed for every target by `redlane.targeting.features` from the stored
record and the store's history (party first seen, seals on the same voyage, value norms), so a
criterion reads the same facts in a batch of a million and in a single record scored alone.
The catalogue is the whitelist the criteria validator checks names and types against, and the
source of the field table in `docs/criteria.md` (kept in sync by a test).

Protected attributes (ethnicity, religion and the like) are not in the model and never in the
catalogue; nationality is, but no criterion may rest on it alone (see `criteria`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["string", "integer", "number", "boolean", "date", "list"]
TargetKind = Literal["consignment", "traveller", "movement"]
TARGET_KINDS: tuple[TargetKind, ...] = ("consignment", "traveller", "movement")


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    description: str


def _fields(*rows: tuple[str, FieldType, str]) -> dict[str, Field]:
    return {name: Field(name, kind, text) for name, kind, text in rows}


# Fields every target has: where and when it is controlled.
_COMMON: tuple[tuple[str, FieldType, str], ...] = (
    ("office", "string", "Customs office, airport or border post that controls the target."),
    ("day", "date", "Day of arrival (consignments, movements) or of the arriving flight."),
)

CONSIGNMENT = _fields(
    *_COMMON,
    ("mode", "string", "Transport mode: sea, air, road, rail, post."),
    ("document_kind", "string", "bill_of_lading, air_waybill, cmr, house_..., postal_item."),
    ("awb_check_digit_valid", "boolean", "Air waybill mod-7 check digit; null for others."),
    ("origin_country", "string", "Country of origin of the goods (ISO 3166 alpha-2)."),
    ("destination_country", "string", "Country of destination (ISO 3166 alpha-2)."),
    ("place_of_loading", "string", "UN/LOCODE where the goods were loaded."),
    ("loading_country", "string", "Country of the place of loading."),
    ("place_of_discharge", "string", "UN/LOCODE where the goods are discharged."),
    ("place_of_delivery", "string", "UN/LOCODE of final delivery, where declared."),
    ("transshipment_places", "list", "UN/LOCODEs where the goods were transshipped."),
    ("transshipment_count", "integer", "Number of transshipments."),
    ("route_countries", "list", "Countries of loading, transshipment and routing."),
    ("hs_codes", "list", "HS codes of all goods items."),
    ("hs6", "string", "HS subheading (6 digits) of the first goods item."),
    ("hs4", "string", "HS heading (4 digits) of the first goods item."),
    ("goods_description", "string", "Description of the first goods item, lower case."),
    ("goods_count", "integer", "Number of goods items."),
    ("total_packages", "integer", "Packages over all goods items."),
    ("total_gross_mass_kg", "number", "Gross mass over all goods items, kg."),
    ("total_value", "number", "Declared value over all goods items."),
    ("value_per_kg", "number", "Declared value per kg of gross mass."),
    (
        "value_per_kg_ratio",
        "number",
        "Value per kg over the stored median for the same HS subheading (1 = typical).",
    ),
    ("container_count", "integer", "Number of containers (equipment)."),
    ("reefer", "boolean", "At least one refrigerated container."),
    (
        "container_check_digit_valid",
        "boolean",
        "All container numbers pass the ISO 6346 check digit; null without containers.",
    ),
    (
        "seal_mismatch",
        "boolean",
        "A container of this document appears on another document of the same voyage with "
        "other seals.",
    ),
    (
        "terminal_seal_mismatch",
        "boolean",
        "A terminal report or bay plan (COARRI, BAPLIE) gives a container of this document "
        "other seals than the document does.",
    ),
    ("freight_terms", "string", "prepaid, collect or unknown."),
    ("freight_amount", "number", "Freight charged, where known."),
    ("freight_to_value", "number", "Freight over declared value."),
    (
        "freight_paid_by_third_party",
        "boolean",
        "Freight is paid by a party that plays no other role on the document.",
    ),
    ("consignee_name", "string", "Consignee name, lower case."),
    ("consignee_country", "string", "Consignee country."),
    ("consignee_is_person", "boolean", "The consignee is a private person."),
    ("consignee_has_eori", "boolean", "The consignee gives an EORI number."),
    (
        "consignee_prior_documents",
        "integer",
        "Documents naming this consignee stored before this one's day.",
    ),
    (
        "consignee_first_seen_days",
        "integer",
        "Days since the consignee was first seen; 0 when never seen before.",
    ),
    ("consignor_country", "string", "Consignor (shipper) country."),
    ("consignor_is_person", "boolean", "The consignor is a private person (walk-in shipper)."),
    (
        "consignor_prior_documents",
        "integer",
        "Documents naming this consignor stored before this one's day.",
    ),
    (
        "days_declared_before_arrival",
        "integer",
        "Days between the declaration and the arrival.",
    ),
    (
        "ais_gap_hours",
        "number",
        "Longest AIS gap (12 h or more without a position) of the vessel the goods travel on, "
        "matched by MMSI or IMO, in the 30 days before arrival; 0 without one; null off sea "
        "voyages.",
    ),
    (
        "ais_encounter_count",
        "integer",
        "Encounters (another vessel within 500 m for 2 h or more, both below 2 kn, away from "
        "ports) of the vessel the goods travel on in the 30 days before arrival.",
    ),
    (
        "ais_loitering_hours",
        "number",
        "Hours the conveyance loitered (below 2 kn, 20 nm or more from any port) in the 30 "
        "days before arrival.",
    ),
    (
        "ais_undeclared_port_calls",
        "integer",
        "Port calls of the vessel the goods travel on in the 30 days before arrival at no port "
        "of the declared itinerary (none within 10 km of one).",
    ),
)

TRAVELLER = _fields(
    *_COMMON,
    ("role", "string", "passenger or crew."),
    (
        "nationality",
        "string",
        "Nationality (ISO 3166). Never a criterion on its own: a profile must combine it.",
    ),
    (
        "document_country",
        "string",
        "Issuing country of the travel document. Never a criterion on its own.",
    ),
    ("document_kind", "string", "passport, id_card, residence_permit, visa, seaman_book."),
    ("mrz_valid", "boolean", "The MRZ check digits are right; null without an MRZ."),
    ("arrival_place", "string", "UN/LOCODE where the traveller arrives (the flight's arrival)."),
    ("departure_place", "string", "UN/LOCODE the arriving flight departed from."),
    ("origin", "string", "UN/LOCODE where the journey started (first leg)."),
    ("origin_country", "string", "Country where the journey started."),
    ("route_places", "list", "UN/LOCODEs of the journey up to arrival."),
    ("route_countries", "list", "Countries of the journey up to arrival."),
    ("transit_count", "integer", "Connections before the arriving flight."),
    ("booked", "boolean", "Booking (PNR) facts are present."),
    (
        "booking_hours_before_departure",
        "number",
        "Hours between booking and the first departure.",
    ),
    ("payment_form", "string", "cash, card, invoice, voucher, miles or unknown."),
    ("paid_by_third_party", "boolean", "The ticket was paid by somebody else."),
    ("one_way", "boolean", "No return booked."),
    ("stay_days", "number", "Days between arrival and the booked return; null if one-way."),
    ("checked_bags", "integer", "Checked bags."),
    ("party_size", "integer", "Travellers on the booking."),
    ("travel_agency", "string", "Booking agency, where known."),
    (
        "document_prior_trips",
        "integer",
        "Arrivals stored for the same travel document before this one's day.",
    ),
)

MOVEMENT = _fields(
    *_COMMON,
    ("conveyance_kind", "string", "vessel, aircraft, yacht, truck or train."),
    ("flag", "string", "Flag state (vessels, yachts) or registration country."),
    ("imo_valid", "boolean", "The IMO number passes its check digit; null without one."),
    ("mmsi_valid", "boolean", "The MMSI is well formed; null without one."),
    ("arrival_place", "string", "UN/LOCODE where the movement enters our territory."),
    ("departure_place", "string", "UN/LOCODE of the first call."),
    ("departure_country", "string", "Country of the first call."),
    ("call_places", "list", "UN/LOCODEs of all calls."),
    ("call_countries", "list", "Countries of all calls."),
    ("call_count", "integer", "Number of calls in the itinerary."),
    ("persons_on_board", "integer", "Persons on board (crew and passengers), where reported."),
    ("owned_days", "integer", "Days between the acquisition of the conveyance and arrival."),
    ("operator_name", "string", "Operator (haulier, carrier), lower case."),
    (
        "operator_prior_movements",
        "integer",
        "Movements of the same operator stored before this one's day.",
    ),
    ("plate", "string", "Registration plate of the tractor or vehicle."),
    ("plate_country", "string", "Country of that plate."),
    (
        "plate_prior_crossings_30d",
        "integer",
        "Crossings of the same plate stored in the 30 days before this one's day.",
    ),
    ("cargo_documents", "integer", "Transport documents that travel on this movement."),
    ("cargo_hs_codes", "list", "HS codes of the goods on those documents."),
    ("cargo_value", "number", "Declared value of the cargo."),
    ("cargo_gross_mass_kg", "number", "Gross mass of the cargo, kg."),
    (
        "cargo_value_per_kg_ratio",
        "number",
        "Cargo value per kg over the stored median for its first HS subheading.",
    ),
    (
        "ais_gap_hours",
        "number",
        "Longest AIS gap (12 h or more without a position) of the conveyance, matched by MMSI "
        "or IMO, in the 30 days before arrival; 0 without one; null for aircraft, trucks and "
        "trains.",
    ),
    (
        "ais_encounter_count",
        "integer",
        "Encounters (another vessel within 500 m for 2 h or more, both below 2 kn, away from "
        "ports) of the conveyance in the 30 days before arrival.",
    ),
    (
        "ais_loitering_hours",
        "number",
        "Hours the conveyance loitered (below 2 kn, 20 nm or more from any port) in the 30 "
        "days before arrival.",
    ),
    (
        "ais_undeclared_port_calls",
        "integer",
        "Port calls of the conveyance in the 30 days before arrival at no port of the declared "
        "itinerary (none within 10 km of one).",
    ),
)

CATALOGUE: dict[TargetKind, dict[str, Field]] = {
    "consignment": CONSIGNMENT,
    "traveller": TRAVELLER,
    "movement": MOVEMENT,
}

# --- fields from the watchlist: entries of active CIS alerts and mode notices ----------------

_ALERT_FIELDS: tuple[tuple[str, FieldType, str], ...] = (
    (
        "alert_action",
        "string",
        "Suggested action of the alert or notice the target matches (discreet_surveillance "
        "first, then specific_check, sighting_and_reporting, the analyses); null when none.",
    ),
    ("alert_ref", "string", "Message id of that alert or notice: the reasons cite it."),
    ("alert_refs", "list", "Message ids of every active alert or notice the target matches."),
)

#: Fields computed from the watchlist on the target's day (`redlane.exchange.watchlist`).
WATCHLIST_FIELDS: dict[TargetKind, dict[str, Field]] = {
    "consignment": _fields(
        (
            "vessel_on_alert",
            "boolean",
            "The vessel or yacht of its movement is on an active alert or notice (IMO, MMSI, "
            "call sign or name).",
        ),
        (
            "container_on_alert",
            "boolean",
            "One of its containers is on an active alert or notice.",
        ),
        (
            "party_on_alert",
            "boolean",
            "Its consignor, consignee, notify party or carrier, or the operator of its movement, "
            "is on an active alert or notice (normalised name).",
        ),
        (
            "vehicle_on_alert",
            "boolean",
            "A tractor or trailer plate of its movement is on an active alert or notice.",
        ),
        *_ALERT_FIELDS,
    ),
    "traveller": _fields(
        (
            "traveller_on_alert",
            "boolean",
            "The traveller is on an active alert or notice: by name and date of birth, or by "
            "travel document number.",
        ),
        *_ALERT_FIELDS,
    ),
    "movement": _fields(
        (
            "vessel_on_alert",
            "boolean",
            "The vessel or yacht is on an active alert or notice (IMO, MMSI, call sign or name).",
        ),
        (
            "party_on_alert",
            "boolean",
            "The operator (haulier, carrier) is on an active alert or notice (normalised name).",
        ),
        (
            "vehicle_on_alert",
            "boolean",
            "The tractor's or a trailer's plate is on an active alert or notice.",
        ),
        *_ALERT_FIELDS,
    ),
}
for _kind, _watched in WATCHLIST_FIELDS.items():
    CATALOGUE[_kind].update(_watched)

#: Watchlist fields a selection's reasons carry, so an officer sees which message asked.
CITED_FIELDS = ("alert_ref", "alert_action", "alert_refs")

#: Fields that may be part of a criterion but never carry it alone.
NATIONALITY_FIELDS = frozenset({"nationality", "document_country"})

#: Attributes that are never a targeting field, whatever a profile or a future model says.
PROTECTED_ATTRIBUTES = frozenset(
    {
        "ethnicity", "ethnic_origin", "race", "religion", "religious_belief", "sex", "gender",
        "sexual_orientation", "political_opinion", "trade_union", "health", "disability",
        "date_of_birth", "age", "surname", "given_names", "skin", "colour", "language",
    }
)  # fmt: skip


def catalogue_markdown() -> str:
    """The catalogue as Markdown tables, one per target kind (the docs embed this)."""
    parts = []
    for kind in TARGET_KINDS:
        parts.append(f"### {kind}\n\n| field | type | meaning |\n|---|---|---|")
        parts.extend(
            f"| `{f.name}` | {f.type} | {f.description} |" for f in CATALOGUE[kind].values()
        )
        parts.append("")
    return "\n".join(parts)
