"""The rules' stable codes (DOMAIN.md R1–R22), `R<n>.<slug>`, and the
`Problem` a check returns.

A check gives people a message and code a code: whatever reacts to a rule
(series placement, the API's error bodies, the slot finder) reads the code,
never the text, so rewording a message changes nothing else. Services raise
Django's ValidationError with each message's `code` set to one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError


class RuleCode(StrEnum):
    # R1 no double booking: the resource is taken then (a conflict, 409).
    R1_THERAPIST = "R1.therapist"
    R1_ROOM = "R1.room"
    R1_DEVICE = "R1.device"
    R1_PATIENT = "R1.patient"
    # R2 the therapist's working hours, exceptions (leave, training), closures.
    R2_HOURS = "R2.hours"
    R2_EXCEPTION = "R2.exception"
    R2_CLOSURE = "R2.closure"
    # R3 resources suited to the modality: a therapist who gives it, a room
    # set up for it, a device of its kind, in service and calibrated.
    R3_THERAPIST = "R3.therapist"
    R3_ROOM = "R3.room"
    R3_DEVICE = "R3.device"
    R3_SERVICE = "R3.service"
    R3_CALIBRATION = "R3.calibration"
    # R4 only active plans, within the authorized (or prescribed) count.
    R4_PLAN_STATUS = "R4.plan_status"
    R4_COUNT = "R4.count"
    # R5 a plan's minimum interval and sessions per calendar week.
    R5_INTERVAL = "R5.interval"
    R5_WEEK = "R5.week"
    # R6 the safety screening: recorded, recent, no contraindication.
    R6_MISSING = "R6.missing"
    R6_EXPIRED = "R6.expired"
    R6_CONTRAINDICATION = "R6.contraindication"
    # R7 parameters: each the modality needs, within device limits, in the
    # typical range unless confirmed; a medication that fits the modality.
    R7_REQUIRED = "R7.required"
    R7_LIMIT = "R7.limit"
    R7_TYPICAL = "R7.typical"
    R7_MEDICATION = "R7.medication"
    # R8 the electrode's polarity follows the drug's charge.
    R8_POLARITY = "R8.polarity"
    R8_CHARGE = "R8.charge"
    # R9 a drug session records the lot, an expiry not passed on the session
    # day, and the volume used.
    R9_LOT = "R9.lot"
    R9_EXPIRY = "R9.expiry"
    R9_EXPIRED = "R9.expired"
    R9_VOLUME = "R9.volume"
    # R16 a plan on hold treats nobody: no check-in, no delivered note, no signing.
    R16_HOLD = "R16.hold"
    # … nor at home: a home program paused for review logs no session.
    R16_HOME_PAUSED = "R16.home_paused"
    # R17 signing: only once the visit has started, with the skin and pain checks.
    R17_NOT_STARTED = "R17.not_started"
    R17_CHECKS = "R17.checks"
    # R18 billing: timed minutes within the delivered time; the daily 97033 cap;
    # a wearable patch bills the attended application minutes only.
    R18_TIMED = "R18.timed"
    R18_DAILY_CAP = "R18.daily_cap"
    R18_PATCH = "R18.patch"
    # R19 limits by patient and device.
    R19_MINOR_CURRENT = "R19.minor_current"
    R19_PATCH_WEAR = "R19.patch_wear"
    R19_TAP_WEEK = "R19.tap_week"
    R19_TAP_DAY = "R19.tap_day"
    R19_VOLUME = "R19.volume"
    R19_AUTHORIZED = "R19.authorized"
    # R20 clinical acts need the therapist role.
    R20_THERAPIST = "R20.therapist"
    # R21 maintenance (hyperhidrosis plans) and the HDSS outcome.
    R21_MODALITY = "R21.modality"
    R21_INTERVAL = "R21.interval"
    R21_HDSS = "R21.hdss"
    # R22 insurance authorizations: a visit's date falls in one that is
    # valid then with visits left; an authorization's own consistency.
    R22_NONE = "R22.none"
    R22_USED = "R22.used"
    R22_OVERLAP = "R22.overlap"
    R22_INVALID = "R22.invalid"
    # R12/R13 a patient moves a visit from the email link only outside the
    # late-cancellation window, and only to a time outside it.
    R12_PATIENT_WINDOW = "R12.patient_window"
    # R9 with stock (supplies): the drug comes from a lot on hand of that
    # drug, or the patient brought the vial; a lot never goes below zero.
    R9_SOURCE = "R9.source"
    R9_STOCK_LOT = "R9.stock_lot"
    R9_STOCK = "R9.stock"

    @property
    def rule(self) -> str:
        """The rule a code belongs to: "R5" for "R5.week"."""
        return self.value.partition(".")[0]


# R1's code for each resource a booking holds.
TAKEN = {
    "therapist": RuleCode.R1_THERAPIST,
    "room": RuleCode.R1_ROOM,
    "device": RuleCode.R1_DEVICE,
    "patient": RuleCode.R1_PATIENT,
}


@dataclass(frozen=True)
class Problem:
    """One reason a rule refuses. `field` is the form/API field it belongs
    to; `conflict` details a resource already taken (R1, answered 409)."""

    code: RuleCode
    field: str
    message: str
    conflict: dict | None = None

    def error(self) -> ValidationError:
        return ValidationError(self.message, code=self.code)


def codes_of(exc: ValidationError) -> list[str]:
    """The rule codes an error carries, each once, in order: its messages'
    codes, then those its conflicts name ("code", or "codes" per series
    occurrence)."""
    errors = (
        [e for errors in exc.error_dict.values() for e in errors]
        if hasattr(exc, "error_dict")
        else exc.error_list
    )
    found = [e.code for e in errors]
    for conflict in getattr(exc, "conflicts", None) or []:
        found += [conflict.get("code"), *conflict.get("codes", [])]
    known = set(RuleCode)
    return [str(code) for code in dict.fromkeys(found) if code in known]
