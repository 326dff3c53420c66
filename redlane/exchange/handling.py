"""The sender's handling conditions, enforced at every forward and export.

Handling binds the recipients (Directive 2016/680 Art. 9(3)): the sending agency itself may
forward and export its own message (rule `originator`). For everyone else, in this order:

- `no_forward` (Europol H2): no forward.
- `no_export`: no export.
- TLP:RED (the named recipients only): no forward, no export.
- TLP:AMBER+STRICT (the recipient's organisation only): forward only to the forwarder's own
  agency or its desks; export allowed.
- TLP:AMBER (the organisation, on need-to-know): forward to the forwarder's own agency, or to
  an agency that already holds the message (its sender or an addressee); export allowed.
- TLP:GREEN (the community) and TLP:CLEAR: forward to any agency or desk of the node; export
  allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from redlane.exchange.model import Tlp


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    """The rule that decided: `originator`, `no_forward`, `no_export`, `tlp:<level>`."""
    reason: str


def forward_decision(
    tlp: Tlp,
    no_forward: bool,
    *,
    originator: bool,
    forwarder_agency: int,
    target_agency: int,
    holders: Collection[int],
) -> Decision:
    """May a user of `forwarder_agency` forward the message to an address of `target_agency`?
    `holders` are the agencies that hold it already (its sender and addressees)."""
    if originator:
        return Decision(True, "originator", "the sending agency shares its own message")
    if no_forward:
        return Decision(False, "no_forward", "the sender allows no forward (handling H2)")
    rule = f"tlp:{tlp.value}"
    if tlp == Tlp.RED:
        return Decision(False, rule, "TLP:RED is for the named recipients only")
    own = target_agency == forwarder_agency
    if tlp == Tlp.AMBER_STRICT:
        if own:
            return Decision(True, rule, "TLP:AMBER+STRICT within the recipient's own agency")
        return Decision(False, rule, "TLP:AMBER+STRICT stays within the recipient's own agency")
    if tlp == Tlp.AMBER:
        if own or target_agency in holders:
            return Decision(True, rule, "TLP:AMBER to the own agency or one that holds it")
        return Decision(
            False,
            rule,
            "TLP:AMBER goes only to the recipient's own agency or an agency the sender addressed",
        )
    return Decision(True, rule, f"TLP:{tlp.value.upper()} may be shared in the community")


def export_decision(tlp: Tlp, no_export: bool, *, originator: bool) -> Decision:
    """May the message leave redlane (a file, a bundle)?"""
    if originator:
        return Decision(True, "originator", "the sending agency exports its own message")
    if no_export:
        return Decision(False, "no_export", "the sender allows no export")
    rule = f"tlp:{tlp.value}"
    if tlp == Tlp.RED:
        return Decision(False, rule, "TLP:RED is for the named recipients only")
    return Decision(True, rule, f"TLP:{tlp.value.upper()} allows export")
