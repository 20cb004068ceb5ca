"""The rule codes' scheme and how an error's codes are read."""

import re

from django.core.exceptions import ValidationError

from clinic.exceptions import SchedulingConflict
from clinic.rule_codes import TAKEN, RuleCode, codes_of


def test_every_code_is_r_number_dot_slug_and_named_after_its_value():
    for code in RuleCode:
        assert re.fullmatch(r"R\d+\.[a-z_]+", code.value), code
        assert code.name == code.value.replace(".", "_").upper(), code
        assert code.rule == code.value.split(".")[0]
    assert set(TAKEN.values()) == {code for code in RuleCode if code.rule == "R1"}


def test_codes_of_reads_message_and_conflict_codes_once_and_ignores_other_codes():
    error = ValidationError(
        {
            "start": [ValidationError("Outside hours.", code=RuleCode.R2_HOURS), "No code."],
            "plan": ValidationError("Not a number.", code="invalid"),
        }
    )
    assert codes_of(error) == ["R2.hours"]
    conflict = SchedulingConflict(
        {"start": ["Session 2: …"]},
        conflicts=[{"codes": [RuleCode.R1_PATIENT, RuleCode.R5_WEEK]}, {"code": RuleCode.R1_PATIENT}],
    )
    assert codes_of(conflict) == ["R1.patient", "R5.week"]
    assert codes_of(ValidationError("Plain.", code=RuleCode.R4_COUNT)) == ["R4.count"]
